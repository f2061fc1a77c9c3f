import { randomBytes } from 'node:crypto';
import type { Timestamper } from './sealer.js';

/**
 * An RFC 3161 client small enough to need no ASN.1 library: the request is fixed DER
 * around the 32-byte root (SHA-256 is the imprint's algorithm: the root is one), with a
 * nonce and certReq so the reply carries the TSA's certificate. The reply is stored as it
 * came; here it is only checked to be granted and to carry the root and the nonce — its
 * signature is checked by whoever verifies (`openssl ts -verify`, docs/custody.md).
 */
export function createTimestamper(url: string, opts: { timeoutMs?: number } = {}): Timestamper {
  return async (root) => {
    if (root.length !== 32) throw new Error('a seal root is 32 bytes');
    const nonce = randomBytes(8);
    nonce[0] = ((nonce[0] ?? 0) & 0x7f) | 0x01; // positive and minimal DER
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: timeStampRequest(root, nonce),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
    if (!res.ok) throw new TsaError(`TSA answered HTTP ${res.status}`);
    const reply = Buffer.from(await res.arrayBuffer());
    checkReply(reply, root, nonce);
    return reply;
  };
}

export class TsaError extends Error {
  override name = 'TsaError';
}

const SHA256_ALGORITHM = Buffer.from('300d06096086480165030402010500', 'hex');

function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length = n < 128 ? Buffer.from([n]) : Buffer.from([0x81, n]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

/** TimeStampReq ::= SEQUENCE { version 1, messageImprint, nonce, certReq TRUE }. */
export function timeStampRequest(root: Buffer, nonce: Buffer): Buffer {
  const imprint = der(0x30, Buffer.concat([SHA256_ALGORITHM, der(0x04, root)]));
  return der(
    0x30,
    Buffer.concat([
      Buffer.from([0x02, 0x01, 0x01]),
      imprint,
      der(0x02, nonce),
      Buffer.from([0x01, 0x01, 0xff]),
    ]),
  );
}

/** Reads a DER header at `at`: where the content starts and how long it is. */
function header(buf: Buffer, at: number): { start: number; length: number } {
  const first = buf[at + 1] ?? 0;
  if (first < 0x80) return { start: at + 2, length: first };
  const bytes = first & 0x7f;
  let length = 0;
  for (let i = 0; i < bytes; i += 1) length = length * 256 + (buf[at + 2 + i] ?? 0);
  return { start: at + 2 + bytes, length };
}

/** TimeStampResp ::= SEQUENCE { status PKIStatusInfo { status INTEGER, … }, token }. */
function checkReply(reply: Buffer, root: Buffer, nonce: Buffer) {
  if (reply[0] !== 0x30) throw new TsaError('TSA reply is not DER');
  const outer = header(reply, 0);
  const statusInfo = header(reply, outer.start);
  const status = header(reply, statusInfo.start);
  const granted =
    reply[statusInfo.start] === 0x02 && status.length === 1 && (reply[status.start] ?? 9) <= 1;
  if (!granted) throw new TsaError('TSA refused the request');
  if (!reply.includes(root)) throw new TsaError('TSA reply does not carry the seal root');
  if (!reply.includes(der(0x02, nonce))) throw new TsaError('TSA reply does not carry our nonce');
}
