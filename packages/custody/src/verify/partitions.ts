import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const FANOUT = 64;
/** Lines of one partition held in memory at most; a larger one is split again. */
const MAX_LINES = 20_000;
const FLUSH_BYTES = 64 * 1024;

/**
 * Lines grouped by key on disk: what makes "every object is in some seal" a check whose
 * memory does not grow with the archive. Sealed entries and listed objects go to temporary
 * files by a hash of their key; each file is then read alone, and one too big for
 * `MAX_LINES` is split again with another hash, so memory stays bounded however large the
 * archive is.
 */
export function createPartitions(opts: { maxLines?: number } = {}) {
  const stats = { maxHeld: 0, splits: 0 };
  const dir = mkdtempSync(join(tmpdir(), 'archiver-verify-'));
  return { ...openLevel(dir, 0, opts.maxLines ?? MAX_LINES, stats), stats };
}

export type Partitions = ReturnType<typeof createPartitions>;

function bucketOf(key: string, level: number): number {
  const h = createHash('sha256').update(`${level}:${key}`).digest();
  return h.readUInt32BE(0) % FANOUT;
}

type Stats = { maxHeld: number; splits: number };

function openLevel(dir: string, level: number, maxLines: number, stats: Stats) {
  const buffers: string[][] = Array.from({ length: FANOUT }, () => []);
  const sizes = new Array<number>(FANOUT).fill(0);
  const counts = new Array<number>(FANOUT).fill(0);
  const file = (i: number) => join(dir, `p${level}-${i}`);
  for (let i = 0; i < FANOUT; i += 1) writeFileSync(file(i), '');

  function flush(i: number) {
    if (buffers[i]!.length === 0) return;
    appendFileSync(file(i), buffers[i]!.join(''));
    buffers[i] = [];
    sizes[i] = 0;
  }

  return {
    /** `line` must not contain a newline (JSON does not). */
    add(key: string, line: string) {
      const i = bucketOf(key, level);
      buffers[i]!.push(`${line}\n`);
      sizes[i]! += line.length + 1;
      counts[i]! += 1;
      if (sizes[i]! > FLUSH_BYTES) flush(i);
    },

    /** Calls `group` with each partition's lines (at most MAX_LINES at a time), then cleans up. */
    async each(group: (lines: string[]) => void | Promise<void>): Promise<void> {
      try {
        for (let i = 0; i < FANOUT; i += 1) {
          flush(i);
          // One key with more entries than maxLines cannot be split by any hash: held whole.
          if (counts[i]! <= maxLines || level >= 8) {
            const held = await readLines(file(i));
            stats.maxHeld = Math.max(stats.maxHeld, held.length);
            await group(held);
          } else {
            stats.splits += 1;
            const sub = openLevel(mkdtempSync(join(dir, 'split-')), level + 1, maxLines, stats);
            for await (const line of lines(file(i))) sub.add(keyOfLine(line), line);
            await sub.each(group);
          }
          rmSync(file(i), { force: true });
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Every line starts with a kind letter and a tab, then JSON whose `key` is the partition key. */
export function keyOfLine(line: string): string {
  return (JSON.parse(line.slice(2)) as { key: string }).key;
}

async function* lines(path: string): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) if (line) yield line;
}

async function readLines(path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines(path)) out.push(line);
  return out;
}
