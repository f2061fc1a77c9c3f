/** What a scrubbed secret is replaced by. */
export const REDACTED = '[redacted]';

/** The longest prefix a secret is found by; longer secrets are checked whole once found. */
const MAX_WINDOW = 16;
/** 2^20 bits: with 10,000 secrets about 1 position in 100 needs a look in the table. */
const FILTER_BITS = 20;
const BASE = 31;
/**
 * Up to this many secrets, one native search each is faster than a pass of JavaScript over
 * the characters (under 1 µs a line for one secret, against about 9 µs for the pass).
 */
const FEW = 8;

export type Scrubber = (text: string) => string;

/**
 * A scrubber for these secrets: every occurrence of each is replaced by `[redacted]`, in one
 * pass over the text whatever their number. Splitting the text once per secret cost a log
 * line about 0.7 µs per secret: 7 ms a line with 5,000 instances' two tokens each
 * (bench/src/micro/log-scrub.ts), a whole core at 150 lines a second. Instead a rolling hash of
 * the next W characters (W = the shortest secret's length, at most 16) is looked up in a bit
 * filter; only a hit looks in the table of secrets by that hash, and only a whole match is
 * replaced. At a position where several secrets match, the longest wins. A handful of
 * secrets keep the native split.
 */
export function createScrubber(secrets: readonly string[]): Scrubber {
  const usable = [...new Set(secrets.filter((s) => s.length > 0))];
  if (usable.length === 0) return (text) => text;
  if (usable.length <= FEW) return splitEach(usable.sort((a, b) => b.length - a.length));
  return onePass(usable);
}

/** A split per secret, the longest first (so a secret inside another does not cut it up). */
function splitEach(secrets: readonly string[]): Scrubber {
  return (text) => {
    let out = text;
    for (const secret of secrets) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out;
  };
}

function onePass(usable: readonly string[]): Scrubber {
  const width = usable.reduce((w, s) => Math.min(w, s.length), MAX_WINDOW);
  // BASE^(width-1), modulo 2^32: what the character leaving the window weighed.
  let top = 1;
  for (let k = 1; k < width; k += 1) top = Math.imul(top, BASE);
  const filter = new Uint32Array(1 << (FILTER_BITS - 5));
  const table = new Map<number, string[]>();
  for (const secret of usable) {
    const h = hashAt(secret, 0, width);
    const bit = slot(h);
    filter[bit >>> 5] = (filter[bit >>> 5] as number) | (1 << (bit & 31));
    const bucket = table.get(h) ?? [];
    bucket.push(secret);
    table.set(h, bucket);
  }
  for (const bucket of table.values()) bucket.sort((a, b) => b.length - a.length);

  return (text) => {
    if (text.length < width) return text;
    let out = '';
    let last = 0;
    let i = 0;
    let h = hashAt(text, 0, width);
    const end = text.length - width;
    while (i <= end) {
      const bit = slot(h);
      if (((filter[bit >>> 5] as number) & (1 << (bit & 31))) !== 0) {
        const found = table.get(h)?.find((s) => text.startsWith(s, i));
        if (found) {
          out += text.slice(last, i) + REDACTED;
          i += found.length;
          last = i;
          if (i <= end) h = hashAt(text, i, width);
          continue;
        }
      }
      if (i < end) {
        h =
          (Math.imul(h - Math.imul(text.charCodeAt(i), top), BASE) + text.charCodeAt(i + width)) |
          0;
      }
      i += 1;
    }
    return last === 0 ? text : out + text.slice(last);
  };
}

/** The polynomial hash of `width` characters of `s` from `from`, modulo 2^32. */
function hashAt(s: string, from: number, width: number): number {
  let h = 0;
  for (let k = 0; k < width; k += 1) h = (Math.imul(h, BASE) + s.charCodeAt(from + k)) | 0;
  return h;
}

/** The filter's bit for a hash: its high bits after a multiplicative mix. */
function slot(h: number): number {
  return Math.imul(h, 0x9e3779b1) >>> (32 - FILTER_BITS);
}
