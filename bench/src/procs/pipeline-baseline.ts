// The pipeline benchmark's baseline: the same I/O as an archive job (downloadFile → GET the
// link → PutObject to the same S3), at the same concurrency, with no queue, no rate limiter and
// no bookkeeping. `BASELINE_MODE=same-s3` also does the worker's two other S3 requests per file
// (look for an existing sidecar, write the sidecar), to separate S3's cost from the queue's.
import { readFileSync } from 'node:fs';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createGreenApiClient } from '@archiver/greenapi';
import { s3ClientConfig, type S3Connection } from '@archiver/testkit';

type Task = { idInstance: string; apiTokenInstance: string; chatId: string; idMessage: string };

const env = process.env as Record<string, string>;
const tasks = JSON.parse(readFileSync(env.BASELINE_TASKS as string, 'utf8')) as Task[];
const conn = JSON.parse(env.BASELINE_S3 as string) as S3Connection;
const prefix = env.BASELINE_PREFIX as string;
const concurrency = Number(env.BASELINE_CONCURRENCY);
const sameS3 = env.BASELINE_MODE === 'same-s3';
const s3 = new S3Client(s3ClientConfig(conn));
const clients = new Map<string, ReturnType<typeof createGreenApiClient>>();

function clientFor(t: Task) {
  let client = clients.get(t.idInstance);
  if (!client) {
    client = createGreenApiClient({
      ...t,
      apiUrl: env.BASELINE_API_URL as string,
      kind: 'whatsapp',
    });
    clients.set(t.idInstance, client);
  }
  return client;
}

async function archive(t: Task): Promise<void> {
  const folder = `${prefix}/${t.idInstance}/${t.idMessage}/`;
  if (sameS3) {
    try {
      await s3.send(new GetObjectCommand({ Bucket: conn.bucket, Key: `${folder}message.json` }));
    } catch {
      // expected: no sidecar yet
    }
  }
  const { downloadUrl } = await clientFor(t).downloadFile({
    chatId: t.chatId,
    idMessage: t.idMessage,
  });
  const res = await fetch(downloadUrl);
  if (!res.ok) throw new Error(`GET ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  await s3.send(
    new PutObjectCommand({
      Bucket: conn.bucket,
      Key: `${folder}file.bin`,
      Body: body,
      ContentType: 'application/octet-stream',
    }),
  );
  if (sameS3) {
    const sidecar = JSON.stringify({
      status: 'archived',
      idMessage: t.idMessage,
      size: body.length,
    });
    await s3.send(
      new PutObjectCommand({
        Bucket: conn.bucket,
        Key: `${folder}message.json`,
        Body: sidecar,
        ContentType: 'application/json',
      }),
    );
  }
}

let next = 0;
let failed = 0;
async function lane(): Promise<void> {
  for (;;) {
    const t = tasks[next];
    next += 1;
    if (!t) return;
    try {
      await archive(t);
    } catch (err) {
      failed += 1;
      process.stderr.write(`baseline: ${t.idMessage}: ${String(err)}\n`);
    }
  }
}

const started = Date.now();
await Promise.all(Array.from({ length: concurrency }, () => lane()));
process.stdout.write(
  `${JSON.stringify({ msg: 'baseline done', started, ended: Date.now(), files: tasks.length, failed })}\n`,
);
s3.destroy();
