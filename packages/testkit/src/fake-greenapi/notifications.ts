import { sleep, type Reply } from './http-util.js';

type Notification = { receiptId: number; body: unknown };

export type NotificationQueues = ReturnType<typeof createNotificationQueues>;

/**
 * The HTTP API notification queue (docs/greenapi.md §7.5): FIFO per instance, and the head stays
 * until deleted, so a notification received but not deleted is handed out again by the next
 * receiveNotification.
 */
export function createNotificationQueues() {
  const queues = new Map<string, Notification[]>();
  const waiters = new Map<string, Set<() => void>>();
  let nextReceiptId = 1;

  const queueOf = (idInstance: string) => {
    const queue = queues.get(idInstance) ?? [];
    queues.set(idInstance, queue);
    return queue;
  };

  return {
    push(idInstance: string, body: unknown): number {
      const receiptId = nextReceiptId++;
      queueOf(idInstance).push({ receiptId, body });
      for (const wake of waiters.get(idInstance) ?? []) wake();
      return receiptId;
    },
    pending: (idInstance: string) => queueOf(idInstance).length,
    head: (idInstance: string) => queueOf(idInstance)[0],
    delete(idInstance: string, receiptId: number): boolean {
      const queue = queueOf(idInstance);
      const index = queue.findIndex((n) => n.receiptId === receiptId);
      if (index >= 0) queue.splice(index, 1);
      return index >= 0;
    },
    /** Resolves when something is pushed for the instance, after `ms`, or on abort. */
    async waitForPush(idInstance: string, ms: number, signal: AbortSignal): Promise<void> {
      const local = new AbortController();
      const set = waiters.get(idInstance) ?? new Set();
      waiters.set(idInstance, set);
      const wake = () => local.abort();
      set.add(wake);
      try {
        await sleep(ms, AbortSignal.any([signal, local.signal]));
      } finally {
        set.delete(wake);
      }
    },
  };
}

const DEFAULT_RECEIVE_TIMEOUT_S = 5;

export async function handleReceive(
  reply: Reply,
  queues: NotificationQueues,
  idInstance: string,
  maxWaitMs: number,
) {
  const raw = new URL(reply.req.url ?? '/', 'http://fake').searchParams.get('receiveTimeout');
  const seconds = raw === null ? DEFAULT_RECEIVE_TIMEOUT_S : Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    return reply.text(400, "Validation failed. Details: 'receiveTimeout' must be a number");
  }
  // Documented range is 5..60 s; the cap lets tests keep an empty poll short.
  const waitMs = Math.min(Math.min(seconds, 60) * 1000, maxWaitMs);
  if (!queues.head(idInstance)) await queues.waitForPush(idInstance, waitMs, reply.signal);
  if (reply.signal.aborted) return;
  reply.json(200, queues.head(idInstance) ?? null);
}

export function handleDelete(
  reply: Reply,
  queues: NotificationQueues,
  idInstance: string,
  arg: string | undefined,
) {
  if (arg === undefined || !/^\d+$/.test(arg)) {
    return reply.text(400, 'Parameter receiptId must be a Number');
  }
  reply.json(200, { result: queues.delete(idInstance, Number(arg)) });
}
