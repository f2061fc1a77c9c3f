/**
 * Runs `fn` over `items` with at most `limit` calls in flight, pulling lazily, so an S3
 * listing of millions of keys is never held in memory. The first error stops new work,
 * waits for the calls in flight, and is rethrown.
 */
export async function forEachLimit<T>(
  items: AsyncIterable<T> | Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : toAsync(items);
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure) {
      let next: IteratorResult<T>;
      try {
        // Concurrent next() calls on an async generator are queued by the language.
        next = await iterator.next();
      } catch (error) {
        failure ??= { error };
        return;
      }
      if (next.done) return;
      try {
        await fn(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, lane));
  if (failure) {
    await iterator.return?.();
    throw failure.error;
  }
}

async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

/**
 * Pulls `source` ahead of its consumer, holding at most `max` items, so a slow consumer
 * (hashing files) learns early how much there is: `seen()` counts what was pulled so far and
 * `exhausted()` says whether the source has ended. An error of the source reaches the
 * consumer after the items pulled before it.
 */
export function readAhead<T>(source: AsyncIterable<T>, max: number) {
  const buffer: T[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let pulled = 0;
  let stopped = false;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  const wake = (which: 'consumer' | 'producer') => {
    const fn = which === 'consumer' ? wakeConsumer : wakeProducer;
    if (which === 'consumer') wakeConsumer = undefined;
    else wakeProducer = undefined;
    fn?.();
  };

  const producer = (async () => {
    try {
      for await (const item of source) {
        while (buffer.length >= max && !stopped) {
          await new Promise<void>((resolve) => (wakeProducer = resolve));
        }
        // The consumer gave up (an error elsewhere): close the source too.
        if (stopped) break;
        buffer.push(item);
        pulled += 1;
        wake('consumer');
      }
    } catch (error) {
      failure = { error };
    } finally {
      ended = true;
      wake('consumer');
    }
  })();

  async function* consume(): AsyncGenerator<T> {
    try {
      for (;;) {
        if (buffer.length > 0) {
          const item = buffer.shift() as T;
          wake('producer');
          yield item;
          continue;
        }
        if (ended) break;
        await new Promise<void>((resolve) => (wakeConsumer = resolve));
      }
      await producer;
      if (failure) throw failure.error;
    } finally {
      stopped = true;
      wake('producer');
    }
  }

  return { items: consume(), seen: () => pulled, exhausted: () => ended };
}
