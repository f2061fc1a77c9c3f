import { randomBytes } from 'node:crypto';
import autocannon, { type Result } from 'autocannon';
import { Redis } from 'ioredis';
import { startRedis, freePort } from '@archiver/testkit';
import { benchInstances, realisticWebhook } from './lib/fixtures.js';
import type { BenchOptions, BenchOutput } from './lib/result.js';
import { processCpuMs } from './lib/cpu.js';
import { spawnApp, spawnSource, type SpawnedSource } from './lib/spawn.js';
import { listRatios, median, round, roundRatios } from './lib/stats.js';

const CONNECTIONS = 50;
const PATH = '/webhooks/green-api';

type Round = { reqPerSec: number; p50: number; p99: number; ok: number; bad: number };
type Server = 'baseline' | 'receiver' | 'floor';
/** Each round runs the three in this order, and the next round in reverse (ABC CBA). */
const ORDER: readonly Server[] = ['baseline', 'receiver', 'floor'];

/**
 * Webhooks/s and latency of the receiver (its production entry point, apps/receiver/src/main.ts,
 * with a real Redis) against a bare Express 5 route with express.json(), in alternating rounds
 * on the same machine. Every request carries a new idMessage, so each one is a new job, not a
 * duplicate. A third server, for information, is the floor (procs/bullmq-floor.ts): the least
 * that stores each webhook as a BullMQ job, so the receiver's distance to it is the archiver's
 * own work per webhook and the floor's distance to the bare route is BullMQ's.
 */
export async function benchReceiver(opts: BenchOptions): Promise<BenchOutput> {
  // Five: on a noisy two-core host one round pair swings ±15 %, and the median of three
  // still moved by ±8 % between runs of the same code (BENCHMARKS.md).
  const rounds = opts.quick ? 3 : 5;
  const seconds = opts.quick ? 3 : 8;
  const warmup = opts.quick ? 1 : 3;
  const redis = await startRedis();
  const admin = new Redis(redis.url);
  const [instance] = benchInstances(1);
  if (!instance) throw new Error('no instance');
  const procs: SpawnedSource[] = [];
  try {
    const receiver = await startServer('receiver', procs, {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'bench',
      WEBHOOK_TOKEN: instance.webhookToken,
      GREEN_API_INSTANCES: JSON.stringify([
        { ...instance, apiUrl: 'https://1101.api.green-api.com' },
      ]),
      LOG_LEVEL: 'info',
    });
    const baseline = await startServer('baseline', procs, {});
    const floor = await startServer('floor', procs, {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'bench',
    });
    const servers: Record<Server, { url: string; pid: number }> = { receiver, baseline, floor };
    const bodies = bodySource(instance.idInstance);
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${instance.webhookToken}`,
    };
    const fire = (url: string, duration: number) =>
      autocannon({
        url,
        connections: CONNECTIONS,
        duration,
        headers,
        requests: [
          { method: 'POST', path: PATH, setupRequest: (req) => ({ ...req, body: bodies.next() }) },
        ],
      });

    opts.log(`receiver: warm-up ${warmup} s each`);
    for (const which of ORDER) await fire(servers[which].url, warmup);

    const results: Record<Server, Round[]> = { baseline: [], receiver: [], floor: [] };
    // CPU per answered request (µs), of the server process and, for the two that store jobs,
    // their Redis: on two cores the receiver shares the machine with Redis, the bare route
    // with nothing.
    const cpu: Record<Server, number[]> = { baseline: [], receiver: [], floor: [] };
    const redisCpu: Record<Exclude<Server, 'baseline'>, number[]> = { receiver: [], floor: [] };
    // Redis' time per job by command (INFO commandstats): EVALSHA is the scripts, BullMQ's add
    // and the archiver's claim; the calls inside them are counted again under their own names.
    const redisCommands: Array<Record<string, number>> = [];
    for (let r = 0; r < rounds; r += 1) {
      const order = r % 2 === 0 ? ORDER : [...ORDER].reverse();
      for (const which of order) {
        if (which !== 'baseline') {
          await admin.flushall();
          await admin.config('RESETSTAT');
        }
        const cpuBefore = processCpuMs(servers[which].pid);
        // The bare route has no Redis: nothing to read before its rounds.
        const redisCpuBefore = which === 'baseline' ? 0 : await redisCpuMs(admin);
        const res = await fire(servers[which].url, seconds);
        const round = summarise(res);
        const perRequest = (ms: number) => (ms * 1000) / Math.max(1, round.ok + round.bad);
        cpu[which].push(perRequest(processCpuMs(servers[which].pid) - cpuBefore));
        if (which !== 'baseline') {
          redisCpu[which].push(perRequest((await redisCpuMs(admin)) - redisCpuBefore));
          // Every 200 must be a job in Redis: both answer 200 only once the job is stored.
          const stored = await admin.zcard('bench:archive:prioritized');
          // No 200 without its job. (More jobs than 200s is fine: autocannon does not count
          // the answers still in flight when a round ends.)
          if (stored < round.ok) {
            throw new Error(
              `${which} answered ${round.ok} × 2xx but only ${stored} jobs are in Redis`,
            );
          }
        }
        if (which === 'receiver') {
          redisCommands.push(
            Object.fromEntries(
              Object.entries(await redisCommandMicros(admin)).map(([command, micros]) => [
                command,
                Math.round((10 * micros) / Math.max(1, round.ok)) / 10,
              ]),
            ),
          );
        }
        results[which].push(round);
        opts.log(
          `receiver: round ${r + 1} ${which}: ${Math.round(round.reqPerSec)} req/s, p50 ${round.p50} ms, p99 ${round.p99} ms, non-2xx/errors ${round.bad}`,
        );
      }
    }

    const med = (which: Server, key: keyof Round) => median(results[which].map((x) => x[key]));
    const ratiosTo = (which: Server, to: Server) =>
      roundRatios(
        results[which].map((x) => x.reqPerSec),
        results[to].map((x) => x.reqPerSec),
      );
    const throughputRatios = ratiosTo('receiver', 'baseline');
    const throughputRatio = median(throughputRatios);
    const floorRatios = ratiosTo('floor', 'baseline');
    const p99Diff = med('receiver', 'p99') - med('baseline', 'p99');
    const bad = [...results.receiver, ...results.baseline].reduce((n, x) => n + x.bad, 0);
    const cpuWithRedis = (which: 'receiver' | 'floor') =>
      median(cpu[which]) + median(redisCpu[which]);
    return {
      rows: [
        {
          bench: 'receiver',
          metric: `webhooks/s, ${CONNECTIONS} conns (${rounds} rounds × ${seconds} s)`,
          unit: 'req/s',
          archiver: Math.round(med('receiver', 'reqPerSec')),
          baseline: Math.round(med('baseline', 'reqPerSec')),
          ratio: round(throughputRatio),
          target: '≥ 1.0×',
          pass: throughputRatio >= 1.0 && bad === 0,
          note: `ratio = median of the rounds' ratios: ${listRatios(throughputRatios)}${bad ? `; ${bad} non-2xx/errors` : ''}`,
        },
        {
          bench: 'receiver',
          metric: 'p50 latency',
          unit: 'ms',
          archiver: med('receiver', 'p50'),
          baseline: med('baseline', 'p50'),
          ratio: round(med('receiver', 'p50') / med('baseline', 'p50')),
          target: 'info',
          pass: true,
        },
        {
          bench: 'receiver',
          metric: 'p99 latency',
          unit: 'ms',
          archiver: med('receiver', 'p99'),
          baseline: med('baseline', 'p99'),
          ratio: round(med('receiver', 'p99') / med('baseline', 'p99')),
          target: '≤ baseline + 5 ms',
          pass: p99Diff <= 5,
          note: `difference ${round(p99Diff)} ms`,
        },
        {
          bench: 'receiver',
          metric: 'CPU per webhook: receiver + its Redis vs the bare route (median)',
          unit: 'µs',
          archiver: Math.round(cpuWithRedis('receiver')),
          baseline: Math.round(median(cpu.baseline)),
          ratio: round(cpuWithRedis('receiver') / median(cpu.baseline)),
          target: 'info',
          pass: true,
          note: `receiver process ${Math.round(median(cpu.receiver))} µs, Redis ${Math.round(median(redisCpu.receiver))} µs (the bench's Redis: one webhook = one job), of which scripts (EVALSHA: BullMQ's add, the claim) ${Math.round(median(redisCommands.map((c) => c.evalsha ?? 0)))} µs`,
        },
        {
          bench: 'receiver',
          metric: 'the floor (least BullMQ route) vs the bare route: webhooks/s',
          unit: 'req/s',
          archiver: Math.round(med('floor', 'reqPerSec')),
          baseline: Math.round(med('baseline', 'reqPerSec')),
          ratio: round(median(floorRatios)),
          target: 'info',
          pass: true,
          note: `bench/src/procs/bullmq-floor.ts: node:http, one JSON.parse, addBulk group commit, nothing else; rounds ${listRatios(floorRatios)}; receiver / floor ${round(median(ratiosTo('receiver', 'floor')))}×; CPU per webhook: floor process ${Math.round(median(cpu.floor))} µs + Redis ${Math.round(median(redisCpu.floor))} µs`,
        },
      ],
      details: {
        rounds: results,
        cpuMicrosPerRequest: cpu,
        redisCpuMicrosPerJob: redisCpu,
        redisMicrosPerJobByCommand: redisCommands,
        seconds,
        connections: CONNECTIONS,
        bodyBytes: bodies.sampleBytes,
      },
    };
  } finally {
    for (const p of procs) await p.stop();
    await admin.quit();
    await redis.stop();
  }
}

const REFERENCE_SCRIPTS = {
  baseline: 'bench/src/procs/express-baseline.ts',
  floor: 'bench/src/procs/bullmq-floor.ts',
} as const;

async function startServer(
  which: Server,
  procs: SpawnedSource[],
  env: Record<string, string>,
): Promise<{ url: string; pid: number }> {
  const port = await freePort();
  const serverEnv = { ...env, PORT: String(port) };
  const proc =
    which === 'receiver'
      ? spawnApp('receiver', serverEnv)
      : spawnSource(REFERENCE_SCRIPTS[which], serverEnv);
  procs.push(proc);
  await proc.waitForLine(`${which} listening`);
  return { url: `http://127.0.0.1:${port}`, pid: proc.pid };
}

/** Redis' own CPU time (user + system, INFO cpu), in ms. */
async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1000;
}

/** Redis' time spent in each command since the last CONFIG RESETSTAT (INFO commandstats), µs. */
async function redisCommandMicros(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const micros: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=\d+,usec=(\d+),/gm)) {
    micros[match[1] as string] = Number(match[2]);
  }
  return micros;
}

/** Pre-split body template: each request gets a fresh idMessage with one string concat. */
function bodySource(idInstance: string) {
  const marker = 'IDMESSAGEMARKER';
  const text = JSON.stringify(realisticWebhook({ idInstance, idMessage: marker }));
  const [head, tail] = text.split(marker) as [string, string];
  const run = randomBytes(4).toString('hex').toUpperCase();
  let counter = 0;
  return {
    sampleBytes: Buffer.byteLength(text),
    next(): string {
      counter += 1;
      return `${head}BAE5${run}${counter.toString(16).toUpperCase().padStart(8, '0')}${tail}`;
    },
  };
}

function summarise(res: Result): Round {
  return {
    reqPerSec: res.requests.average,
    p50: res.latency.p50,
    p99: res.latency.p99,
    ok: res['2xx'],
    bad: res.non2xx + res.errors + res.timeouts,
  };
}
