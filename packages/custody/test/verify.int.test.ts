import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  createSigner,
  describeCustodyFinding,
  loadPublicKey,
  parseSeal,
  sealBytes,
  sealKey,
  sealPending,
  verifyCustody,
  type CustodyFinding,
} from '../src/index.js';
import { custodyContext, newKeyPem, type CustodyContext } from './helpers.js';
import { startVersioningProxy } from './versioning-proxy.js';

let c: CustodyContext;
afterEach(async () => c?.close());

const HOUR = 3_600_000;

/** Three seals over six objects (a file and its sidecar per message). */
async function archive(opts: { endpoint?: string } = {}) {
  c = custodyContext(opts);
  const keys: string[] = [];
  for (let s = 0; s < 3; s += 1) {
    for (const m of [0, 1]) {
      keys.push(await c.put(`wa/1/chat/2026/12/02/M${s}${m}/file.bin`, `bytes ${s}${m}`));
      keys.push(await c.put(`wa/1/chat/2026/12/02/M${s}${m}/message.json`, `{"m":"${s}${m}"}`));
    }
    await sealPending(c.sealer());
  }
  return keys;
}

/** As `archiver verify` runs it an hour later (objects older than one interval must be sealed). */
async function verify(opts: { publicKeyPem?: string; intervalMs?: number } = {}) {
  return verifyCustody({
    s3: c.s3,
    store: c.store,
    redis: c.redis,
    keys: c.keys,
    publicKey: loadPublicKey(opts.publicKeyPem ?? c.signer.publicKeyPem),
    intervalMs: opts.intervalMs ?? 60_000,
    concurrency: 4,
    now: () => Date.now() + HOUR,
  });
}

const problems = (findings: CustodyFinding[]) =>
  findings.map((f) => [f.problem, 'key' in f ? f.key : `seal ${f.seq}`]);

async function rewriteSeal(seq: number, edit: (text: string) => string) {
  const key = sealKey(c.prefix, seq);
  const bytes = (await c.store.get(key))!;
  await c.putRaw(key, edit(bytes.toString()));
}

describe('verify: chain of custody', () => {
  it('passes an intact archive', async () => {
    const keys = await archive();
    const result = await verify();
    expect(result.findings).toEqual([]);
    expect(result).toMatchObject({ objects: keys.length, sealedObjects: keys.length });
    expect(result.chain).toMatchObject({ seals: 3, entries: keys.length, lastSeq: 3 });
  });

  it('names an object deleted together with its sidecar', async () => {
    const keys = await archive();
    await c.remove(keys[0]!);
    await c.remove(keys[1]!);
    expect(problems((await verify()).findings)).toEqual([
      ['object_missing', keys[0]],
      ['object_missing', keys[1]],
    ]);
  });

  it('names an object rewritten after it was sealed, with both digests', async () => {
    const keys = await archive();
    await c.putRaw(keys[4]!, 'other bytes');
    const { findings } = await verify();
    expect(problems(findings)).toEqual([['object_changed', keys[4]]]);
    expect(findings[0]).toMatchObject({ seq: 2, actual: { size: 11 } });
  });

  it('names a seal removed from the middle of the chain', async () => {
    await archive();
    await c.remove(sealKey(c.prefix, 2));
    const { findings } = await verify();
    // the seal is gone, and with it the only proof its objects were archived
    expect(findings.filter((f) => f.problem.startsWith('seal'))).toEqual([
      { problem: 'seal_missing', seq: 2, detail: 'not in the bucket' },
    ]);
    expect(findings.filter((f) => f.problem === 'object_unsealed')).toHaveLength(4);
  });

  it('names the newest seal deleted, from the head Redis keeps', async () => {
    await archive();
    await c.remove(sealKey(c.prefix, 3));
    const { findings } = await verify();
    expect(findings[0]).toMatchObject({ problem: 'seal_missing', seq: 3 });
  });

  it('names an edited seal: an entry dropped, and the signature re-made with another key', async () => {
    const keys = await archive();
    // drop the first entry of seal 2: the root no longer matches
    await rewriteSeal(2, (t) => t.replace(/\n\{[^\n]*\},\n/, '\n'));
    let found = problems((await verify()).findings);
    expect(found).toContainEqual(['seal_root', 'seal 2']);
    expect(found).toContainEqual(['chain_broken', 'seal 3']); // seal 3 names the original seal 2
    expect(found).toContainEqual(['object_unsealed', keys[4]]);

    // an intruder re-signs seal 2 with a key of their own: the statement is theirs now
    const intruder = createSigner(newKeyPem());
    await rewriteSeal(2, (t) => {
      const seal = parseSeal(t);
      const statement = JSON.stringify({ ...seal.statement, keyId: intruder.keyId });
      return sealBytes(statement, intruder.sign(statement), []).toString();
    });
    found = problems((await verify()).findings);
    expect(found).toContainEqual(['seal_signature', 'seal 2']);
  });

  it('names seals signed with another key', async () => {
    await archive();
    const { findings } = await verify({ publicKeyPem: createSigner(newKeyPem()).publicKeyPem });
    expect(findings.map((f) => f.problem)).toEqual([
      'seal_signature',
      'seal_signature',
      'seal_signature',
    ]);
    expect(findings[0]).toMatchObject({ detail: expect.stringMatching(/signed with another key/) });
  });

  it('names an old object in no seal, and lets a young or waiting one be', async () => {
    await archive();
    const intruded = `${c.prefix}wa/1/chat/2026/12/02/X/file.bin`;
    await c.putRaw(intruded, 'never entered');
    const waiting = await c.put('wa/1/chat/2026/12/02/Y/file.bin', 'entered, not sealed yet');
    expect(problems((await verify()).findings)).toEqual([['object_unsealed', intruded]]);
    // within one interval of being written, an unsealed object is not a breach yet
    expect((await verify({ intervalMs: 2 * HOUR })).findings).toEqual([]);
    expect(waiting).toBeTruthy();
  });

  it('names a seal that is not a seal', async () => {
    await archive();
    await c.s3.send(
      new PutObjectCommand({ Bucket: c.bucket, Key: sealKey(c.prefix, 2), Body: 'garbage' }),
    );
    const { findings } = await verify();
    expect(findings[0]).toMatchObject({ problem: 'seal_unreadable', seq: 2 });
  });
});

describe('verify: a versioned bucket', () => {
  let proxy: Awaited<ReturnType<typeof startVersioningProxy>> | undefined;
  afterEach(() => proxy?.close());

  async function versioned() {
    proxy = await startVersioningProxy(inject('s3').endpoint);
    return archive({ endpoint: proxy.url });
  }

  it('seals the version each write made, and passes while the bucket serves those', async () => {
    await versioned();
    const { entries } = parseSeal((await c.store.get(sealKey(c.prefix, 1)))!).raw;
    expect(entries.map((e) => e.versionId)).toEqual(entries.map((e) => proxy!.versionOf(e.key)));
    expect(entries.every((e) => /^v\d{6}$/.test(e.versionId ?? ''))).toBe(true);
    expect((await verify()).findings).toEqual([]);
  });

  it('names a new version of the same bytes put over a sealed one', async () => {
    const keys = await versioned();
    const sealed = proxy!.versionOf(keys[2]!);
    await c.putRaw(keys[2]!, 'bytes 01');
    const { findings } = await verify();
    expect(findings).toEqual([
      {
        problem: 'object_replaced',
        key: keys[2],
        seq: 1,
        sealedVersionId: sealed,
        actualVersionId: proxy!.versionOf(keys[2]!),
      },
    ]);
    expect(describeCustodyFinding(findings[0]!)).toMatch(/^OBJECT REPLACED .* sealed v\d{6}/);
  });

  it('names a rewrite with the sealed version to read the original by', async () => {
    const keys = await versioned();
    const sealed = proxy!.versionOf(keys[4]!);
    await c.putRaw(keys[4]!, 'other bytes');
    const [finding, ...rest] = (await verify()).findings;
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      problem: 'object_changed',
      key: keys[4],
      sealed: { versionId: sealed },
      actual: { versionId: proxy!.versionOf(keys[4]!), size: 11 },
    });
    expect(describeCustodyFinding(finding!)).toContain(
      `sealed version ${sealed} may still be read`,
    );
  });
});
