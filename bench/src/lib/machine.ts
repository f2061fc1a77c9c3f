import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

/** What the figures were measured on (BENCHMARKS.md quotes it). */
export function describeMachine() {
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: kernel(),
    date: new Date().toISOString(),
    /** 1/5/15-minute load averages when the run started: other work on the machine skews figures. */
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function kernel(): string {
  try {
    return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}
