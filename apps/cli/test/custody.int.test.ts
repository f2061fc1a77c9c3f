import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCustodyLog, custodyKeys } from '@archiver/custody';
import { runCli } from '../src/cli.js';
import {
  captureIo,
  createContext,
  envOf,
  putArchived,
  seconds,
  WA,
  type TestContext,
} from './helpers.js';

const pem = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const docs = readFileSync(new URL('../../../docs/custody.md', import.meta.url), 'utf8');

let ctx: TestContext;
let dir: string;
beforeEach(() => {
  ctx = createContext('custody', { SEAL_SIGNING_KEY: pem });
  dir = mkdtempSync(join(tmpdir(), 'custody-cli-'));
});
afterEach(async () => {
  await ctx.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(...argv: string[]) {
  const io = captureIo();
  const code = await runCli(argv, { ...envOf(ctx), SEAL_SIGNING_KEY: pem }, io, ctx.factory);
  return { code, ...io.text };
}

/** Enters an object already in the bucket, as the worker's store does after its write. */
async function enter(key: string) {
  const res = await ctx.deps.s3.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: key }));
  const bytes = Buffer.from(await res.Body!.transformToByteArray());
  await createCustodyLog(ctx.deps.redis, custodyKeys(ctx.queuePrefix)).record({
    key,
    versionId: null,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    time: new Date().toISOString(),
  });
}

/** Writes an object and enters it, as the worker's store does. */
async function archived(name: string, body: string) {
  const key = `${ctx.s3Prefix}${name}`;
  const bytes = Buffer.from(body);
  await ctx.deps.s3.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: key, Body: bytes }));
  await createCustodyLog(ctx.deps.redis, custodyKeys(ctx.queuePrefix)).record({
    key,
    versionId: null,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    time: new Date().toISOString(),
  });
  return { key, bytes };
}

describe('archiver seal / verify / prove', () => {
  it('seals, verifies an intact archive, then names an object deleted with its record', async () => {
    const keys = await putArchived(
      ctx,
      {
        idInstance: WA,
        kind: 'whatsapp',
        chatId: '7900@c.us',
        idMessage: 'M1',
        timestamp: seconds('2026-12-02T10:00:00Z'),
      },
      Buffer.from('pdf bytes'),
    );
    const file = { key: keys.fileKey };
    const record = { key: keys.sidecarKey };
    for (const k of [file.key, record.key]) await enter(k);
    const sealed = await run('seal');
    expect(sealed).toMatchObject({ code: 0 });
    expect(sealed.out).toMatch(/^Sealed seal 1: 2 entries, root [0-9a-f]{64}\n$/);
    expect((await run('seal')).out).toBe('Nothing to seal\n');

    const key = await run('seal', '--public-key');
    expect(key.out).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const keyFile = join(dir, 'seal-public.pem');
    writeFileSync(keyFile, key.out);

    const ok = await run('verify', '--public-key', keyFile);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.out).toContain('Custody: 1 seals (last 1), 2 sealed entries; 2 of 2 objects match');
    expect(ok.out.trimEnd().endsWith('OK')).toBe(true);

    for (const k of [file.key, record.key]) {
      await ctx.deps.s3.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: k }));
    }
    const breached = await run('verify', '--public-key', keyFile);
    expect(breached.code).toBe(1);
    expect(breached.out).toContain(`OBJECT DELETED   ${file.key} (sealed in seal 1`);
    expect(breached.out).toContain(`OBJECT DELETED   ${record.key} (sealed in seal 1`);
  });

  it('reads each file once, and still names a file that no longer matches its record', async () => {
    const keys = await putArchived(
      ctx,
      {
        idInstance: WA,
        kind: 'whatsapp',
        chatId: '7900@c.us',
        idMessage: 'M2',
        timestamp: seconds('2026-12-02T10:00:00Z'),
      },
      Buffer.from('pdf bytes'),
    );
    for (const k of [keys.fileKey, keys.sidecarKey]) await enter(k);
    await run('seal');
    const keyFile = join(dir, 'seal-public.pem');
    writeFileSync(keyFile, (await run('seal', '--public-key')).out);

    const gets: string[] = [];
    const send = ctx.deps.s3.send.bind(ctx.deps.s3);
    ctx.deps.s3.send = ((cmd: { constructor: { name: string }; input: { Key?: string } }) => {
      if (cmd.constructor.name === 'GetObjectCommand') gets.push(cmd.input.Key ?? '');
      return send(cmd as never);
    }) as typeof ctx.deps.s3.send;
    try {
      expect(await run('verify', '--public-key', keyFile)).toMatchObject({ code: 0 });
      expect(gets.filter((k) => k === keys.fileKey)).toHaveLength(1);

      await ctx.deps.s3.send(
        new PutObjectCommand({ Bucket: ctx.bucket, Key: keys.fileKey, Body: 'other bytes' }),
      );
      const res = await run('verify', '--public-key', keyFile);
      expect(res.code).toBe(1);
      expect(res.out).toContain(`MISMATCH    ${keys.fileKey}: sha256`);
      expect(res.out).toContain(`OBJECT CHANGED   ${keys.fileKey} (seal 1)`);
      expect(res.out).toContain('Verified: 0 of 1 archived files match their sidecar');
    } finally {
      ctx.deps.s3.send = send;
    }
  });

  it('says custody was not checked without a public key', async () => {
    const res = await run('verify');
    expect(res.code).toBe(0);
    expect(res.err).toContain('custody not checked: no seal public key');
  });

  it('refuses to seal without SEAL_SIGNING_KEY', async () => {
    const io = captureIo();
    const { SEAL_SIGNING_KEY: _drop, ...env } = { ...envOf(ctx), SEAL_SIGNING_KEY: '' };
    const code = await runCli(['seal'], env, io, async (config, runIo) => ({
      deps: { ...ctx.deps, ...runIo, config },
      close: async () => undefined,
    }));
    expect(code).toBe(2);
    expect(io.text.err).toContain('SEAL_SIGNING_KEY is not set');
  });

  it('rebuilds entries Redis lost with --rescan, and the seal says so', async () => {
    await archived('whatsapp/1/c/2026/12/02/M1/a.bin', 'one');
    await run('seal');
    await archived('whatsapp/1/c/2026/12/02/M2/b.bin', 'two');
    await archived('whatsapp/1/c/2026/12/02/M3/c.bin', 'three');
    await ctx.deps.redis.del(custodyKeys(ctx.queuePrefix).entries); // Redis lost them
    const res = await run('seal', '--rescan');
    expect(res.code).toBe(0);
    expect(res.out).toContain('Rescan: 3 objects in the bucket, 2 in no seal entered again');
    expect(res.out).toMatch(
      /Sealed seal 2: 2 entries, root [0-9a-f]{64}; states a rescan: 2 entries rebuilt/,
    );
  });

  it('prints a proof that the documented openssl and sha256sum commands accept', async () => {
    const objects = [];
    for (let i = 0; i < 5; i += 1) {
      objects.push(
        await archived(`whatsapp/1/c/2026/12/02/M${i}/f.bin`, `bytes of ${i}`.repeat(i + 1)),
      );
    }
    await run('seal');
    const target = objects[3]!;
    const proofDir = join(dir, 'proof');
    const res = await run('prove', target.key, '--out', proofDir);
    expect(res.code).toBe(0);
    const proof = JSON.parse(res.out) as {
      entry: string;
      index: number;
      path: unknown[];
      seal: { seq: number };
    };
    expect(proof).toMatchObject({ index: 3, seal: { seq: 1 } });
    expect(proof.path).toHaveLength(3);
    expect(JSON.parse(proof.entry)).toMatchObject({ key: target.key, size: target.bytes.length });

    const pending = await archived('whatsapp/1/c/2026/12/02/M9/f.bin', 'later');
    expect(await run('prove', pending.key)).toMatchObject({
      code: 1,
      err: expect.stringContaining('not sealed yet'),
    });

    if (!hasOpenssl) return; // the by-hand check needs openssl on the machine
    const script = /```bash\n([\s\S]*?)```/.exec(docs)?.[1];
    expect(script).toBeTruthy();
    writeFileSync(join(proofDir, 'object'), target.bytes);
    writeFileSync(join(proofDir, 'seal-public.pem'), (await run('seal', '--public-key')).out);
    const out = execFileSync('bash', ['-c', script!], { cwd: proofDir, encoding: 'utf8' });
    expect(out).toContain('Signature Verified Successfully');
    expect(out).toContain('proof holds: "seq":1');

    // the same commands refuse a changed object
    writeFileSync(join(proofDir, 'object'), Buffer.concat([target.bytes, Buffer.from('!')]));
    expect(spawnSync('bash', ['-c', script!], { cwd: proofDir }).status).not.toBe(0);
  });
});
