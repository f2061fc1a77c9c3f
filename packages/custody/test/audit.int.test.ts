import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  auditDayPrefix,
  AuditRecordError,
  createCustodyStore,
  custodyRecorder,
  loadPublicKey,
  parseAuditRecord,
  parseSeal,
  sealKey,
  sealPending,
  sha256Hex,
  verifyCustody,
  writeAuditRecord,
} from '../src/index.js';
import { listObjects } from '../src/verify/listing.js';
import { custodyContext, type CustodyContext } from './helpers.js';
import { startWriteOnceProxy } from './write-once-proxy.js';

let c: CustodyContext;
afterEach(async () => c?.close());

describe('writeAuditRecord', () => {
  it('writes the record under _audit/ by day, enters it in the custody log, and the next seal lists it', async () => {
    c = custodyContext();
    const at = new Date('2026-12-02T18:40:05.123Z');
    const deps = { store: c.store, onWritten: custodyRecorder(c.log), now: () => at };
    const written = await writeAuditRecord(deps, {
      action: 'hold-set',
      actor: 'alice',
      reason: 'litigation 2026-114',
      selection: { idInstance: '1101000001', chatId: '7123@c.us' },
      result: { objects: 12 },
    });

    const listed = [];
    for await (const o of listObjects(c.s3, c.bucket, auditDayPrefix(c.prefix, at))) listed.push(o);
    expect(listed.map((o) => o.key)).toEqual([written.key]);
    const bytes = await c.store.get(written.key);
    expect(bytes && parseAuditRecord(bytes)).toMatchObject({
      action: 'hold-set',
      actor: 'alice',
      reason: 'litigation 2026-114',
      time: at.toISOString(),
    });
    expect(sha256Hex(bytes ?? '')).toBe(written.sha256);

    const pending = await c.log.pending(10);
    expect(pending.map((p) => [p.entry.key, p.entry.sha256])).toEqual([
      [written.key, written.sha256],
    ]);
    const run = await sealPending(c.sealer());
    expect(run.status === 'done' && run.sealed.map((s) => s.count)).toEqual([1]);
    const seal = parseSeal((await c.store.get(sealKey(c.prefix, 1))) ?? Buffer.alloc(0));
    expect(seal.raw.entries.map((e) => e.key)).toEqual([written.key]);

    const result = await verifyCustody({
      s3: c.s3,
      store: c.store,
      redis: c.redis,
      keys: c.keys,
      publicKey: loadPublicKey(c.signer.publicKeyPem),
      intervalMs: 60_000,
      concurrency: 2,
      now: () => Date.now() + 3_600_000,
    });
    expect(result.findings).toEqual([]);
  });

  it('is written once with the archive protection (If-None-Match, Object Lock, SSE)', async () => {
    const rec = await startWriteOnceProxy(inject('s3').endpoint);
    try {
      c = custodyContext({ endpoint: rec.url });
      const store = createCustodyStore(c.s3, {
        bucket: c.bucket,
        prefix: c.prefix,
        objectLock: { mode: 'COMPLIANCE', days: 30 },
        sse: { type: 'AES256' },
      });
      const { key } = await writeAuditRecord(
        { store, onWritten: custodyRecorder(c.log) },
        { action: 'download', actor: 'reviewer', selection: { key: `${c.prefix}x/file.pdf` } },
      );
      const puts = rec.seen.filter(
        (r) => r.method === 'PUT' && decodeURIComponent(r.path).endsWith(key),
      );
      expect(puts).toHaveLength(1);
      const put = puts[0];
      expect(put?.headers).toMatchObject({
        'if-none-match': '*',
        'x-amz-object-lock-mode': 'COMPLIANCE',
        'x-amz-server-side-encryption': 'AES256',
      });
    } finally {
      rec.close();
    }
  });

  it('refuses a record that does not parse, writing nothing', async () => {
    c = custodyContext();
    await expect(
      writeAuditRecord(
        { store: c.store, onWritten: custodyRecorder(c.log) },
        { action: 'view', actor: '', selection: {} },
      ),
    ).rejects.toBeInstanceOf(AuditRecordError);
    expect(await c.log.waiting()).toBe(0);
  });
});
