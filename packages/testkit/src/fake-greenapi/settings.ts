import { readJson, type Reply } from './http-util.js';
import type { InstanceKind, InstanceState } from './types.js';

/** Settings values as GetSettings shows them: `"yes"`/`"no"`, text, or a number. */
export type SettingsValues = Record<string, string | number>;

const FLAG = 'flag';
const TEXT = 'text';
const NUMBER = 'number';
type FieldType = typeof FLAG | typeof TEXT | typeof NUMBER;

/** WhatsApp's GetSettings fields (docs/greenapi.md §7.4, §12), all off after creation. */
const WHATSAPP_FIELDS: Record<string, FieldType> = {
  webhookUrl: TEXT,
  webhookUrlToken: TEXT,
  delaySendMessagesMilliseconds: NUMBER,
  markIncomingMessagesReaded: FLAG,
  markIncomingMessagesReadedOnReply: FLAG,
  outgoingWebhook: FLAG,
  outgoingMessageWebhook: FLAG,
  outgoingAPIMessageWebhook: FLAG,
  incomingWebhook: FLAG,
  stateWebhook: FLAG,
  keepOnlineStatus: FLAG,
  pollMessageWebhook: FLAG,
  incomingCallWebhook: FLAG,
  outgoingCallWebhook: FLAG,
  editedMessageWebhook: FLAG,
  deletedMessageWebhook: FLAG,
  incomingBlockWebhook: FLAG,
};
/** MAX documents no call, poll or block webhooks (§2.1, §12). */
const MAX_MISSING = [
  'pollMessageWebhook',
  'incomingCallWebhook',
  'outgoingCallWebhook',
  'incomingBlockWebhook',
];

export function fieldsOf(kind: InstanceKind): Record<string, FieldType> {
  if (kind === 'whatsapp') return WHATSAPP_FIELDS;
  return Object.fromEntries(
    Object.entries(WHATSAPP_FIELDS).filter(([name]) => !MAX_MISSING.includes(name)),
  );
}

export function initialSettings(kind: InstanceKind): SettingsValues {
  return Object.fromEntries(
    Object.entries(fieldsOf(kind)).map(([name, type]) => [
      name,
      type === FLAG ? 'no' : type === NUMBER ? 5000 : '',
    ]),
  );
}

/** How SetSettings behaves: the reboot and the delayed apply (docs/greenapi.md §7.4). */
export type SettingsTiming = {
  /** How long the instance answers `starting` after SetSettings. */
  rebootMs: number;
  /** When the new values show in GetSettings (the docs: within 5 minutes). */
  applyDelayMs: number;
};

/** The settings side of one instance: applied values, a pending change, a reboot. */
export type SettingsState = {
  kind: InstanceKind;
  values: SettingsValues;
  pending?: { values: SettingsValues; applyAt: number };
  rebootUntil: number;
  /** The state the instance is in outside a reboot. */
  baseState: InstanceState;
};

/** The state getStateInstance reports now; applies a pending change that is due. */
export function effectiveState(s: SettingsState, now: number): InstanceState {
  settle(s, now);
  return now < s.rebootUntil ? 'starting' : s.baseState;
}

function settle(s: SettingsState, now: number): void {
  if (s.pending && now >= s.pending.applyAt) {
    s.values = { ...s.values, ...s.pending.values };
    s.pending = undefined;
  }
}

export function handleGetSettings(reply: Reply, s: SettingsState, wid: string, now: number): void {
  settle(s, now);
  reply.json(200, { wid: s.baseState === 'authorized' ? wid : '', ...s.values });
}

/**
 * Validates like a strict server: an object with at least one known field, flags `yes`/`no`,
 * text fields strings. Unknown fields are refused (400), so a client that sends MAX a
 * WhatsApp-only setting finds out in the tests.
 */
export async function handleSetSettings(
  reply: Reply,
  s: SettingsState,
  timing: SettingsTiming,
  now: () => number,
): Promise<void> {
  const body = await readJson(reply.req);
  if (!body.ok) return reply.text(400, body.message);
  const value: unknown = body.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reply.text(400, 'Bad Request Validation failed');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) {
    return reply.text(400, "Validation failed. Details: 'value' must have at least 1 key");
  }
  const fields = fieldsOf(s.kind);
  const update: SettingsValues = {};
  for (const [name, v] of entries) {
    const type = fields[name];
    if (!type) return reply.text(400, `Validation failed. Details: '${name}' is not allowed`);
    const ok =
      type === FLAG
        ? v === 'yes' || v === 'no'
        : type === NUMBER
          ? typeof v === 'number'
          : typeof v === 'string';
    if (!ok) return reply.text(400, `Validation failed. Details: '${name}' has a wrong value`);
    update[name] = v as string | number;
  }
  const t = now();
  settle(s, t);
  // A second call before the first applied replaces nothing of it: both sets land together.
  s.pending = { values: { ...s.pending?.values, ...update }, applyAt: t + timing.applyDelayMs };
  s.rebootUntil = t + timing.rebootMs;
  reply.json(200, { saveSettings: true });
}
