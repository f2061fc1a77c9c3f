import { Readable } from 'node:stream';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware, MetadataBearer } from '@smithy/types';
import type { S3Config } from './config.js';

export type S3Timeouts = {
  /** To open a connection. */
  connectionTimeout: number;
  /** Of silence on an open connection: nothing sent and nothing received. */
  socketTimeout: number;
};

/**
 * The SDK's own defaults wait forever on an S3 that accepts a connection and never answers
 * (a black-holed endpoint, a hung proxy), and a job waiting on it would hold its worker
 * place for good. The socket timeout counts silence, not the whole request, so an upload
 * that keeps moving is never cut, however large. A timed-out request is retried by the SDK,
 * then the job by BullMQ's backoff.
 */
export const S3_TIMEOUTS: S3Timeouts = { connectionTimeout: 10_000, socketTimeout: 60_000 };

/**
 * One S3 client per process. Credentials come from the standard AWS SDK chain. Checksums
 * are sent on every upload (`WHEN_SUPPORTED`) so S3 verifies the bytes it stores, and over
 * HTTPS the body is not hashed a second time for the signature (`unsignedPayloadOverHttps`).
 */
export function createS3Client(
  config: S3Config,
  overrides: Partial<S3ClientConfig> = {},
  timeouts: S3Timeouts = S3_TIMEOUTS,
): S3Client {
  const client = new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    requestChecksumCalculation: 'WHEN_SUPPORTED',
    responseChecksumValidation: 'WHEN_SUPPORTED',
    requestHandler: timeouts,
    ...overrides,
  });
  unsignedPayloadOverHttps(client);
  slicedBodiesOverHttps(client);
  return client;
}

const PAYLOAD_HASH_HEADER = 'x-amz-content-sha256';

/** The parts of the SDK's HttpRequest this module reads (its type lives in an SDK internal). */
type OutgoingRequest = { protocol: string; headers: Record<string, string>; body: unknown };

/**
 * SigV4 signs a request body by its SHA-256 unless told `UNSIGNED-PAYLOAD`. Over HTTPS this
 * client says so, as AWS's own SDKs do for S3 over TLS (Java: payload signing off by default):
 * TLS already guards the bytes in transit and S3 verifies the CRC32 checksum every upload
 * carries (the signature still covers that checksum header). It spares a second SHA-256 pass
 * over every uploaded byte, which the worker already makes once for the sidecar; on a CPU
 * without SHA instructions that pass costs about 4 s of CPU per GiB (BENCHMARKS.md). Over plain
 * HTTP the body stays signed: there nothing else would stop a changed body.
 */
function unsignedPayloadOverHttps(client: S3Client): void {
  const middleware: FinalizeRequestMiddleware<object, MetadataBearer> = (next) => async (args) => {
    const request = args.request as Partial<OutgoingRequest>;
    if (
      request.protocol === 'https:' &&
      request.headers &&
      hashedBySigner(request.body) &&
      !Object.keys(request.headers).some((h) => h.toLowerCase() === PAYLOAD_HASH_HEADER)
    ) {
      request.headers[PAYLOAD_HASH_HEADER] = 'UNSIGNED-PAYLOAD';
    }
    return next(args);
  };
  client.middlewareStack.addRelativeTo(middleware, {
    name: 'unsignedPayloadOverHttps',
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
  });
}

/** The bodies SigV4 would hash (a stream is already sent unsigned, or with a trailer). */
function hashedBySigner(body: unknown): boolean {
  return typeof body === 'string' || ArrayBuffer.isView(body) || body instanceof ArrayBuffer;
}

/** How much of a body is handed to TLS at a time. */
const SLICE_BYTES = 64 * 1024;

/**
 * A request body given as one buffer is written to the socket with one `end(buffer)`, and
 * Node's TLS encrypts all of it at once and holds the ciphertext until the socket drains: an
 * 8 MiB part took another 8 MiB while it was sent (over HTTPS a worker took about 30 MiB more
 * per large file than over plain HTTP, BENCHMARKS.md). Sent as a stream of 64 KiB slices, TLS
 * encrypts what the socket takes. The swap happens after signing, on the request of this
 * attempt only: the SDK still sees a buffer, so it still retries a failed part (it never
 * retries a streamed body), and signing, where the body is signed, still hashes the buffer.
 */
function slicedBodiesOverHttps(client: S3Client): void {
  const middleware: FinalizeRequestMiddleware<object, MetadataBearer> = (next) => async (args) => {
    const request = args.request as Partial<OutgoingRequest>;
    const body = request.body;
    if (
      request.protocol === 'https:' &&
      body instanceof Uint8Array &&
      body.byteLength > SLICE_BYTES
    ) {
      request.body = Readable.from(slices(body), { objectMode: false });
    }
    return next(args);
  };
  client.middlewareStack.addRelativeTo(middleware, {
    name: 'slicedBodiesOverHttps',
    relation: 'after',
    toMiddleware: 'httpSigningMiddleware',
  });
}

function* slices(body: Uint8Array): Generator<Buffer> {
  for (let offset = 0; offset < body.byteLength; offset += SLICE_BYTES) {
    const length = Math.min(SLICE_BYTES, body.byteLength - offset);
    yield Buffer.from(body.buffer, body.byteOffset + offset, length);
  }
}
