import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startRedis } from '@archiver/testkit';
import type { BenchOptions, BenchOutput, BenchRow } from './lib/result.js';
import { median, round } from './lib/stats.js';

const run = promisify(execFile);
const PROC = fileURLToPath(new URL('./procs/fleet-proc.ts', import.meta.url));
const FLEET = 5000;

type Sample = {
  n: number;
  startupMs: number;
  configMs: number;
  scheduleMs: number;
  reloadMs: number;
  rssMiB: number;
  heapMiB: number;
  busiestBackfill: number;
  busiestCheck: number;
};

async function sample(n: number, redisUrl: string, round_: number): Promise<Sample> {
  const { stdout } = await run(
    process.execPath,
    [
      '--conditions=@archiver/source',
      '--import',
      'tsx',
      '--expose-gc',
      PROC,
      String(n),
      redisUrl,
      `bench-fleet-${n}-${round_}`,
    ],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Sample;
}

const spread = (values: number[]) => `${round(Math.min(...values))}–${round(Math.max(...values))}`;

/**
 * 5,000 instances against 1, each size in fresh processes (rounds alternate the sizes, so a
 * burst of load from elsewhere hits both): start-up (configuration from the file, the token
 * digests, the backfill and check schedulers in Redis), a reload that rotates one token and
 * adds one instance, the memory the instances take, and how the schedulers spread.
 */
export async function benchFleet(opts: BenchOptions): Promise<BenchOutput> {
  const rounds = opts.quick ? 3 : 5;
  const redis = await startRedis();
  const one: Sample[] = [];
  const many: Sample[] = [];
  try {
    for (let r = 0; r < rounds; r += 1) {
      one.push(await sample(1, redis.url, r));
      many.push(await sample(FLEET, redis.url, r));
      opts.log(`fleet round ${r + 1}/${rounds}: ${JSON.stringify(many.at(-1))}`);
    }
  } finally {
    await redis.stop();
  }
  const med = (s: Sample[], k: keyof Sample) => median(s.map((x) => x[k]));
  const row = (
    metric: string,
    k: keyof Sample,
    unit: string,
    target: string,
    pass: (v: number) => boolean,
  ): BenchRow => {
    const a = med(many, k);
    const b = med(one, k);
    return {
      bench: 'fleet',
      metric,
      unit,
      archiver: round(a),
      baseline: round(b),
      ratio: round(a - b),
      target,
      pass: pass(a - b),
      note: `median of ${rounds}; spread ${spread(many.map((x) => x[k]))} ${unit} (5,000) vs ${spread(one.map((x) => x[k]))} (1)`,
    };
  };
  return {
    rows: [
      row(
        'start-up: config, token digests, schedulers (5,000 vs 1)',
        'startupMs',
        'ms',
        '≤ 3,000 ms more',
        (d) => d <= 3000,
      ),
      row(
        'reload: one token rotated, one instance added',
        'reloadMs',
        'ms',
        '≤ 3,000 ms more',
        (d) => d <= 3000,
      ),
      row(
        'RSS after GC (settled), over an empty process',
        'rssMiB',
        'MiB',
        '≤ 30 MiB more',
        (d) => d <= 30,
      ),
      row('busiest second: backfill runs starting', 'busiestBackfill', 'runs', 'info', () => true),
      row('busiest second: checks starting', 'busiestCheck', 'checks', 'info', () => true),
    ],
    details: { one, many },
  };
}
