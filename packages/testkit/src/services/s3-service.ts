import {
  CreateBucketCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { makeTempDir, pickRuntime, type ServiceRuntime } from './runtime.js';
import { S3RVER_CREDENTIALS, startLocalS3 } from './s3rver-local.js';

/** Plain data, so vitest can `provide` it to test workers. */
export type S3Connection = {
  endpoint: string;
  region: 'us-east-1';
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  /**
   * PEM file of the self-signed certificate an HTTPS test server uses (`startS3({ tls })`).
   * s3ClientConfig trusts it; a spawned process is told with NODE_EXTRA_CA_CERTS.
   */
  caFile?: string;
};

export type S3Service = S3Connection & {
  /** The same fields as plain data: to `provide`, or to pass to another process as JSON. */
  connection: S3Connection;
  runtime: ServiceRuntime;
  /** s3rver's data directory (local runtime only), for post-mortem inspection. */
  dataDir?: string;
  stop(): Promise<void>;
  /** One shared client configured with s3ClientConfig; destroyed by stop(). */
  client(): S3Client;
};

export type StartS3Options = {
  bucket?: string;
  runtime?: ServiceRuntime;
  /** MinIO image for the container runtime. */
  image?: string;
  /**
   * Serve HTTPS with a certificate made for this run, as S3 itself is reached in production.
   * Always the in-process s3rver, container runtime or not: its certificate names 127.0.0.1.
   */
  tls?: boolean;
};

const MINIO_USER = 'minioadmin';
const MINIO_PASSWORD = 'minioadmin';

/**
 * Client settings that work against MinIO, s3rver and AWS alike. s3rver stores aws-chunked
 * request bodies verbatim (framing + CRC32 trailer end up in the object), which SDK v3 sends
 * for streamed bodies under the default `requestChecksumCalculation: 'WHEN_SUPPORTED'`;
 * 'WHEN_REQUIRED' sends plain bodies. Path style: there is no DNS for bucket subdomains.
 */
export function s3ClientConfig(conn: S3Connection): S3ClientConfig {
  return {
    endpoint: conn.endpoint,
    region: conn.region,
    forcePathStyle: true,
    credentials: { accessKeyId: conn.accessKeyId, secretAccessKey: conn.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    ...(conn.caFile
      ? { requestHandler: { httpsAgent: new Agent({ ca: readFileSync(conn.caFile) }) } }
      : {}),
  };
}

export async function startS3(opts: StartS3Options = {}): Promise<S3Service> {
  const bucket = opts.bucket ?? 'archiver-test';
  const runtime = opts.tls ? 'local' : await pickRuntime(opts.runtime);
  const started =
    runtime === 'container'
      ? await startMinio(bucket, opts.image)
      : await startS3rver(bucket, opts.tls ?? false);
  let client: S3Client | undefined;
  return {
    ...started.conn,
    connection: started.conn,
    runtime,
    ...(started.dataDir ? { dataDir: started.dataDir } : {}),
    client() {
      client ??= new S3Client(s3ClientConfig(started.conn));
      return client;
    },
    async stop() {
      client?.destroy();
      await started.stop();
    },
  };
}

type Started = { conn: S3Connection; dataDir?: string; stop(): Promise<void> };

async function startS3rver(bucket: string, tls: boolean): Promise<Started> {
  const certificate = tls ? await makeCertificate() : undefined;
  const local = await startLocalS3(bucket, certificate ? { tls: certificate } : {});
  return {
    conn: {
      endpoint: local.endpoint,
      region: 'us-east-1',
      ...S3RVER_CREDENTIALS,
      bucket,
      ...(certificate ? { caFile: certificate.file } : {}),
    },
    dataDir: local.dataDir,
    async stop() {
      await local.close();
      if (certificate) await rm(certificate.dir, { recursive: true, force: true });
    },
  };
}

/** A self-signed certificate for 127.0.0.1, valid for a day, its PEM written to a file. */
async function makeCertificate() {
  const made = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(Date.now() + 86_400_000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const dir = await makeTempDir('tls');
  const file = join(dir, 'ca.pem');
  await writeFile(file, made.cert);
  return { key: made.private, cert: made.cert, file, dir };
}

async function startMinio(bucket: string, image = 'minio/minio:latest'): Promise<Started> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(image)
    .withEnvironment({ MINIO_ROOT_USER: MINIO_USER, MINIO_ROOT_PASSWORD: MINIO_PASSWORD })
    .withCommand(['server', '/data'])
    .withExposedPorts(9000)
    .withWaitStrategy(Wait.forHttp('/minio/health/live', 9000))
    .start();
  const conn: S3Connection = {
    endpoint: `http://${container.getHost()}:${container.getMappedPort(9000)}`,
    region: 'us-east-1',
    accessKeyId: MINIO_USER,
    secretAccessKey: MINIO_PASSWORD,
    bucket,
  };
  const admin = new S3Client(s3ClientConfig(conn));
  try {
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    admin.destroy();
  }
  return {
    conn,
    async stop() {
      await container.stop();
    },
  };
}

/** Every key under `prefix`, sorted (follows continuation tokens). */
export async function listAllKeys(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** Whole object in memory: meant for the small files tests read back. */
export async function getObjectBytes(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!out.Body) throw new Error(`object ${key} has no body`);
  return Buffer.from(await out.Body.transformToByteArray());
}

export type MultipartUploadInfo = { key: string; uploadId: string; initiated?: Date };

/**
 * In-progress (neither completed nor aborted) multipart uploads under `prefix`, through the
 * S3 ListMultipartUploads API. MinIO implements it; for s3rver the testkit's front handler
 * answers it from s3rver's upload directory (see s3rver-local.ts). An empty array proves no
 * multipart upload was left dangling.
 */
export async function listMultipartUploads(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<MultipartUploadInfo[]> {
  const uploads: MultipartUploadInfo[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    );
    for (const u of page.Uploads ?? []) {
      if (!u.Key || !u.UploadId) continue;
      uploads.push({
        key: u.Key,
        uploadId: u.UploadId,
        ...(u.Initiated ? { initiated: u.Initiated } : {}),
      });
    }
    if (!page.IsTruncated) return uploads;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}
