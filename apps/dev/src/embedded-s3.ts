import type { S3Connection } from '@archiver/testkit';
import { S3RVER_CREDENTIALS, startLocalS3 } from '@archiver/testkit';

export type EmbeddedS3 = {
  connection: S3Connection;
  dataDir: string;
  close(): Promise<void>;
};

/**
 * The testkit's s3rver (with its multipart-upload listing and abort) on a fixed port, keeping
 * its objects in `dataDir` across runs (each object is a file `<key>._S3rver_object` under
 * `<dataDir>/<bucket>/`). The bucket is created when missing.
 */
export async function startEmbeddedS3(opts: {
  dataDir: string;
  port: number;
  bucket: string;
}): Promise<EmbeddedS3> {
  const local = await startLocalS3(opts.bucket, { dataDir: opts.dataDir, port: opts.port });
  return {
    connection: {
      endpoint: local.endpoint,
      region: 'us-east-1',
      ...S3RVER_CREDENTIALS,
      bucket: opts.bucket,
    },
    dataDir: opts.dataDir,
    close: () => local.close(),
  };
}
