import { GreenApiError, isError, type GreenApiClient, type JournalItem } from '@archiver/greenapi';
import { planSettings, settingsTarget } from './instance-settings.js';
import type { InstanceConfig } from './instances.js';
import { limitedCall, RateBudgetExhaustedError } from './limited-call.js';
import type { RateLimiter } from './rate-limit.js';

/** The checks, in the order they are shown; `archiver_instance_ready{check}` takes these. */
export const INSTANCE_CHECKS = [
  'authorized',
  'webhook_url',
  'webhook_token',
  'settings',
  'journals',
  'webhooks',
] as const;
export type InstanceCheckName = (typeof INSTANCE_CHECKS)[number];

export type CheckResult = {
  check: InstanceCheckName;
  ok: boolean;
  detail: string;
  /** What to run or do, for a failed check. */
  fix?: string;
};

export type InstanceReport = { idInstance: string; at: number; results: CheckResult[] };

/** How far back the journals are read for the "webhooks seen" check. */
export const CHECK_JOURNAL_MINUTES = 60;
/**
 * A message counts as missed only when its webhook had time to arrive and the journal time to
 * list it (entries appear up to 2 minutes late, docs/greenapi.md §8), and it is newer than the
 * last webhook seen by more than last-seen's write interval.
 */
const GRACE_MS = 5 * 60_000;

export type InstanceCheckDeps = {
  client: GreenApiClient;
  limiter: RateLimiter;
  /** ms of the latest webhook or notification seen from the instance (last-seen.ts). */
  lastSeenAt: number | undefined;
  /** Where its webhooks should go (WEBHOOK_URL); undefined: only "set at all" is checked. */
  webhookUrl: string | undefined;
  now?: () => number;
  /** Longest wait for the instance's rate budget, per call. */
  maxWaitMs?: number;
};

/**
 * Everything that must hold for an instance to lose nothing: authorised, its webhooks aimed
 * at this archiver with its token, every needed setting on, journals readable (backfill
 * needs them), and webhooks arriving whenever the journals show messages. Never throws for
 * a Green-API answer: a failed call is a failed check, with what it said.
 */
export async function checkInstance(
  instance: InstanceConfig,
  deps: InstanceCheckDeps,
): Promise<InstanceReport> {
  const id = instance.idInstance;
  const now = deps.now ?? Date.now;
  const call = <T>(method: string, fn: () => Promise<T>) =>
    attempt(() => limitedCall(deps.limiter, id, method, fn, { maxWaitMs: deps.maxWaitMs }));
  const [state, settings, incoming, outgoing] = await Promise.all([
    call('getStateInstance', () => deps.client.getStateInstance()),
    call('getSettings', () => deps.client.getSettings()),
    call('lastIncomingMessages', () =>
      deps.client.lastIncomingMessages({ minutes: CHECK_JOURNAL_MINUTES }),
    ),
    call('lastOutgoingMessages', () =>
      deps.client.lastOutgoingMessages({ minutes: CHECK_JOURNAL_MINUTES }),
    ),
  ]);
  const connect = `archiver instances connect --instance ${id}${deps.webhookUrl ? '' : ' --url https://…/webhooks/green-api'}`;
  const results: CheckResult[] = [];
  const add = (check: InstanceCheckName, ok: boolean, detail: string, fix?: string) =>
    results.push({ check, ok, detail, ...(ok ? {} : { fix }) });

  if (!state.ok) add('authorized', false, state.error, credentialsFix(state.error));
  else if (state.value === 'authorized') add('authorized', true, 'authorized');
  else {
    add('authorized', false, `state ${state.value}`, 'scan the QR code in the Green-API console');
  }

  if (!settings.ok) {
    for (const check of ['webhook_url', 'webhook_token', 'settings'] as const) {
      add(check, false, `getSettings: ${settings.error}`, credentialsFix(settings.error));
    }
  } else {
    const expected = settingsTarget(instance, deps.webhookUrl ?? '');
    const plan = planSettings(settings.value, expected, instance.kind);
    const change = (field: string) => plan.changes.find((c) => c.field === field);
    const url = change('webhookUrl');
    if (deps.webhookUrl === undefined && instance.delivery === 'webhook') {
      const set = (settings.value.webhookUrl ?? '') !== '';
      add('webhook_url', set, set ? 'set (WEBHOOK_URL unset: not compared)' : 'empty', connect);
    } else {
      add('webhook_url', !url, url ? `${url.from}, expected ${url.to}` : 'this archiver', connect);
    }
    const token = change('webhookUrlToken');
    if (instance.delivery === 'poll') add('webhook_token', true, 'not used (polled)');
    else add('webhook_token', !token, token ? token.from : "the instance's webhookToken", connect);
    const flags = plan.changes.filter(
      (c) => c.field !== 'webhookUrl' && c.field !== 'webhookUrlToken',
    );
    add(
      'settings',
      flags.length === 0,
      flags.length === 0
        ? 'every needed webhook on'
        : `off: ${flags.map((c) => c.field).join(', ')}`,
      connect,
    );
  }

  const journalError = !incoming.ok ? incoming.error : !outgoing.ok ? outgoing.error : undefined;
  add(
    'journals',
    journalError === undefined,
    journalError ?? 'readable',
    journalError && credentialsFix(journalError),
  );

  if (incoming.ok && outgoing.ok) {
    const t = now();
    const since = (deps.lastSeenAt ?? 0) + GRACE_MS;
    // A message listed twice (both journals, a repeated entry) is one message.
    const missed = new Set(
      [...incoming.value, ...outgoing.value]
        .filter(
          (item: JournalItem) =>
            item.timestamp * 1000 > since && item.timestamp * 1000 < t - GRACE_MS,
        )
        .map((item) => `${item.chatId}\u0000${item.idMessage}`),
    ).size;
    const seen =
      deps.lastSeenAt === undefined ? 'none seen' : `last ${ago(t - deps.lastSeenAt)} ago`;
    add(
      'webhooks',
      missed === 0,
      missed === 0
        ? seen
        : `${missed} message(s) in the journals of the last ${CHECK_JOURNAL_MINUTES} min arrived by no webhook (${seen})`,
      `check that Green-API reaches the receiver (webhook_url, webhook_token, its 401s in the logs), then archiver backfill --instance ${id}`,
    );
  } else {
    add('webhooks', false, 'journals unreadable: cannot tell', credentialsFix(journalError ?? ''));
  }
  return { idInstance: id, at: now(), results };
}

type Attempt<T> = { ok: true; value: T } | { ok: false; error: string };

async function attempt<T>(fn: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    // Client errors carry no token (the client redacts them); others: only their name.
    if (isError(err, GreenApiError) || isError(err, RateBudgetExhaustedError)) {
      return { ok: false, error: err.message };
    }
    return { ok: false, error: err instanceof Error ? err.name : 'error' };
  }
}

function credentialsFix(error: string): string {
  return /HTTP 40[13]/.test(error)
    ? 'check idInstance, apiTokenInstance and apiUrl in GREEN_API_INSTANCES'
    : 'look again later; if it persists, check the instance in the Green-API console';
}

function ago(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h`;
}

/** Failed checks of a report, for a summary line. */
export function problemsOf(report: InstanceReport): CheckResult[] {
  return report.results.filter((r) => !r.ok);
}
