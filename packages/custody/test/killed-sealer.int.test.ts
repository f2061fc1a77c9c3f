import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { parseSeal, readHead, sealKey, sealPending, sha256Hex } from '../src/index.js';
import { custodyContext, type CustodyContext } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

let c: CustodyContext;
afterEach(async () => c?.close());

describe('a sealer process killed mid-seal', () => {
  it('leaves no gap and no fork: after its lock expires the next sealer takes its seal over and seals on', async () => {
    c = custodyContext();
    await c.put('k/1', 'one');
    await c.put('k/2', 'two');
    const s3 = inject('s3');
    const child = spawn(
      process.execPath,
      [
        '--conditions=@archiver/source',
        '--import',
        'tsx',
        'packages/custody/test/fixtures/seal-then-die.ts',
      ],
      {
        cwd: root,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          PATH: process.env.PATH ?? '',
          CUSTODY_TEST: JSON.stringify({
            redisUrl: inject('redisUrl'),
            s3,
            prefix: c.prefix,
            queuePrefix: c.queuePrefix,
            keyPem: c.signerPem,
            lockTtlMs: 1500,
          }),
        },
      },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect(signal, stderr).toBe('SIGKILL');

    // What it left: seal 1 stored, the head not moved, the entries still in Redis, the lock held.
    expect(await c.store.exists(sealKey(c.prefix, 1))).toBe(true);
    expect(await readHead(c.redis, c.keys)).toBeUndefined();
    expect(await c.log.waiting()).toBe(2);
    expect(await sealPending(c.sealer())).toEqual({ status: 'busy' });

    await c.put('k/3', 'three');
    let run = await sealPending(c.sealer());
    await expect
      .poll(
        async () => {
          if (run.status === 'busy') run = await sealPending(c.sealer());
          return run.status;
        },
        { timeout: 10_000, interval: 200 },
      )
      .toBe('done');
    expect(run).toMatchObject({ adopted: [1] });
    expect(run.status === 'done' && run.sealed.map((s) => s.count)).toEqual([1]);
    const one = (await c.store.get(sealKey(c.prefix, 1)))!;
    const two = parseSeal((await c.store.get(sealKey(c.prefix, 2)))!);
    expect(parseSeal(one).raw.entries.map((e) => e.key)).toEqual([
      `${c.prefix}k/1`,
      `${c.prefix}k/2`,
    ]);
    expect(two.raw.entries.map((e) => e.key)).toEqual([`${c.prefix}k/3`]);
    expect(two.statement.prev).toBe(sha256Hex(one));
    expect(await c.log.waiting()).toBe(0);
  });
});
