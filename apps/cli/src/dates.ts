import { UsageError } from './args.js';

/** Inclusive range of UTC calendar days, `YYYY-MM-DD`; an absent end is open. */
export type DayRange = { since?: string; until?: string };

/** A real calendar day written `YYYY-MM-DD` (2025-02-30 is refused). */
export function parseDay(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const valid =
    match &&
    utcDayOfMs(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) === value;
  if (!valid) throw new UsageError(`--${flag}: expected a UTC date YYYY-MM-DD, got "${value}"`);
  return value;
}

export function dayRange(since: string | undefined, until: string | undefined): DayRange {
  if (since !== undefined && until !== undefined && since > until) {
    throw new UsageError(`--since ${since} is after --until ${until}`);
  }
  return { since, until };
}

/**
 * The UTC day of a message timestamp (UNIX seconds), formatted as the S3 date folders are
 * (object-keys.ts messageFolder); undefined for a timestamp no Date can hold.
 */
export function utcDay(timestampSeconds: number): string | undefined {
  return utcDayOfMs(timestampSeconds * 1000);
}

function utcDayOfMs(ms: number): string | undefined {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return undefined;
  const yyyy = String(date.getUTCFullYear()).padStart(4, '0');
  const mm = String(date.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(date.getUTCDate()).padStart(2, '0');
  return `${yyyy}-${mm}-${dd}`;
}

/** `YYYY-MM-DD` strings order like the days they name, so plain comparison is enough. */
export function inDayRange(day: string | undefined, range: DayRange): boolean {
  if (range.since === undefined && range.until === undefined) return true;
  if (day === undefined) return false;
  if (range.since !== undefined && day < range.since) return false;
  if (range.until !== undefined && day > range.until) return false;
  return true;
}
