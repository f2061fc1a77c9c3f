// The log scrubber's cost per line: 1 secret against 10,000 (5,000 instances, two tokens
// each), packages/core/src/scrub.ts (one pass for many secrets) against one split per secret
// (how logger.ts scrubbed before). Not part of `pnpm bench` (no target): the measurement behind
// scrub.ts. Prints each round, then the median and spread (min–max) of the rounds.
//   node --conditions=@archiver/source --import tsx bench/src/micro/log-scrub.ts
import { createScrubber, type Scrubber } from '@archiver/core';
import { median } from '../lib/stats.js';

const ROUNDS = 5;
/** Lines between clock reads, and the least time one measurement takes. */
const LINES = 50;
const MIN_MS = 200;

/** As the worker's tokens look: a Green-API apiTokenInstance (50 hex) and a webhook token. */
const hex = (k: number, n: number) =>
  Array.from({ length: n }, (_, i) => ((k * 2654435761 + i * 40503) >>> (i % 7)) & 15)
    .map((d) => d.toString(16))
    .join('');
const fleet = Array.from({ length: 5000 }, (_, k) => [hex(k, 50), `hook-${hex(k + 7, 32)}`]).flat();

// Two lines as the worker writes them: one clean (most lines), one with a token in a URL.
const clean = JSON.stringify({
  level: 30,
  time: 1764700000000,
  pid: 4242,
  hostname: 'archiver-worker-7c9f',
  name: 'worker',
  component: 'archive',
  jobId: 'a3f2c9e1b7d44c0e9f6a2b8c',
  attempt: 1,
  idInstance: '1101000001',
  key: 'archive/whatsapp/1101000001/79001234567@c.us/2026/12/02/3EB0C767D097B7C7C030/report.pdf',
  size: 48213,
  msg: 'archived',
});
const leaky = JSON.stringify({
  level: 40,
  time: 1764700000000,
  pid: 4242,
  name: 'worker',
  component: 'archive',
  err: {
    type: 'GreenApiNetworkError',
    message: `request to https://1101.api.green-api.com/waInstance1101000001/downloadFile/${fleet[4321]} failed, reason: socket hang up`,
  },
  msg: 'archive attempt failed; will retry',
});

/** How logger.ts scrubbed before scrub.ts: the line split once per secret. */
const splitPerSecret =
  (secrets: string[]): Scrubber =>
  (text) => {
    let out = text;
    for (const secret of secrets) out = out.split(secret).join('[redacted]');
    return out;
  };

/** µs per line, alternating the clean and the leaky line. */
function perLine(scrub: Scrubber): number {
  let lines = 0;
  let sink = 0;
  const started = performance.now();
  do {
    for (let i = 0; i < LINES; i += 1) sink += scrub(i % 2 === 0 ? clean : leaky).length;
    lines += LINES;
  } while (performance.now() - started < MIN_MS);
  if (sink === 0) throw new Error('nothing scrubbed');
  return ((performance.now() - started) * 1000) / lines;
}

const cases = {
  'scrub.ts, 1 secret': createScrubber([fleet[4321] as string]),
  'scrub.ts, 10,000 secrets': createScrubber(fleet),
  'split per secret, 1 secret': splitPerSecret([fleet[4321] as string]),
  'split per secret, 10,000 secrets': splitPerSecret(fleet),
};
for (const scrub of Object.values(cases)) {
  if (scrub(leaky).includes(fleet[4321] as string)) throw new Error('a token was left');
}
const results = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]));
for (let round = 1; round <= ROUNDS; round += 1) {
  const line: string[] = [];
  for (const [name, scrub] of Object.entries(cases)) {
    const us = perLine(scrub);
    results.get(name)?.push(us);
    line.push(`${name} ${us.toFixed(2)} µs`);
  }
  console.log(`round ${round}: ${line.join(', ')}`);
}
for (const [name, values] of results) {
  const fmt = (v: number) => v.toFixed(2);
  console.log(
    `${name}: median ${fmt(median(values))} µs per line (spread ${fmt(Math.min(...values))}–${fmt(Math.max(...values))}, ${ROUNDS} rounds)`,
  );
}
