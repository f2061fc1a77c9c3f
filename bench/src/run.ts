// `pnpm bench [-- --only receiver,pipeline] [--quick] [--files N] [--out path]`
// Runs the benchmarks, prints the table and writes bench/results.json. Every figure is a ratio
// against a baseline measured in the same run on the same machine.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { format } from 'prettier';
import { benchFleet } from './fleet.js';
import { benchLargeFile } from './large-file.js';
import { describeMachine } from './lib/machine.js';
import type { BenchOptions, BenchOutput, BenchRow } from './lib/result.js';
import { formatTable } from './lib/table.js';
import { benchPipeline } from './pipeline.js';
import { benchRateLimits } from './rate-limits.js';
import { benchReceiver } from './receiver.js';
import { benchRecording } from './recording.js';
import { benchRedisMemory } from './redis-memory.js';

const BENCHES: Record<string, (opts: BenchOptions) => Promise<BenchOutput>> = {
  receiver: benchReceiver,
  pipeline: benchPipeline,
  recording: benchRecording,
  'large-file': benchLargeFile,
  'rate-limits': benchRateLimits,
  'redis-memory': benchRedisMemory,
  fleet: benchFleet,
};

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    files: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    `usage: pnpm bench [-- --only ${Object.keys(BENCHES).join(',')}] [--quick] [--files N] [--out file]\n`,
  );
  process.exit(0);
}

const selected = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(BENCHES);
const unknown = selected.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}\n`,
  );
  process.exit(2);
}

const files = values.files === undefined ? undefined : Number(values.files);
if (files !== undefined && (!Number.isInteger(files) || files <= 0)) {
  process.stderr.write('--files must be a positive integer\n');
  process.exit(2);
}

const opts: BenchOptions = {
  quick: values.quick,
  ...(files === undefined ? {} : { files }),
  log: (line) => process.stderr.write(`${line}\n`),
};

const machine = describeMachine();
const rows: BenchRow[] = [];
const details: Record<string, unknown> = {};
const failures: string[] = [];
for (const name of selected) {
  const started = Date.now();
  opts.log(`== ${name}`);
  try {
    const out = await (BENCHES[name] as (o: BenchOptions) => Promise<BenchOutput>)(opts);
    rows.push(...out.rows);
    details[name] = { ...out.details, seconds: Math.round((Date.now() - started) / 1000) };
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    failures.push(`${name}: ${message}`);
    opts.log(`${name} failed: ${message}`);
  }
}

process.stdout.write(`\n${formatTable(rows)}\n`);
process.stdout.write(
  `\nmachine: ${machine.nproc} cores (${machine.cpu}), ${machine.memoryGiB} GiB, node ${machine.node}, ${machine.date}, load ${machine.loadAverage.join('/')} at start → ${loadavg()
    .map((l) => l.toFixed(2))
    .join('/')} at end${opts.quick ? ', --quick' : ''}\n`,
);
for (const f of failures) process.stdout.write(`ERROR ${f.split('\n')[0]}\n`);

const out = values.out ?? fileURLToPath(new URL('../results.json', import.meta.url));
// Formatted as the repository's format check expects, so a committed results.json stays clean.
writeFileSync(
  out,
  await format(
    JSON.stringify(
      {
        machine: { ...machine, loadAverageAtEnd: loadavg() },
        quick: opts.quick,
        selected,
        rows,
        failures,
        details,
      },
      null,
      2,
    ),
    { parser: 'json' },
  ),
);
process.stdout.write(`results written to ${out}\n`);
// Benchmarks report; they do not gate. A benchmark that could not run is an error, though.
process.exit(failures.length > 0 ? 1 : 0);
