import { classifyWebhook } from '@archiver/greenapi';
import { jobFromWebhook, objectKeys, type ArchiveJob } from '@archiver/core';
import { fileWebhook, type FakeGreenApi, type FileMessageType } from '@archiver/testkit';

export type FileCase = {
  kind: 'whatsapp' | 'max';
  idInstance: string;
  typeMessage: FileMessageType;
  typeWebhook?:
    'incomingMessageReceived' | 'outgoingMessageReceived' | 'outgoingAPIMessageReceived';
  chatId: string;
  idMessage: string;
  fileName?: string;
  mimeType?: string;
  size?: number;
  bytes?: Buffer;
  timestamp?: number;
  downloadUrl?: string;
  /** Also in the fake's journal of this direction (what the backfill reads). */
  direction?: 'incoming' | 'outgoing';
};

/** Puts a file in the fake Green-API and returns the archive job its webhook would produce. */
export function fileJob(fake: FakeGreenApi, c: FileCase) {
  const timestamp = c.timestamp ?? Math.floor(Date.now() / 1000);
  const added = fake.addFile({ ...c, timestamp });
  const hook = fileWebhook({
    ...c,
    timestamp,
    downloadUrl: c.downloadUrl ?? added.downloadUrl,
    fileName: c.fileName ?? added.fileName,
    mimeType: c.mimeType ?? added.mimeType,
  });
  const body: unknown = JSON.parse(JSON.stringify(hook));
  const result = classifyWebhook(body);
  if (result.kind !== 'file') {
    throw new Error(`fixture is not a file webhook: ${JSON.stringify(result)}`);
  }
  const data: ArchiveJob = jobFromWebhook(body, result.webhook, c.kind, 'webhook');
  return { data, added, hook };
}

export function keysOf(prefix: string, data: ArchiveJob) {
  return objectKeys({ prefix, ...data });
}
