import type { Reply } from './http-util.js';
import type { JournalItem } from './types.js';

/**
 * A status ("story") as getIncoming/OutgoingStatuses list it: the journals' flat item, with
 * whatever else Green-API adds (`participants`, `extendedTextMessage` with its colours and
 * font; docs/greenapi.md §12).
 */
export type StatusItem = JournalItem & Record<string, unknown>;

export type Statuses = ReturnType<typeof createStatuses>;

/** Green-API keeps statuses 30 days (docs/greenapi.md §12). */
const KEPT_SECONDS = 30 * 86_400;
const DEFAULT_MINUTES = 1440;

/** Per-instance status journal behind getIncomingStatuses / getOutgoingStatuses. */
export function createStatuses(nowMs: () => number) {
  const items = new Map<string, StatusItem[]>();
  return {
    add(idInstance: string, item: StatusItem) {
      items.set(idInstance, [...(items.get(idInstance) ?? []), item]);
    },
    /**
     * Changes a listed status in place, as Green-API's does: an outgoing status's
     * `timestamp` is documented as the time of its last action (sent → read), so it moves.
     */
    update(idInstance: string, idMessage: string, patch: Partial<StatusItem>) {
      const list = items.get(idInstance) ?? [];
      const i = list.findIndex((s) => s.idMessage === idMessage);
      if (i < 0) throw new Error(`fake Green-API: no status ${idMessage}`);
      list[i] = { ...list[i], ...patch } as StatusItem;
    },
    last(idInstance: string, type: JournalItem['type'], minutes: number): StatusItem[] {
      const now = nowMs() / 1000;
      const since = Math.max(now - minutes * 60, now - KEPT_SECONDS);
      return (items.get(idInstance) ?? [])
        .filter((s) => s.type === type && s.timestamp >= since)
        .sort((a, b) => b.timestamp - a.timestamp);
    },
  };
}

export function handleStatuses(
  reply: Reply,
  statuses: Statuses,
  idInstance: string,
  type: JournalItem['type'],
) {
  const raw = new URL(reply.req.url ?? '/', 'http://fake').searchParams.get('minutes');
  const minutes = raw === null ? DEFAULT_MINUTES : Number(raw);
  if (!Number.isFinite(minutes) || minutes < 0) {
    return reply.text(400, "Validation failed. Details: 'minutes' must be a number");
  }
  reply.json(200, statuses.last(idInstance, type, minutes));
}
