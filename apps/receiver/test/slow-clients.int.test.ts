import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { WEBHOOK_PATH } from '../src/app.js';
import { TOKENS, whatsappDocument } from './support/fixtures.js';
import { startReceiver, type TestReceiver } from './support/harness.js';
import './support/provided.js';

const HEADERS_MS = 600;
const REQUEST_MS = 1500;
const MAX_CONNECTIONS = 3;

let timed: TestReceiver;
let capped: TestReceiver;
const sockets: Socket[] = [];
const timers: NodeJS.Timeout[] = [];

beforeAll(async () => {
  const redisUrl = inject('redisUrl');
  [timed, capped] = await Promise.all([
    startReceiver({
      redisUrl,
      env: {
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
      },
    }),
    // Default timeouts: the sockets of the cap test stay open until it closes them.
    startReceiver({ redisUrl, env: { HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS) } }),
  ]);
});
afterEach(() => {
  for (const timer of timers.splice(0)) clearInterval(timer);
  for (const socket of sockets.splice(0)) socket.destroy();
});
afterAll(async () => {
  for (const receiver of [timed, capped]) {
    await receiver?.clean();
    await receiver?.close();
  }
});

type Probe = { socket: Socket; openedAt: number; closedAfter?: number; received: string };

/** A raw TCP client to the receiver, recording when the server closes it and what it said. */
async function open(receiver: TestReceiver): Promise<Probe> {
  const { port } = new URL(receiver.url);
  const socket = connect(Number(port), '127.0.0.1');
  sockets.push(socket);
  const probe: Probe = { socket, openedAt: 0, received: '' };
  socket.on('data', (chunk: Buffer) => (probe.received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => (probe.closedAfter = Date.now() - probe.openedAt));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  probe.openedAt = Date.now();
  return probe;
}

/** Writes `text` one byte every `everyMs`, as a slowloris client does. */
function trickle(probe: Probe, text: string, everyMs: number): void {
  let at = 0;
  const timer = setInterval(() => {
    if (at >= text.length || probe.socket.destroyed) return clearInterval(timer);
    probe.socket.write(text[at]!);
    at += 1;
  }, everyMs);
  timers.push(timer);
}

const closed = (probe: Probe) => expect.poll(() => probe.closedAfter, { timeout: 10_000 });

describe('slow clients are cut', () => {
  it('a connection that never sends a byte, after the headers timeout', async () => {
    const probe = await open(timed);
    await closed(probe).toBeDefined();
    expect(probe.closedAfter).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    expect(probe.closedAfter).toBeLessThan(HEADERS_MS * 3);
  });

  it('headers sent a byte at a time, after the headers timeout though bytes keep coming', async () => {
    const probe = await open(timed);
    // Never finishes: every byte comes well inside any idle timeout.
    trickle(probe, `POST ${WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(500)}`, 50);
    await closed(probe).toBeDefined();
    expect(probe.closedAfter).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    expect(probe.closedAfter).toBeLessThan(HEADERS_MS * 3);
    expect(probe.received).toMatch(/^(HTTP\/1\.1 408|$)/);
  });

  it('a body sent a byte at a time, after the request timeout, with nothing stored', async () => {
    const body = JSON.stringify(whatsappDocument({ idMessage: 'SLOWBODY' }));
    const probe = await open(timed);
    probe.socket.write(
      `POST ${WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKENS.whatsapp1}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    );
    trickle(probe, body, 50);
    await closed(probe).toBeDefined();
    expect(probe.closedAfter).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(probe.closedAfter).toBeLessThan(REQUEST_MS * 2);
    expect(probe.received).not.toMatch(/^HTTP\/1\.1 200/);
    expect(await timed.jobs()).toHaveLength(0);
  });

  it('a webhook sent at once is still answered 200', async () => {
    expect((await timed.post(whatsappDocument({ idMessage: 'FAST1' }))).status).toBe(200);
  });
});

describe('open connections are capped', () => {
  it('closes a connection over HTTP_MAX_CONNECTIONS at once, and serves again when one goes', async () => {
    const held = [];
    for (let i = 0; i < MAX_CONNECTIONS; i += 1) held.push(await open(capped));
    await expect.poll(() => connectionCount(capped)).toBe(MAX_CONNECTIONS);

    const extra = await open(capped);
    await closed(extra).toBeDefined();
    expect(extra.closedAfter).toBeLessThan(1000);
    expect(held.every((p) => p.closedAfter === undefined)).toBe(true);

    held[0]!.socket.destroy();
    await expect.poll(() => connectionCount(capped)).toBe(MAX_CONNECTIONS - 1);
    const res = await capped.post(whatsappDocument({ idMessage: 'CAPPED1' }));
    expect(res.status).toBe(200);
  });
});

function connectionCount(receiver: TestReceiver): Promise<number> {
  return new Promise((resolve, reject) =>
    receiver.server.getConnections((err, count) => (err ? reject(err) : resolve(count))),
  );
}
