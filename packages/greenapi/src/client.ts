import type { z } from 'zod';
import type { InstanceKind } from './schemas/common.js';
import {
  GreenApiError,
  GreenApiNetworkError,
  GreenApiSchemaError,
  GreenApiTimeoutError,
  redact,
} from './errors.js';
import { fetchSend, undiciSend, type HttpAnswer } from './http.js';
import {
  deleteNotificationResponseSchema,
  downloadFileResponseSchema,
  journalResponseSchema,
  notificationResponseSchema,
  type DownloadFileResponse,
  type JournalPage,
  type Notification,
} from './schemas/responses.js';
import {
  setSettingsResponseSchema,
  settingsResponseSchema,
  stateInstanceResponseSchema,
  type InstanceSettings,
  type SettingsUpdate,
  type StateInstance,
} from './schemas/settings.js';

export type GreenApiInstance = {
  idInstance: string;
  apiTokenInstance: string;
  apiUrl: string;
  kind: InstanceKind;
};

export type GreenApiClientOptions = {
  /** Per request; a request never waits longer than this. */
  timeoutMs?: number;
  /** Sends through this `fetch` instead of undici (tests use a fake one). */
  fetch?: typeof fetch;
  /** Called once per request with the method and the HTTP status (or `error`), for metrics. */
  onResponse?: (method: string, status: number | 'error') => void;
};

type CallOptions = { signal?: AbortSignal };

export type GreenApiClient = ReturnType<typeof createGreenApiClient>;

/**
 * A typed client for the Green-API methods the archiver uses. It does not retry: BullMQ's
 * attempts are the only retry loop (two nested loops multiply).
 */
export function createGreenApiClient(
  instance: GreenApiInstance,
  options: GreenApiClientOptions = {},
) {
  const base = instanceBaseUrl(instance);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const send = options.fetch ? fetchSend(options.fetch) : undiciSend;
  /** What no error may carry (errors.ts `redact`). */
  const secrets = [instance.apiTokenInstance];

  async function call<T extends z.ZodType>(
    method: string,
    schema: T,
    init: {
      httpMethod: 'GET' | 'POST' | 'DELETE';
      path?: string;
      query?: string;
      body?: unknown;
      timeoutMs?: number;
      /** The answer holds a secret of its own (getSettings: the webhook token): never keep it. */
      secretBody?: boolean;
    },
    { signal }: CallOptions = {},
  ): Promise<z.output<T>> {
    const url = `${base}/${method}/${instance.apiTokenInstance}${init.path ?? ''}${init.query ?? ''}`;
    const timeout = AbortSignal.timeout(init.timeoutMs ?? timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let answer: HttpAnswer;
    try {
      answer = await send(url, {
        method: init.httpMethod,
        json: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: combined,
      });
    } catch (err) {
      options.onResponse?.(method, 'error');
      throw transportError(method, err, timeout, signal);
    }
    const { status, text } = answer;
    options.onResponse?.(method, status);
    if (status < 200 || status > 299) {
      throw GreenApiError.fromResponse(method, status, text, answer.retryAfter, secrets);
    }
    const parsed = schema.safeParse(parseJson(text));
    if (!parsed.success) {
      throw new GreenApiSchemaError(
        `${method}: unexpected response body`,
        method,
        status,
        init.secretBody
          ? '(not kept: it holds the webhook token)'
          : redact(text, secrets).slice(0, 300),
      );
    }
    return parsed.data;
  }

  return {
    instance: { idInstance: instance.idInstance, kind: instance.kind, apiUrl: instance.apiUrl },

    /** Asks Green-API for a fresh link to a message's file (docs/greenapi.md §5). */
    downloadFile(
      args: { chatId: string; idMessage: string },
      opts?: CallOptions,
    ): Promise<DownloadFileResponse> {
      return call(
        'downloadFile',
        downloadFileResponseSchema,
        { httpMethod: 'POST', body: args },
        opts,
      );
    },

    /** Incoming messages of the last `minutes` (journal; 1 request/s per instance). */
    lastIncomingMessages(args: { minutes: number }, opts?: CallOptions): Promise<JournalPage> {
      return call(
        'lastIncomingMessages',
        journalResponseSchema,
        { httpMethod: 'GET', query: `?minutes=${args.minutes}` },
        opts,
      );
    },

    /** Outgoing messages of the last `minutes` (journal; 1 request/s per instance). */
    lastOutgoingMessages(args: { minutes: number }, opts?: CallOptions): Promise<JournalPage> {
      return call(
        'lastOutgoingMessages',
        journalResponseSchema,
        { httpMethod: 'GET', query: `?minutes=${args.minutes}` },
        opts,
      );
    },

    /**
     * Statuses ("stories") received in the last `minutes` (beta; kept 30 days; docs/greenapi.md
     * §12). Items have the journals' flat shape, so the same tolerant parse reads them.
     */
    getIncomingStatuses(args: { minutes: number }, opts?: CallOptions): Promise<JournalPage> {
      return call(
        'getIncomingStatuses',
        journalResponseSchema,
        { httpMethod: 'GET', query: `?minutes=${args.minutes}` },
        opts,
      );
    },

    /** Statuses the account posted in the last `minutes` (same shape, `type: outgoing`). */
    getOutgoingStatuses(args: { minutes: number }, opts?: CallOptions): Promise<JournalPage> {
      return call(
        'getOutgoingStatuses',
        journalResponseSchema,
        { httpMethod: 'GET', query: `?minutes=${args.minutes}` },
        opts,
      );
    },

    /** The newest `count` messages of one chat, newest first. */
    getChatHistory(
      args: { chatId: string; count?: number },
      opts?: CallOptions,
    ): Promise<JournalPage> {
      return call(
        'getChatHistory',
        journalResponseSchema,
        { httpMethod: 'POST', body: args },
        opts,
      );
    },

    /** Long-polls the instance's notification queue; `null` when it stayed empty. */
    receiveNotification(
      args: { receiveTimeout?: number } = {},
      opts?: CallOptions,
    ): Promise<Notification | null> {
      const receiveTimeout = args.receiveTimeout ?? 5;
      return call(
        'receiveNotification',
        notificationResponseSchema,
        // The server holds the request for up to receiveTimeout seconds before answering.
        {
          httpMethod: 'GET',
          query: `?receiveTimeout=${receiveTimeout}`,
          timeoutMs: timeoutMs + receiveTimeout * 1000,
        },
        opts,
      );
    },

    /** The instance's settings: webhook URL and token, which webhooks are on (1 request/s). */
    getSettings(opts?: CallOptions): Promise<InstanceSettings> {
      return call(
        'getSettings',
        settingsResponseSchema,
        { httpMethod: 'GET', secretBody: true },
        opts,
      );
    },

    /**
     * Changes only the fields given. Green-API reboots the instance on every call and applies
     * the settings within about 5 minutes (docs/greenapi.md §7.4): confirm with getSettings.
     * Resolves to `saveSettings`.
     */
    async setSettings(update: SettingsUpdate, opts?: CallOptions): Promise<boolean> {
      const res = await call(
        'setSettings',
        setSettingsResponseSchema,
        { httpMethod: 'POST', body: update },
        opts,
      );
      return res.saveSettings;
    },

    /** `authorized`, `notAuthorized`, `starting`, `blocked`, … (1 request/s). */
    async getStateInstance(opts?: CallOptions): Promise<StateInstance> {
      const res = await call(
        'getStateInstance',
        stateInstanceResponseSchema,
        { httpMethod: 'GET' },
        opts,
      );
      return res.stateInstance;
    },

    /** Removes a handled notification; `false` when it was already gone. */
    async deleteNotification(receiptId: number, opts?: CallOptions): Promise<boolean> {
      const res = await call(
        'deleteNotification',
        deleteNotificationResponseSchema,
        { httpMethod: 'DELETE', path: `/${receiptId}` },
        opts,
      );
      return res.result;
    },
  };
}

/**
 * `{apiUrl}/waInstance{id}` for WhatsApp, `{apiUrl}/v3/waInstance{id}` for MAX. An apiUrl
 * that already ends in `/v3` (as some consoles show it) is not prefixed twice.
 */
export function instanceBaseUrl(
  instance: Pick<GreenApiInstance, 'apiUrl' | 'idInstance' | 'kind'>,
): string {
  const root = instance.apiUrl.replace(/\/+$/, '');
  const prefix = instance.kind === 'max' && !/\/v3$/.test(root) ? '/v3' : '';
  return `${root}${prefix}/waInstance${instance.idInstance}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function transportError(
  method: string,
  err: unknown,
  timeout: AbortSignal,
  signal: AbortSignal | undefined,
): GreenApiError {
  if (timeout.aborted) return new GreenApiTimeoutError(`${method}: timed out`, method);
  if (signal?.aborted || (err instanceof Error && err.name === 'AbortError')) {
    return new GreenApiNetworkError(`${method}: aborted`, method);
  }
  // Only the low-level code is kept: an error's message or cause can carry the request URL,
  // and with it the token.
  const code = errorCode(err);
  return new GreenApiNetworkError(`${method}: network error${code ? ` (${code})` : ''}`, method);
}

/** undici puts the code on the error itself (ECONNREFUSED, UND_ERR_SOCKET); fetch on its cause. */
function errorCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const own = (err as { code?: unknown }).code;
  if (typeof own === 'string') return own;
  const cause = err.cause as { code?: unknown } | undefined;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}
