import { classifyWebhook } from '@archiver/greenapi';
import { jobFromWebhook, objectKeys, type ArchiveJob } from '@archiver/core';
import { fileWebhook, type FakeGreenApi, type FileWebhook } from '@archiver/testkit';
import { INSTANCES, type ChaosInstance } from './env.js';

export type CorpusFile = {
  instance: ChaosInstance;
  hook: FileWebhook;
  data: ArchiveJob;
  sha256: string;
  size: number;
  fileKey: string;
  sidecarKey: string;
};

/**
 * `count` files in the fake Green-API, with the webhook each one arrives with. Most are small;
 * every `largeEvery`-th is `largeSize` bytes, so uploads are multipart (8 MiB parts) and a
 * fault can land in the middle of one.
 */
export function makeCorpus(
  fake: FakeGreenApi,
  o: { tag: string; prefix: string; count: number; largeEvery: number; largeSize: number },
): CorpusFile[] {
  const timestamp = Math.floor(Date.now() / 1000);
  return Array.from({ length: o.count }, (_, k) => {
    const instance = INSTANCES[k % INSTANCES.length] as ChaosInstance;
    const idMessage = `${o.tag}${k.toString(16).toUpperCase().padStart(6, '0')}`;
    const chatId = `7900${String(k % 37).padStart(7, '0')}@c.us`;
    const large = o.largeEvery > 0 && k % o.largeEvery === o.largeEvery - 1;
    const size = large ? o.largeSize : 512 + ((k * 7919) % (32 * 1024));
    const added = fake.addFile({
      idInstance: instance.idInstance,
      chatId,
      idMessage,
      size,
      fileName: `${idMessage}.pdf`,
      mimeType: 'application/pdf',
    });
    const hook = fileWebhook({
      kind: 'whatsapp',
      idInstance: instance.idInstance,
      chatId,
      idMessage,
      timestamp,
      typeMessage: 'documentMessage',
      downloadUrl: added.downloadUrl,
      fileName: added.fileName,
      mimeType: added.mimeType,
    });
    const body: unknown = JSON.parse(JSON.stringify(hook));
    const result = classifyWebhook(body);
    if (result.kind !== 'file') throw new Error('corpus webhook is not a file webhook');
    const data = jobFromWebhook(body, result.webhook, 'whatsapp', 'webhook');
    const keys = objectKeys({ prefix: `${o.prefix}/`, ...data });
    return { instance, hook, data, sha256: added.sha256, size, ...keys };
  });
}
