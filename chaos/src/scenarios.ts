import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createArchiveQueue, createRedis, type ArchiveQueue } from '@archiver/core';
import { auditArchive, type Audit } from './audit.js';
import { makeCorpus, type CorpusFile } from './corpus.js';
import { workerEnv, type ChaosEnv } from './env.js';
import { spawnWorker, type WorkerProcess } from './processes.js';
import { newSendReport, sendWebhooks, startReceiver, type SendReport } from './receiver.js';

const MiB = 1024 * 1024;

export type ScenarioSize = {
  files: number;
  /** Every n-th file is large (multipart); 0 = none. */
  largeEvery: number;
  largeSize: number;
  /** The whole scenario, audit included, ends within this (FAIL when it would not). */
  timeoutMs: number;
  /** Webhooks are delivered over this long, so faults also hit the receiving side. */
  sendSpreadMs: number;
  killEveryMs: number;
  maxKills: number;
  s3OutageMs: number;
  failureRate: number;
};

/** `pnpm chaos`: the long runs. */
export const FULL: ScenarioSize = {
  files: 2000,
  largeEvery: 100,
  largeSize: 12 * MiB,
  timeoutMs: 8 * 60_000,
  sendSpreadMs: 20_000,
  killEveryMs: 3000,
  maxKills: 40,
  s3OutageMs: 30_000,
  failureRate: 0.3,
};

/** The CI suite's version (test/chaos): small, one kill, a short outage. */
export const SHORT: ScenarioSize = {
  files: 200,
  largeEvery: 50,
  largeSize: 10 * MiB,
  timeoutMs: 100_000,
  sendSpreadMs: 4000,
  killEveryMs: 1500,
  maxKills: 1,
  s3OutageMs: 5000,
  failureRate: 0.3,
};

export type Verdict = {
  scenario: string;
  pass: boolean;
  /** `PASS scenario: …` / `FAIL scenario: …` */
  line: string;
  problems: string[];
  audit?: Audit;
  send?: { accepted: number; statuses: Record<string, number> };
  faults: Record<string, number>;
  seconds: number;
};

type Ctx = {
  env: ChaosEnv;
  prefix: string;
  files: CorpusFile[];
  size: ScenarioSize;
  queue: ArchiveQueue;
  workers: WorkerProcess[];
  report: SendReport;
  faults: Record<string, number>;
  /** True once every job has ended (or the scenario is being torn down). */
  done: () => boolean;
  deadline: number;
  startWorker: () => WorkerProcess;
};

type Scenario = {
  title: string;
  workers: number;
  workerEnv?: Record<string, string>;
  before?: (ctx: Ctx) => void;
  after?: (ctx: Ctx) => Promise<void> | void;
  /** Runs alongside delivery and processing until ctx.done(). */
  faults?: (ctx: Ctx) => Promise<void>;
  /** Extra pass conditions; returns problems. */
  check?: (ctx: Ctx) => string[];
};

export const SCENARIOS = {
  'worker-sigkill': {
    title: 'a worker killed with SIGKILL every few seconds',
    workers: 1,
    // A killed worker's jobs come back after the lock expires.
    workerEnv: { WORKER_LOCK_DURATION_MS: '4000' },
    async faults(ctx) {
      let kills = 0;
      while (!ctx.done() && kills < ctx.size.maxKills) {
        const current = ctx.workers.at(-1);
        if (!current) return;
        await until(() => current.started() || ctx.done() || !current.running(), ctx.deadline);
        await sleep(ctx.size.killEveryMs);
        if (ctx.done()) return;
        await current.kill('SIGKILL');
        kills += 1;
        ctx.faults.kills = kills;
        ctx.startWorker();
      }
    },
    check: (ctx) =>
      (ctx.faults.kills ?? 0) < 1 ? ['no worker was killed while work remained'] : [],
  },
  'redis-restart': {
    title: 'Redis restarted mid-run (AOF on)',
    workers: 1,
    async faults(ctx) {
      await until(() => ctx.report.sent >= ctx.files.length * 0.4 || ctx.done(), ctx.deadline);
      if (ctx.done()) return;
      await ctx.env.redis.restart();
      ctx.faults.redisRestarts = 1;
    },
    check: (ctx) => (ctx.faults.redisRestarts ? [] : ['Redis was not restarted mid-run']),
  },
  's3-outage': {
    title: 'S3 unreachable for a while (connections refused and reset)',
    workers: 1,
    async faults(ctx) {
      await until(
        async () => (await ended(ctx.queue)) >= ctx.files.length * 0.15 || ctx.done(),
        ctx.deadline,
      );
      if (ctx.done()) return;
      await ctx.env.s3Proxy.cut();
      ctx.faults.s3OutageMs = ctx.size.s3OutageMs;
      await sleep(ctx.size.s3OutageMs);
      await ctx.env.s3Proxy.restore();
    },
    after: (ctx) => ctx.env.s3Proxy.restore(),
    check: (ctx) => (ctx.faults.s3OutageMs ? [] : ['S3 was not cut mid-run']),
  },
  'greenapi-500': {
    title: 'Green-API answering 500 to 30% of downloadFile calls',
    workers: 1,
    before: (ctx) => ctx.env.fake.setFailureRate(ctx.size.failureRate, { seed: 7 }),
    after(ctx) {
      ctx.faults.greenApi500s = ctx.env.fake.count('downloadFile', { status: 500 });
      ctx.env.fake.setFailureRate(0);
    },
    check: (ctx) => ((ctx.faults.greenApi500s ?? 0) > 0 ? [] : ['no 500 was served']),
  },
  'two-workers': {
    title: 'two worker processes on the same queue',
    workers: 2,
    check(ctx) {
      // No fault here, so no job may run twice: one downloadFile and one GET per file.
      const n = ctx.report.accepted.size;
      const downloads = ctx.env.fake.count('file', { status: 200 });
      const calls = ctx.env.fake.count('downloadFile', { status: 200 });
      ctx.faults.fileDownloads = downloads;
      return downloads === n && calls === n
        ? []
        : [`${calls} downloadFile calls and ${downloads} file downloads for ${n} files`];
    },
  },
} satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

/**
 * Runs one scenario: its files' webhooks go through the real receiver over HTTP while worker
 * processes archive them and the scenario's faults strike; then everything under its prefix is
 * audited. Always ends with a verdict, within size.timeoutMs.
 */
export async function runScenario(
  env: ChaosEnv,
  name: ScenarioName,
  size: ScenarioSize,
): Promise<Verdict> {
  const scenario: Scenario = SCENARIOS[name];
  const started = Date.now();
  const deadline = started + size.timeoutMs;
  const prefix = `chaos-${name}-${randomUUID().slice(0, 8)}`;
  const problems: string[] = [];
  const faults: Record<string, number> = {};
  let audit: Audit | undefined;
  let report = newSendReport();
  env.fake.clearCalls();
  const files = makeCorpus(env.fake, {
    tag: `C${randomUUID().slice(0, 6).toUpperCase()}`,
    prefix,
    count: size.files,
    largeEvery: size.largeEvery,
    largeSize: size.largeSize,
  });
  // A worker-style connection waits through a Redis restart instead of failing.
  const monitor = createRedis(env.redis.url, 'worker');
  monitor.on('error', () => undefined);
  const queue = createArchiveQueue(monitor, prefix);
  queue.on('error', () => undefined);
  const receiver = await startReceiver(env, prefix);
  const workers: WorkerProcess[] = [];
  let finished = false;
  const ctx: Ctx = {
    env,
    prefix,
    files,
    size,
    queue,
    workers,
    report,
    faults,
    deadline,
    done: () => finished || Date.now() > deadline,
    startWorker() {
      const w = spawnWorker(workerEnv(env, prefix, scenario.workerEnv));
      workers.push(w);
      return w;
    },
  };
  try {
    await bounded(deadline - Date.now(), async () => {
      scenario.before?.(ctx);
      for (let i = 0; i < scenario.workers; i += 1) ctx.startWorker();
      const faulting = (scenario.faults?.(ctx) ?? Promise.resolve()).catch((err: unknown) => {
        problems.push(`faults: ${err instanceof Error ? err.message : String(err)}`);
      });
      report = await sendWebhooks(
        receiver.url,
        files,
        { spreadMs: size.sendSpreadMs, lanes: 32, retryMs: 200, deadline, stop: ctx.done },
        ctx.report,
      );
      if (report.accepted.size < files.length) {
        problems.push(`${files.length - report.accepted.size} webhooks never answered 200`);
      }
      await until(async () => (await ended(queue)) >= report.accepted.size, deadline, 250);
      finished = true;
      await faulting;
    });
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  } finally {
    finished = true;
    await Promise.allSettled(workers.map((w) => w.stop()));
    await Promise.resolve(scenario.after?.(ctx)).catch((err: unknown) =>
      problems.push(`cleanup: ${String(err)}`),
    );
  }
  try {
    problems.push(...(await stuckJobs(queue)));
    problems.push(...(scenario.check?.(ctx) ?? []));
    const counts = await bounded(15_000, () =>
      queue.getJobCounts('completed', 'failed', 'active', 'waiting', 'prioritized', 'delayed'),
    );
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    if (total !== report.accepted.size) {
      problems.push(`${total} jobs in the queue for ${report.accepted.size} accepted webhooks`);
    }
    audit = await bounded(Math.max(30_000, deadline - Date.now()), () =>
      auditArchive(env.audit, env.conn.bucket, prefix, files, report.accepted),
    );
    if (audit.lost.length) {
      problems.push(`${audit.lost.length} lost (${audit.lost.slice(0, 3).join('; ')})`);
    }
    if (audit.corrupt.length) {
      problems.push(
        `${audit.corrupt.length} partial/corrupt (${audit.corrupt.slice(0, 3).join('; ')})`,
      );
    }
    if (audit.strays.length) {
      problems.push(
        `${audit.strays.length} duplicate/stray objects (${audit.strays.slice(0, 3).join('; ')})`,
      );
    }
    if (audit.danglingUploads.length) {
      problems.push(`${audit.danglingUploads.length} dangling multipart uploads`);
    }
  } catch (err) {
    problems.push(`audit: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await Promise.allSettled([receiver.close(), queue.close()]);
    monitor.disconnect();
    if (problems.length > 0) {
      for (const w of workers) {
        process.stderr.write(`--- worker ${w.pid} output tail:\n${w.output().slice(-4000)}\n`);
      }
    }
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  const pass = problems.length === 0;
  const faultText = Object.entries(faults)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const stats = audit
    ? `${audit.archived} archived, ${audit.recorded} recorded with a reason, ${audit.lost.length} lost, ${audit.strays.length} duplicates/strays, ${audit.corrupt.length} partial, ${audit.danglingUploads.length} dangling uploads`
    : 'no audit';
  const line = `${pass ? 'PASS' : 'FAIL'} ${name}: ${scenario.title}; ${files.length} files via receiver HTTP (${statusText(report.statuses)}); ${faultText || 'no faults'}; ${stats}; ${seconds} s${pass ? '' : ` — ${problems.join(' | ')}`}`;
  return {
    scenario: name,
    pass,
    line,
    problems,
    ...(audit ? { audit } : {}),
    send: { accepted: report.accepted.size, statuses: report.statuses },
    faults,
    seconds,
  };
}

/** Jobs that never ended, with the error they keep failing on: the first thing to read on a FAIL. */
async function stuckJobs(queue: ArchiveQueue): Promise<string[]> {
  const jobs = await bounded(15_000, () =>
    queue.getJobs(['active', 'waiting', 'prioritized', 'delayed'], 0, 4),
  );
  return jobs.map(
    (job) =>
      `job ${job.id} never ended (attempts ${job.attemptsStarted}, last error: ${job.failedReason || 'none'})`,
  );
}

/** Jobs that have ended (completed, or failed for good: a failure record was written). */
async function ended(queue: ArchiveQueue): Promise<number> {
  const counts = await queue.getJobCounts('completed', 'failed');
  return (counts.completed ?? 0) + (counts.failed ?? 0);
}

async function until(
  check: () => boolean | Promise<boolean>,
  deadline: number,
  intervalMs = 100,
): Promise<void> {
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('timed out before every job ended');
    await sleep(intervalMs);
  }
}

/** Runs `work`, rejecting after `ms` even if it hangs (a verdict beats a hung run). */
async function bounded<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${Math.round(ms / 1000)} s`)),
      Math.max(0, ms),
    );
  });
  try {
    return await Promise.race([work(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function statusText(statuses: Record<string, number>): string {
  return (
    Object.entries(statuses)
      .map(([s, n]) => `${n}×${s}`)
      .join(', ') || 'nothing sent'
  );
}
