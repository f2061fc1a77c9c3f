import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createS3Client } from './s3-client.js';

describe('S3 client', () => {
  it('gives up on an S3 that accepts a connection and never answers', async () => {
    const sockets: Socket[] = [];
    // Reads every request and answers none: a black-holed endpoint or a hung proxy.
    const silent = createServer((socket) => {
      sockets.push(socket);
      socket.resume();
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as AddressInfo;
    const client = createS3Client(
      {
        bucket: 'archive',
        prefix: '',
        region: 'us-east-1',
        forcePathStyle: true,
        endpoint: `http://127.0.0.1:${port}`,
      },
      { credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 },
      { connectionTimeout: 1000, socketTimeout: 300 },
    );
    try {
      await expect(
        client.send(new PutObjectCommand({ Bucket: 'archive', Key: 'k', Body: 'x' })),
      ).rejects.toMatchObject({ name: 'TimeoutError' });
      // The request did reach the server: it was the silence that ended it.
      expect(sockets).toHaveLength(1);
    } finally {
      client.destroy();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});
