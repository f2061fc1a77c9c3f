// The pipeline benchmark's baseline: the same I/O as an archive job (downloadFile → GET the
// link → PutObject the file → PutObject its sidecar, to the same S3), at the same concurrency,
// with no queue, no rate limiter and no bookkeeping. `BASELINE_MODE=file-only` skips the
// sidecar, to show what the sidecar itself costs on this S3.
// A plain script: Node's `fetch` for both HTTP calls. (It used to call downloadFile through the
// archiver's client, which then used `fetch` too; that client now uses undici's `request`,
// and the baseline keeps doing what a plain script does.)
import { readFileSync } from 'node:fs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig, type S3Connection } from '@archiver/testkit';
import { ownCpuMs } from '../lib/cpu.js';
import { inLanes } from '../lib/lanes.js';

type Task = {
  idInstance: string;
  apiTokenInstance: string;
  chatId: string;
  idMessage: string;
  message: unknown;
};

const env = process.env as Record<string, string>;
const tasks = JSON.parse(readFileSync(env.BASELINE_TASKS as string, 'utf8')) as Task[];
const conn = JSON.parse(env.BASELINE_S3 as string) as S3Connection;
const prefix = env.BASELINE_PREFIX as string;
const concurrency = Number(env.BASELINE_CONCURRENCY);
const withSidecar = env.BASELINE_MODE !== 'file-only';
const s3 = new S3Client(s3ClientConfig(conn));
const apiUrl = env.BASELINE_API_URL as string;

/** Green-API's downloadFile (docs/greenapi.md §5), as a plain script calls it. */
async function downloadFile(t: Task): Promise<string> {
  const res = await fetch(
    `${apiUrl}/waInstance${t.idInstance}/downloadFile/${t.apiTokenInstance}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chatId: t.chatId, idMessage: t.idMessage }),
      signal: AbortSignal.timeout(30_000),
    },
  );
  const answer = (await res.json()) as { downloadUrl?: unknown };
  if (!res.ok || typeof answer.downloadUrl !== 'string') {
    throw new Error(`downloadFile ${res.status}`);
  }
  return answer.downloadUrl;
}

/** A PUT as the worker makes it: with the checksum S3 verifies (CRC32, apps/worker storage). */
function put(key: string, body: Buffer | string, contentType: string) {
  return s3.send(
    new PutObjectCommand({
      Bucket: conn.bucket,
      Key: key,
      Body: body,
      ContentType: contentType,
      ChecksumAlgorithm: 'CRC32',
    }),
  );
}

async function archive(t: Task): Promise<void> {
  const folder = `${prefix}/${t.idInstance}/${t.idMessage}/`;
  const downloadUrl = await downloadFile(t);
  const res = await fetch(downloadUrl);
  if (!res.ok) throw new Error(`GET ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  await put(`${folder}file.bin`, body, 'application/octet-stream');
  if (withSidecar) {
    // About the worker's sidecar size: the record fields and the kept webhook body.
    const sidecar = JSON.stringify({
      status: 'archived',
      idInstance: t.idInstance,
      chatId: t.chatId,
      idMessage: t.idMessage,
      size: body.length,
      message: t.message,
    });
    await put(`${folder}message.json`, sidecar, 'application/json');
  }
}

const started = Date.now();
const failed = await inLanes(tasks, concurrency, archive, (t) => t.idMessage);
process.stdout.write(
  `${JSON.stringify({ msg: 'baseline done', started, ended: Date.now(), files: tasks.length, failed, cpuMs: ownCpuMs() })}\n`,
);
s3.destroy();
