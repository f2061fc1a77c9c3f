import { describe, expect, it } from 'vitest';
import {
  decodeJobIdentity,
  encodeJobIdentity,
  idInstanceOfJob,
  type JobIdentity,
} from './lost-jobs.js';
import { archiveJobId } from './job.js';

const identity: JobIdentity = {
  idInstance: '1101000001',
  kind: 'whatsapp',
  chatId: '79001234567@c.us',
  idMessage: 'BAE5F4886AE2F6E2',
  timestamp: 1764700000,
  typeWebhook: 'outgoingAPIMessageReceived',
  typeMessage: 'documentMessage',
  fileName: 'Счёт_на_оплату.pdf',
  mimeType: 'application/pdf',
  source: 'journal',
  claimedAt: 1764700123000,
};
const jobId = archiveJobId(identity.idInstance, identity.chatId, identity.idMessage);

describe('the identity the lost-job sweep records a job by', () => {
  it('reads back what it stored, the instance from the job id', () => {
    const stored = encodeJobIdentity(identity);
    expect(stored).not.toContain(identity.idInstance);
    // The mime type only matters for a file without a name (its key's extension).
    expect(decodeJobIdentity(jobId, stored)).toEqual({ ...identity, mimeType: undefined });
    const unnamed = { ...identity, fileName: undefined };
    expect(decodeJobIdentity(jobId, encodeJobIdentity(unnamed))).toEqual(unnamed);
  });

  it('keeps a webhook type it has no code for as it is, and MAX as MAX', () => {
    const odd = { ...identity, kind: 'max' as const, typeWebhook: 'someFutureWebhook' };
    expect(decodeJobIdentity(jobId, encodeJobIdentity(odd))).toMatchObject({
      kind: 'max',
      typeWebhook: 'someFutureWebhook',
    });
  });

  it('stays within its share of the 2 KiB a queued job may take', () => {
    expect(Buffer.byteLength(encodeJobIdentity(identity))).toBeLessThan(160);
  });

  it('refuses what is not one', () => {
    expect(decodeJobIdentity(jobId, 'not json')).toBeUndefined();
    expect(decodeJobIdentity(jobId, '["w"]')).toBeUndefined();
    expect(decodeJobIdentity('no-instance', encodeJobIdentity(identity))).toBeUndefined();
    expect(idInstanceOfJob(jobId)).toBe('1101000001');
  });
});
