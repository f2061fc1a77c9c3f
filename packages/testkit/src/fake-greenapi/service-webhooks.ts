import type { InstanceState } from './types.js';
import { instanceData, type InstanceRef } from './webhooks.js';

/**
 * Bodies of the webhook types that never carry a file (docs/greenapi.md §4.8): the receiver must
 * still answer them 200. Deprecated WhatsApp-only types get `kind` fixed to whatsapp.
 */

export type OutgoingStatus =
  'sent' | 'delivered' | 'read' | 'failed' | 'noAccount' | 'notInGroup' | 'yellowCard';

export function outgoingMessageStatusWebhook(
  o: InstanceRef & {
    chatId: string;
    idMessage: string;
    timestamp: number;
    status: OutgoingStatus;
    sendByApi?: boolean;
    description?: string;
  },
) {
  return {
    typeWebhook: 'outgoingMessageStatus' as const,
    chatId: o.chatId,
    instanceData: instanceData(o),
    timestamp: o.timestamp,
    idMessage: o.idMessage,
    status: o.status,
    ...(o.description === undefined ? {} : { description: o.description }),
    sendByApi: o.sendByApi ?? true,
  };
}

export function stateInstanceChangedWebhook(
  o: InstanceRef & { timestamp: number; stateInstance: InstanceState },
) {
  // The account id is empty while the instance is not authorised.
  const wid = o.wid ?? (o.stateInstance === 'authorized' ? undefined : '');
  return {
    typeWebhook: 'stateInstanceChanged' as const,
    instanceData: instanceData({ ...o, wid }),
    timestamp: o.timestamp,
    stateInstance: o.stateInstance,
  };
}

export function incomingCallWebhook(
  o: Omit<InstanceRef, 'kind'> & {
    from: string;
    idMessage: string;
    timestamp: number;
    status?: 'offer' | 'pickUp' | 'hangUp' | 'missed' | 'declined';
  },
) {
  return {
    from: o.from,
    typeWebhook: 'incomingCall' as const,
    instanceData: instanceData({ ...o, kind: 'whatsapp' }),
    timestamp: o.timestamp,
    idMessage: o.idMessage,
    status: o.status ?? 'offer',
  };
}

export type QuotaData = {
  method: string;
  used: number;
  total: number;
  status: string;
  description: string;
};

export function quotaExceededWebhook(
  o: InstanceRef & { timestamp?: number; quotaData?: QuotaData },
) {
  return {
    typeWebhook: 'quotaExceeded' as const,
    instanceData: instanceData(o),
    // The documented sample has no timestamp; pass one to get it.
    ...(o.timestamp === undefined ? {} : { timestamp: o.timestamp }),
    quotaData: o.quotaData ?? {
      method: 'correspondents',
      used: 3,
      total: 3,
      status: 'CORRESPONDENTS_QUOTA_EXCEEDED',
      description: 'Monthly quota has been exceeded. You can write to 3 chats per month.',
    },
  };
}

export function deviceInfoWebhook(
  o: Omit<InstanceRef, 'kind'> & { timestamp: number; battery?: number },
) {
  return {
    typeWebhook: 'deviceInfo' as const,
    instanceData: instanceData({ ...o, kind: 'whatsapp' }),
    timestamp: o.timestamp,
    deviceData: {
      platform: 'android',
      deviceManufacturer: 'Google',
      deviceModel: 'Pixel 7',
      osVersion: '14',
      waVersion: '2.24.1.6',
      battery: o.battery ?? 80,
    },
  };
}

export function statusInstanceChangedWebhook(
  o: Omit<InstanceRef, 'kind'> & { timestamp: number; statusInstance: 'online' | 'offline' },
) {
  return {
    typeWebhook: 'statusInstanceChanged' as const,
    instanceData: instanceData({ ...o, kind: 'whatsapp' }),
    timestamp: o.timestamp,
    statusInstance: o.statusInstance,
  };
}
