import { createHash } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { sidecarSchema, type Sidecar } from '@archiver/core';
import { getObjectBytes, listAllKeys, s3ClientConfig, type AddedFile } from '@archiver/testkit';
import type { DemoCase } from './demo-cases.js';
import type { DevState } from './state.js';

export type DemoClient = ReturnType<typeof createDemoClient>;

/** The demo's view of a running `dev`: the simulator's control API, the receiver, the S3. */
export function createDemoClient(state: DevState) {
  const s3 = new S3Client(s3ClientConfig(state.s3));
  const bucket = state.s3.bucket;

  return {
    async isUp(): Promise<boolean> {
      try {
        return (await fetch(`${state.receiverUrl}/readyz`, { signal: AbortSignal.timeout(2000) }))
          .ok;
      } catch {
        return false;
      }
    },

    /** Puts the message's file (and its fault script) into the simulator. */
    async addFile(demo: DemoCase): Promise<AddedFile> {
      const { idInstance, chatId, idMessage, fileName, mimeType, typeMessage, timestamp } = demo;
      const res = await fetch(`${state.simulator.controlUrl}/files`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          ...{ idInstance, chatId, idMessage, fileName, mimeType, typeMessage, timestamp },
          ...demo.content,
          faults: demo.faults,
        }),
      });
      if (res.status !== 201) {
        const name = demo.fileName ?? demo.idMessage;
        throw new Error(`the simulator refused ${name}: ${res.status} ${await res.text()}`);
      }
      return (await res.json()) as AddedFile;
    },

    /** A link of the simulator that names no file: Green-API's copy is gone. */
    goneUrl: (demo: DemoCase) =>
      `${state.simulator.url}/files/${'0'.repeat(24)}/${demo.fileName ?? 'file'}`,

    async postWebhook(body: unknown): Promise<number> {
      const res = await fetch(state.webhookUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${state.webhookToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
      await res.arrayBuffer();
      return res.status;
    },

    /** `archiver_webhooks_total{outcome="duplicate"}` summed over types, from the receiver. */
    async duplicateWebhooks(): Promise<number> {
      const text = await (await fetch(`${state.receiverUrl}/metrics`)).text();
      return text
        .split('\n')
        .filter(
          (l) => l.startsWith('archiver_webhooks_total{') && l.includes('outcome="duplicate"'),
        )
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    },

    /** The sidecar at `key`, or undefined while there is none. */
    async readSidecar(key: string): Promise<Sidecar | undefined> {
      try {
        const text = (await getObjectBytes(s3, bucket, key)).toString('utf8');
        const parsed = sidecarSchema.safeParse(JSON.parse(text));
        return parsed.success ? parsed.data : undefined;
      } catch {
        return undefined;
      }
    },

    /** SHA-256 of the object as stored (the demo's files are small enough to read whole). */
    async storedSha256(key: string): Promise<string> {
      const bytes = await getObjectBytes(s3, bucket, key);
      return createHash('sha256').update(bytes).digest('hex');
    },

    objectsUnder: (prefix: string) => listAllKeys(s3, bucket, prefix),

    close: () => s3.destroy(),
  };
}
