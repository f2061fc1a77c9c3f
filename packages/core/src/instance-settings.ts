import { settingOn, type InstanceSettings, type SettingsUpdate } from '@archiver/greenapi';
import type { InstanceConfig } from './instances.js';

/**
 * The yes/no settings the archive needs on (docs/greenapi.md §7.4, §12): without one of them a
 * kind of event never reaches the archiver, silently. `max`: whether MAX documents it; a
 * setting MAX does not document is still set when the instance's GetSettings reports it.
 */
export const ARCHIVE_SETTINGS = [
  { name: 'incomingWebhook', what: 'incoming messages and files', max: true },
  { name: 'outgoingMessageWebhook', what: 'messages sent from the phone', max: true },
  { name: 'outgoingAPIMessageWebhook', what: 'messages sent through the API', max: true },
  { name: 'outgoingWebhook', what: 'statuses of sent messages', max: true },
  { name: 'editedMessageWebhook', what: 'edits', max: true },
  { name: 'deletedMessageWebhook', what: 'deletions', max: true },
  { name: 'pollMessageWebhook', what: 'polls and votes', max: false },
  { name: 'incomingCallWebhook', what: 'incoming calls', max: false },
  { name: 'outgoingCallWebhook', what: 'outgoing calls', max: false },
  // Kept as an event of the instance (docs/conversation.md), and how a logout shows.
  { name: 'stateWebhook', what: 'authorisation changes', max: true },
] as const;

export type SettingChange = {
  field: string;
  /** Printable: a token is never shown, only whether it is this archiver's. */
  from: string;
  to: string;
};

export type SettingsPlan = {
  /** What differs, in a stable order; empty when the instance is connected. */
  changes: SettingChange[];
  /** The SetSettings body: only the fields to change, so every other setting stays. */
  update: SettingsUpdate;
};

export type SettingsTarget = {
  /** Where Green-API should post; `''` for an instance the poller serves (§7.5). */
  webhookUrl: string;
  /** The instance's webhook token; undefined: the token is not checked. */
  webhookToken: string | undefined;
};

/** The target for an instance: its delivery decides between the URL and polling. */
export function settingsTarget(
  instance: Pick<InstanceConfig, 'delivery' | 'webhookToken'>,
  webhookUrl: string,
): SettingsTarget {
  return instance.delivery === 'poll'
    ? { webhookUrl: '', webhookToken: undefined }
    : { webhookUrl, webhookToken: instance.webhookToken };
}

/**
 * The settings this instance needs on. A setting its kind does not document (or any optional
 * one, when the kind is not configured) is needed only when GetSettings reports it: sending
 * a field the instance does not know could fail the whole SetSettings.
 */
export function neededSettings(
  kind: 'whatsapp' | 'max' | undefined,
  current: InstanceSettings,
): ReadonlyArray<(typeof ARCHIVE_SETTINGS)[number]> {
  return ARCHIVE_SETTINGS.filter((s) => kind === 'whatsapp' || s.max || s.name in current);
}

/**
 * Whether the token Green-API holds is `token`. Whether Green-API sends the value as the
 * whole Authorization header or after `Bearer ` is unconfirmed (docs/greenapi.md §7.1); the
 * receiver accepts both, so a value written either way is this archiver's token.
 */
export function tokenMatches(current: string | null | undefined, token: string): boolean {
  const value = (current ?? '').trim();
  return (
    value === token || (/^bearer\s+/i.test(value) && value.replace(/^bearer\s+/i, '') === token)
  );
}

/** What must change for the instance to deliver everything to `target`. */
export function planSettings(
  current: InstanceSettings,
  target: SettingsTarget,
  kind: 'whatsapp' | 'max' | undefined,
): SettingsPlan {
  const changes: SettingChange[] = [];
  const update: SettingsUpdate = {};
  const currentUrl = current.webhookUrl ?? '';
  if (currentUrl !== target.webhookUrl) {
    changes.push({ field: 'webhookUrl', from: quote(currentUrl), to: quote(target.webhookUrl) });
    update['webhookUrl'] = target.webhookUrl;
  }
  if (
    target.webhookToken !== undefined &&
    !tokenMatches(current.webhookUrlToken, target.webhookToken)
  ) {
    changes.push({
      field: 'webhookUrlToken',
      from: current.webhookUrlToken ? `${MASK} (another token)` : '(empty)',
      to: `${MASK} (the instance's webhookToken)`,
    });
    update['webhookUrlToken'] = target.webhookToken;
  }
  for (const setting of neededSettings(kind, current)) {
    const value = current[setting.name];
    if (settingOn(value)) continue;
    changes.push({
      field: setting.name,
      from: value === undefined ? '(unset)' : String(value),
      to: 'yes',
    });
    update[setting.name] = 'yes';
  }
  return { changes, update };
}

export const MASK = '********';

/** A URL as it may be printed: a query string (where some put a secret) is not shown. */
function quote(value: string): string {
  if (value === '') return '(empty)';
  const query = value.indexOf('?');
  return query === -1 ? value : `${value.slice(0, query)}?…`;
}
