/**
 * Runs `work` over the tasks in `concurrency` lanes, each taking the next task as it finishes
 * one: a plain script's concurrency, as the baselines have it. Returns how many failed; each
 * failure is written to stderr under its task's name.
 */
export async function inLanes<T>(
  tasks: readonly T[],
  concurrency: number,
  work: (task: T) => Promise<unknown>,
  nameOf: (task: T) => string,
): Promise<number> {
  let next = 0;
  let failed = 0;
  async function lane(): Promise<void> {
    for (;;) {
      const task = tasks[next];
      next += 1;
      if (task === undefined) return;
      try {
        await work(task);
      } catch (err) {
        failed += 1;
        process.stderr.write(`baseline: ${nameOf(task)}: ${String(err)}\n`);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, () => lane()));
  return failed;
}
