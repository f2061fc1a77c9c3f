import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { S3Connection } from '@archiver/testkit';
import { closeNow, listenOn } from './ports.js';
import { S3RVER_CREDENTIALS } from './settings.js';

export type EmbeddedS3 = {
  connection: S3Connection;
  dataDir: string;
  close(): Promise<void>;
};

type S3rverApp = {
  configureBuckets(): Promise<unknown>;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
};
type S3rverCtor = new (options: {
  silent: boolean;
  directory: string;
  configureBuckets: Array<{ name: string }>;
}) => S3rverApp;

/**
 * s3rver in-process on a fixed port, keeping its objects in `dataDir` across runs (each
 * object is a file `<key>._S3rver_object` under `<dataDir>/<bucket>/`). The testkit's
 * startS3() always uses a temporary directory and a random port, so this starts s3rver
 * itself. s3rver is a dependency of @archiver/testkit, not of this app, so it is resolved
 * from there; listing it in this app's dependencies would make that detour unnecessary.
 */
export async function startEmbeddedS3(opts: {
  dataDir: string;
  port: number;
  bucket: string;
}): Promise<EmbeddedS3> {
  await mkdir(opts.dataDir, { recursive: true });
  const require = createRequire(import.meta.resolve('@archiver/testkit'));
  const S3rver = require('s3rver') as S3rverCtor;
  const app = new S3rver({
    silent: true,
    directory: opts.dataDir,
    configureBuckets: [{ name: opts.bucket }],
  });
  // Creates the bucket when missing; an existing one keeps its objects.
  await app.configureBuckets();
  const server = createServer(app.callback());
  await listenOn(server, opts.port, '127.0.0.1');
  return {
    connection: {
      endpoint: `http://127.0.0.1:${opts.port}`,
      region: 'us-east-1',
      ...S3RVER_CREDENTIALS,
      bucket: opts.bucket,
    },
    dataDir: opts.dataDir,
    close: () => closeNow(server),
  };
}
