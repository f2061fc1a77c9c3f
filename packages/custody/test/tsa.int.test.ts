import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTimestamper, parseSeal, sealKey, sealPending, timestampKey } from '../src/index.js';
import { custodyContext, type CustodyContext } from './helpers.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

const TS_CONFIG = `
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = .
serial = ./serial
crypto_device = builtin
signer_cert = ./tsa.crt
signer_key = ./tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`;

/**
 * A local RFC 3161 authority made for the test: a self-signed time-stamping certificate and
 * `openssl ts -reply` behind an HTTP endpoint, which can be taken down.
 */
async function startTsa() {
  const dir = mkdtempSync(join(tmpdir(), 'tsa-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'tsa.key',
      '-out',
      'tsa.crt',
      '-subj',
      '/CN=test-tsa',
      '-days',
      '1',
      '-addext',
      'extendedKeyUsage=critical,timeStamping',
    ],
    { cwd: dir, stdio: 'ignore' },
  );
  writeFileSync(join(dir, 'serial'), '01\n');
  writeFileSync(join(dir, 'ts.cnf'), TS_CONFIG);
  const state = { up: true, requests: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.requests += 1;
      if (!state.up || req.headers['content-type'] !== 'application/timestamp-query') {
        res.writeHead(503).end();
        return;
      }
      writeFileSync(join(dir, 'q.tsq'), Buffer.concat(chunks));
      execFileSync(
        'openssl',
        ['ts', '-reply', '-config', 'ts.cnf', '-queryfile', 'q.tsq', '-out', 'r.tsr'],
        {
          cwd: dir,
          stdio: 'ignore',
        },
      );
      res.writeHead(200, { 'content-type': 'application/timestamp-reply' });
      res.end(readFileSync(join(dir, 'r.tsr')));
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`,
    dir,
    state,
    close() {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe.runIf(hasOpenssl)('RFC 3161 timestamps of seal roots', () => {
  let tsa: Awaited<ReturnType<typeof startTsa>>;
  let c: CustodyContext;
  beforeAll(async () => {
    tsa = await startTsa();
  });
  afterAll(async () => {
    await c?.close();
    tsa?.close();
  });

  /** `openssl ts -verify` of a stored token against the seal's root and the TSA's certificate. */
  async function opensslAccepts(seq: number): Promise<boolean> {
    const token = await c.store.get(timestampKey(c.prefix, seq));
    const seal = parseSeal((await c.store.get(sealKey(c.prefix, seq)))!);
    if (!token) return false;
    writeFileSync(join(tsa.dir, 'seal.tsr'), token);
    const verify = spawnSync(
      'openssl',
      ['ts', '-verify', '-digest', seal.statement.root, '-in', 'seal.tsr', '-CAfile', 'tsa.crt'],
      { cwd: tsa.dir, encoding: 'utf8' },
    );
    return verify.status === 0 && verify.stdout.includes('Verification: OK');
  }

  it('stores a token beside the seal that openssl verifies against the root; the token is entered in the log', async () => {
    c = custodyContext();
    await c.put('t/1', 'one');
    const run = await sealPending(c.sealer({ timestamper: createTimestamper(tsa.url) }));
    expect(run).toMatchObject({ status: 'done', timestamped: [1] });
    expect(await opensslAccepts(1)).toBe(true);
    const pending = await c.log.pending(10);
    expect(pending.map((p) => p.entry.key)).toEqual([timestampKey(c.prefix, 1)]);
    expect(await c.redis.smembers(c.keys.tsaPending)).toEqual([]);
  });

  it('a TSA that is down delays the timestamp, never the seal', async () => {
    await c.close();
    c = custodyContext();
    const failures: number[] = [];
    const sealer = c.sealer({
      timestamper: createTimestamper(tsa.url),
      onTimestampFailed: (seq) => failures.push(seq),
    });
    tsa.state.up = false;
    await c.put('d/1', 'one');
    const first = await sealPending(sealer);
    expect(first).toMatchObject({ status: 'done', timestamped: [] });
    expect(first.status === 'done' && first.sealed.map((s) => s.seq)).toEqual([1]);
    expect(failures).toEqual([1]);
    expect(await c.store.exists(timestampKey(c.prefix, 1))).toBe(false);

    tsa.state.up = true;
    const second = await sealPending(sealer);
    expect(second).toMatchObject({ status: 'done', sealed: [], timestamped: [1] });
    expect(await opensslAccepts(1)).toBe(true);
  });
});
