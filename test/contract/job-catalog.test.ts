import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JOB_CATALOG } from '../../packages/core/src/job-catalog.js';

const architecture = readFileSync(
  fileURLToPath(new URL('../../docs/architecture.md', import.meta.url)),
  'utf8',
);

/** The rows of docs/architecture.md §12's table, as [job name, queue, …]. */
function catalogRows(): string[][] {
  const section = architecture.split(/^## 12\. Job catalog$/m)[1]?.split(/^## /m)[0] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}

describe('the job catalog', () => {
  it('is the table in docs/architecture.md §12, one row per job, named as in the code', () => {
    const rows = catalogRows().map(([name, queue]) => [name, queue]);
    expect(rows).toEqual(JOB_CATALOG.map((job) => [`\`${job.name}\``, `\`${job.queue}\``]));
  });

  it('gives every job a queue of its own', () => {
    const queues = JOB_CATALOG.map((job) => job.queue);
    expect(new Set(queues).size).toBe(queues.length);
  });
});
