import type { CustodyLog } from './log.js';

/** What an object store reports after each write (structurally the worker store's type). */
export type Written = { key: string; versionId?: string; sha256: string; size: number };

/**
 * The object store's `onWritten` hook: one custody entry per object written, time-stamped
 * when the write completed. A rewrite (a re-queued job's new sidecar) is a new entry: the
 * log keeps every version the archiver wrote.
 */
export function custodyRecorder(log: CustodyLog, now: () => Date = () => new Date()) {
  return async (w: Written): Promise<void> => {
    await log.record({
      key: w.key,
      versionId: w.versionId ?? null,
      sha256: w.sha256,
      size: w.size,
      time: now().toISOString(),
    });
  };
}
