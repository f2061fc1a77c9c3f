// The receiver benchmark's second reference: the least a webhook receiver can do and still
// store each webhook as a BullMQ job before answering. node:http, one body read, one
// JSON.parse, and group commit (`addBulk` of the requests that arrived together, up to four
// batches in flight), as the receiver does; no authentication, validation, dedupe claim,
// packing, metrics or timeout. It tells what BullMQ's own add costs on the machine, so the
// receiver's distance to it is the archiver's own work per webhook. Prints one JSON line
// when listening.
import { createServer } from 'node:http';
import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';

type Pending = {
  job: { name: string; data: unknown; opts: JobsOptions };
  settle: (stored: boolean) => void;
};

const BATCHES_IN_FLIGHT = 4;
const OK = '{"ok":true}';

const queue = new Queue('archive', {
  connection: new Redis(process.env.REDIS_URL ?? '', { maxRetriesPerRequest: 1 }),
  prefix: process.env.QUEUE_PREFIX ?? 'bench',
});
let pending: Pending[] = [];
let inFlight = 0;
let scheduled = false;

function schedule(): void {
  if (scheduled || inFlight >= BATCHES_IN_FLIGHT) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    void flush();
  });
}

async function flush(): Promise<void> {
  if (pending.length === 0) return;
  const batch = pending;
  pending = [];
  inFlight += 1;
  try {
    await queue.addBulk(batch.map((p) => p.job));
    for (const p of batch) p.settle(true);
  } catch {
    for (const p of batch) p.settle(false);
  } finally {
    inFlight -= 1;
    if (pending.length > 0) schedule();
  }
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      idMessage: string;
      instanceData: { idInstance: number };
    };
    pending.push({
      // Prioritized, as the archiver's jobs are: the same add script.
      job: {
        name: 'archive-file',
        data: body,
        opts: { jobId: `${body.instanceData.idInstance}-${body.idMessage}`, priority: 1 },
      },
      settle: (stored) => {
        if (stored) {
          res
            .writeHead(200, { 'content-type': 'application/json', 'content-length': OK.length })
            .end(OK);
        } else res.writeHead(503).end();
      },
    });
    schedule();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'floor listening' })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
