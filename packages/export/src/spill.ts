import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';

/**
 * Lists that grow with the export (its files, objects, proofs) live in files of lines, not
 * in memory: written as they are made, read back one line at a time, and sorted on disk
 * when a join needs an order. What memory holds is one sort run and a line per open run.
 */

/** A file of lines, written with backpressure. */
export function lineFile(path: string) {
  const out: WriteStream = createWriteStream(path);
  let count = 0;
  return {
    path,
    get count() {
      return count;
    },
    async write(line: string): Promise<void> {
      count += 1;
      if (!out.write(`${line}\n`)) await once(out, 'drain');
    },
    async close(): Promise<void> {
      out.end();
      await once(out, 'close');
    },
  };
}

export type LineFile = ReturnType<typeof lineFile>;

/** The lines of a file, one at a time. */
export async function* readLines(path: string): AsyncGenerator<string> {
  const input = createReadStream(path, 'utf8');
  const rl = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of rl) if (line !== '') yield line;
  } finally {
    rl.close();
    input.destroy();
  }
}

/** Bytes of lines sorted in memory at a time, and runs merged at a time. */
export const SORT_RUN_BYTES = 4 * 1024 * 1024;
const MERGE_WIDTH = 32;

/**
 * Sorts the lines of `input` into `output` (UTF-16 code unit order, as `<` compares), in
 * runs of `runBytes` sorted in memory, then merged `MERGE_WIDTH` at a time. `input` is
 * removed. Callers put the sort key first on each line, fixed-width where it is a number.
 */
export async function sortLines(
  input: string,
  output: string,
  runBytes = SORT_RUN_BYTES,
): Promise<void> {
  let runs: string[] = [];
  let chunk: string[] = [];
  let bytes = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    chunk.sort();
    const run = lineFile(`${output}.run${runs.length}`);
    for (const line of chunk) await run.write(line);
    await run.close();
    runs.push(run.path);
    chunk = [];
    bytes = 0;
  };
  for await (const line of readLines(input)) {
    chunk.push(line);
    bytes += line.length + 1;
    if (bytes >= runBytes) await flush();
  }
  await flush();
  await rm(input, { force: true });
  let level = 0;
  while (runs.length > 1) {
    const next: string[] = [];
    for (let i = 0; i < runs.length; i += MERGE_WIDTH) {
      const merged = `${output}.m${level}-${next.length}`;
      await mergeRuns(runs.slice(i, i + MERGE_WIDTH), merged);
      next.push(merged);
    }
    runs = next;
    level += 1;
  }
  if (runs[0]) await rename(runs[0], output);
  else await lineFile(output).close();
}

async function mergeRuns(runs: string[], output: string): Promise<void> {
  const out = lineFile(output);
  const heads = await Promise.all(
    runs.map(async (path) => {
      const lines = readLines(path);
      const first = await lines.next();
      return { lines, line: first.done ? undefined : first.value };
    }),
  );
  let live = heads.filter((h) => h.line !== undefined);
  while (live.length > 0) {
    // A linear scan: at most MERGE_WIDTH heads.
    let min = live[0]!;
    for (const h of live) if (h.line! < min.line!) min = h;
    await out.write(min.line!);
    const next = await min.lines.next();
    min.line = next.done ? undefined : next.value;
    if (next.done) live = live.filter((h) => h !== min);
  }
  await out.close();
  await Promise.all(runs.map((r) => rm(r, { force: true })));
}

/** Digits of a number on a line: fixed width, so numbers sort as text. */
export const PAD = 15;
export const pad = (n: number) => String(n).padStart(PAD, '0');
