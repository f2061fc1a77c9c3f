import {
  limitedCall,
  planSettings,
  settingsTarget,
  type InstanceConfig,
  type RateLimiter,
  type SettingsPlan,
} from '@archiver/core';
import {
  GreenApiError,
  isError,
  type GreenApiClient,
  type InstanceSettings,
} from '@archiver/greenapi';
import { RateBudgetExhaustedError, sleep } from '@archiver/core';

export type ConnectOptions = {
  webhookUrl: string;
  dryRun: boolean;
  /** Longest wait for the reboot and the delayed apply, per instance. */
  waitMs: number;
  /** Between two looks at the instance while waiting (the methods allow 1 request/s). */
  pollMs: number;
};

export type ConnectResult =
  | { idInstance: string; outcome: 'unchanged' }
  | { idInstance: string; outcome: 'planned'; plan: SettingsPlan }
  | {
      idInstance: string;
      outcome: 'connected';
      plan: SettingsPlan;
      state: string;
      waitedMs: number;
    }
  | {
      idInstance: string;
      outcome: 'failed';
      plan?: SettingsPlan;
      /** Short code: `no_token`, `greenapi_error`, `not_saved`, `timeout`, `not_authorized`. */
      reason: string;
      detail: string;
    };

export type ConnectDeps = {
  client: GreenApiClient;
  limiter: RateLimiter;
  /** Progress lines (the diff, the reboot warning, the wait). */
  say(line: string): void;
  now?: () => number;
};

/**
 * Points one instance at the archiver: reads its settings, prints what will change, sends
 * only that (every other setting stays as it was), waits out the reboot SetSettings causes
 * and confirms with GetSettings that the change applied (docs/greenapi.md §7.4). Nothing to
 * change: nothing is sent, so a second run never reboots the instance again.
 */
export async function connectInstance(
  instance: InstanceConfig,
  opts: ConnectOptions,
  deps: ConnectDeps,
): Promise<ConnectResult> {
  const id = instance.idInstance;
  const call = <T>(method: string, fn: () => Promise<T>) =>
    limitedCall(deps.limiter, id, method, fn, { maxWaitMs: opts.waitMs });
  const target = settingsTarget(instance, opts.webhookUrl);
  if (instance.delivery === 'webhook' && !instance.webhookToken) {
    return failed(
      id,
      'no_token',
      "no webhookToken (set WEBHOOK_TOKEN or the instance's webhookToken)",
    );
  }
  let current: InstanceSettings;
  let state: string;
  try {
    state = await call('getStateInstance', () => deps.client.getStateInstance());
    current = await call('getSettings', () => deps.client.getSettings());
  } catch (err) {
    return failed(id, 'greenapi_error', describe(err));
  }
  const plan = planSettings(current, target, instance.kind);
  if (plan.changes.length === 0) return { idInstance: id, outcome: 'unchanged' };
  if (opts.dryRun) return { idInstance: id, outcome: 'planned', plan };

  try {
    const saved = await call('setSettings', () => deps.client.setSettings(plan.update));
    if (!saved) return failed(id, 'not_saved', 'setSettings answered saveSettings: false', plan);
  } catch (err) {
    return failed(id, 'greenapi_error', describe(err), plan);
  }
  deps.say(`instance ${id}: settings sent; waiting for the reboot and for them to apply`);
  return waitApplied(instance, plan, state === 'authorized', opts, deps, call);
}

/**
 * Until the instance is back (authorized, or out of `starting` when it was not authorised
 * before) and GetSettings shows nothing left to change. Errors while it reboots are expected
 * ("instance in starting process") and only mean: look again.
 */
async function waitApplied(
  instance: InstanceConfig,
  plan: SettingsPlan,
  wasAuthorized: boolean,
  opts: ConnectOptions,
  deps: ConnectDeps,
  call: <T>(method: string, fn: () => Promise<T>) => Promise<T>,
): Promise<ConnectResult> {
  const now = deps.now ?? Date.now;
  const started = now();
  const target = settingsTarget(instance, opts.webhookUrl);
  let last = 'no answer yet';
  let state = 'unknown';
  while (now() - started < opts.waitMs) {
    try {
      state = await call('getStateInstance', () => deps.client.getStateInstance());
      const back = wasAuthorized ? state === 'authorized' : state !== 'starting';
      if (back) {
        const left = planSettings(
          await call('getSettings', () => deps.client.getSettings()),
          target,
          instance.kind,
        );
        if (left.changes.length === 0) {
          const waitedMs = now() - started;
          if (state !== 'authorized') {
            return failed(
              instance.idInstance,
              'not_authorized',
              `settings applied, but the instance is ${state}: scan its QR code in the Green-API console`,
              plan,
            );
          }
          return { idInstance: instance.idInstance, outcome: 'connected', plan, state, waitedMs };
        }
        last = `still to apply: ${left.changes.map((c) => c.field).join(', ')}`;
      } else {
        last = `state ${state}`;
      }
    } catch (err) {
      if (!isError(err, GreenApiError) && !isError(err, RateBudgetExhaustedError)) throw err;
      last = describe(err);
    }
    await sleep(opts.pollMs);
  }
  return failed(
    instance.idInstance,
    'timeout',
    `not confirmed within ${Math.round(opts.waitMs / 1000)} s (${last}); run the command again later`,
    plan,
  );
}

function failed(
  idInstance: string,
  reason: string,
  detail: string,
  plan?: SettingsPlan,
): ConnectResult {
  return { idInstance, outcome: 'failed', reason, detail, ...(plan ? { plan } : {}) };
}

/** Green-API errors carry no token (the client redacts them); anything else: its name only. */
function describe(err: unknown): string {
  if (isError(err, GreenApiError) || isError(err, RateBudgetExhaustedError)) return err.message;
  return err instanceof Error ? err.name : 'error';
}
