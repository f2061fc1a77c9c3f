import { Counter, Gauge, type Registry } from 'prom-client';
import type { CustodyLog } from './log.js';

/**
 * Custody metrics on the worker's registry. The two gauges read Redis at scrape time, so
 * every replica reports the same shared log: combine them with `max`, never `sum`.
 */
export function createCustodyMetrics(registry: Registry, log?: CustodyLog, intervalMs = 0) {
  const registers = [registry];
  const interval = new Gauge({
    name: 'archiver_custody_seal_interval_seconds',
    help: 'SEAL_INTERVAL_MINUTES in seconds (0: custody off): the alert on unsealed entries is two of these',
    registers,
  });
  interval.set(log ? intervalMs / 1000 : 0);
  return {
    interval,
    sealsWritten: new Counter({
      name: 'archiver_custody_seals_total',
      help: 'Custody seals written to S3 by this process',
      registers,
    }),
    timestampFailures: new Counter({
      name: 'archiver_custody_timestamp_failures_total',
      help: 'RFC 3161 timestamp requests that failed (retried at the next seal)',
      registers,
    }),
    entriesWaiting: new Gauge({
      name: 'archiver_custody_entries_waiting',
      help: 'Custody entries recorded and not sealed yet',
      registers,
      async collect() {
        if (log) this.set(await log.waiting().catch(() => 0));
      },
    }),
    oldestUnsealed: new Gauge({
      name: 'archiver_custody_oldest_unsealed_seconds',
      help: 'Age of the oldest custody entry not sealed yet (0 when none waits)',
      registers,
      async collect() {
        if (!log) return;
        const oldest = await log.oldestMs().catch(() => null);
        this.set(oldest === null ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
      },
    }),
  };
}

export type CustodyMetrics = ReturnType<typeof createCustodyMetrics>;
