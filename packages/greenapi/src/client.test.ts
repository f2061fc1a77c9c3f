import { describe, expect, it } from 'vitest';
import { createGreenApiClient, instanceBaseUrl } from './client.js';
import {
  GreenApiBadRequestError,
  GreenApiInstanceError,
  GreenApiNetworkError,
  GreenApiNoFileError,
  GreenApiRateLimitError,
  GreenApiSchemaError,
  GreenApiTimeoutError,
  classifyError,
  isError,
  isRetryable,
} from './errors.js';

const TOKEN = 'secret-token-0123456789abcdef';
const wa = {
  idInstance: '1101000001',
  apiTokenInstance: TOKEN,
  apiUrl: 'https://1101.api.green-api.com',
  kind: 'whatsapp' as const,
};
const max = { ...wa, idInstance: '3100000000', kind: 'max' as const };

function fakeFetch(status: number, body: string, headers: Record<string, string> = {}) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const impl: typeof fetch = async (input, init) => {
    calls.push({ url: String(input), init });
    return new Response(body, { status, headers });
  };
  return { impl, calls };
}

describe('instanceBaseUrl', () => {
  it('prefixes /v3 for MAX only, never twice', () => {
    expect(instanceBaseUrl(wa)).toBe('https://1101.api.green-api.com/waInstance1101000001');
    expect(instanceBaseUrl(max)).toBe('https://1101.api.green-api.com/v3/waInstance3100000000');
    expect(instanceBaseUrl({ ...max, apiUrl: 'https://3100.api.green-api.com/v3/' })).toBe(
      'https://3100.api.green-api.com/v3/waInstance3100000000',
    );
  });
});

describe('downloadFile', () => {
  it('posts chatId and idMessage and returns the link', async () => {
    const f = fakeFetch(
      200,
      JSON.stringify({ downloadUrl: 'https://x.storage.yandexcloud.net/a.png' }),
    );
    const client = createGreenApiClient(max, { fetch: f.impl });
    await expect(client.downloadFile({ chatId: '10000000', idMessage: '1' })).resolves.toEqual({
      downloadUrl: 'https://x.storage.yandexcloud.net/a.png',
    });
    expect(f.calls[0]?.url).toBe(
      `https://1101.api.green-api.com/v3/waInstance3100000000/downloadFile/${TOKEN}`,
    );
    expect(f.calls[0]?.init?.method).toBe('POST');
    expect(JSON.parse(String(f.calls[0]?.init?.body))).toEqual({
      chatId: '10000000',
      idMessage: '1',
    });
  });

  it.each([
    [
      400,
      'File message encrypted url not found by chatId 1 and idMessage 2',
      GreenApiNoFileError,
      'permanent',
    ],
    [
      400,
      '"File message encrypted url not found by chatId 10000000 and idMessage 2"',
      GreenApiNoFileError,
      'permanent',
    ],
    [
      400,
      "Validation failed. Details: 'value' must have at least 2 keys",
      GreenApiBadRequestError,
      'permanent',
    ],
    [400, 'instance in starting process try later', Error, 'retry'],
    [400, 'instance account not authorized', GreenApiInstanceError, 'instance_unavailable'],
    [401, 'Unauthorized', GreenApiInstanceError, 'instance_unavailable'],
    [403, 'Forbidden', GreenApiInstanceError, 'instance_unavailable'],
    [466, '{"invokeStatus":{}}', GreenApiInstanceError, 'instance_unavailable'],
    [429, 'Too Many Requests', GreenApiRateLimitError, 'rate_limited'],
    [500, 'Internal error when downloading file by chatId 1 and idMessage 2', Error, 'retry'],
    [502, 'Bad Gateway', Error, 'retry'],
  ] as const)('HTTP %i %s → %s', async (status, body, type, verdict) => {
    const client = createGreenApiClient(wa, { fetch: fakeFetch(status, body).impl });
    const err = await client.downloadFile({ chatId: 'c', idMessage: 'm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect(classifyError(err)).toBe(verdict);
    expect(isRetryable(err)).toBe(verdict === 'retry' || verdict === 'rate_limited');
    expect(String((err as Error).message)).not.toContain(TOKEN);
  });

  it('honours Retry-After on 429', async () => {
    const client = createGreenApiClient(wa, {
      fetch: fakeFetch(429, '', { 'retry-after': '3' }).impl,
    });
    const err = await client.downloadFile({ chatId: 'c', idMessage: 'm' }).catch((e: unknown) => e);
    expect((err as GreenApiRateLimitError).retryAfterMs).toBe(3000);
  });

  it('rejects an unexpected body with a schema error that keeps the raw text', async () => {
    const client = createGreenApiClient(wa, { fetch: fakeFetch(200, '{"url":"x"}').impl });
    const err = await client.downloadFile({ chatId: 'c', idMessage: 'm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GreenApiSchemaError);
    expect((err as GreenApiSchemaError).body).toBe('{"url":"x"}');
    expect(isRetryable(err)).toBe(true);
  });

  it('times out and never leaks the token from a network error', async () => {
    const hang: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
      );
    const slow = createGreenApiClient(wa, { fetch: hang, timeoutMs: 20 });
    await expect(slow.downloadFile({ chatId: 'c', idMessage: 'm' })).rejects.toBeInstanceOf(
      GreenApiTimeoutError,
    );

    const failing: typeof fetch = async (input) => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error(`connect ECONNREFUSED ${String(input)}`), {
          code: 'ECONNREFUSED',
        }),
      });
    };
    const err = await createGreenApiClient(wa, { fetch: failing })
      .downloadFile({ chatId: 'c', idMessage: 'm' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GreenApiNetworkError);
    expect(JSON.stringify({ ...(err as object), message: (err as Error).message })).not.toContain(
      TOKEN,
    );
    expect((err as Error).message).toBe('downloadFile: network error (ECONNREFUSED)');
  });

  it('reports each response for metrics', async () => {
    const seen: unknown[] = [];
    const client = createGreenApiClient(wa, {
      fetch: fakeFetch(500, 'x').impl,
      onResponse: (m, s) => seen.push([m, s]),
    });
    await client.downloadFile({ chatId: 'c', idMessage: 'm' }).catch(() => undefined);
    expect(seen).toEqual([['downloadFile', 500]]);
  });
});

describe('classifyError', () => {
  it('treats an error of no known class (a socket reset from S3, say) as retryable', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classifyError(reset)).toBe('retry');
    expect(isError(reset, GreenApiNoFileError)).toBe(false);
    expect(isError(reset, GreenApiRateLimitError)).toBe(false);
    // The name fallback still recognises a copy of the class from another module instance.
    const copy = Object.assign(new Error('x'), { name: 'GreenApiNoFileError' });
    expect(classifyError(copy)).toBe('permanent');
  });
});

describe('journals and notifications', () => {
  it('parses flat journal items and notification envelopes', async () => {
    const item = {
      type: 'incoming',
      idMessage: 'A',
      timestamp: 1,
      typeMessage: 'imageMessage',
      chatId: '1@c.us',
      downloadUrl: 'https://x/y.jpg',
    };
    const journal = createGreenApiClient(wa, {
      fetch: fakeFetch(200, JSON.stringify([item])).impl,
    });
    expect([...(await journal.lastIncomingMessages({ minutes: 60 }))]).toEqual([item]);
    const mixed = createGreenApiClient(wa, {
      fetch: fakeFetch(200, JSON.stringify([item, { type: 'odd' }, item])).impl,
    });
    const page = await mixed.lastIncomingMessages({ minutes: 60 });
    expect([...page]).toEqual([item, item]);
    expect(page.invalid).toBe(1);
    const empty = createGreenApiClient(wa, { fetch: fakeFetch(200, 'null').impl });
    await expect(empty.receiveNotification({ receiveTimeout: 5 })).resolves.toBeNull();
    const del = fakeFetch(200, '{"result":true}');
    await expect(
      createGreenApiClient(wa, { fetch: del.impl }).deleteNotification(42),
    ).resolves.toBe(true);
    expect(del.calls[0]?.url).toBe(
      `https://1101.api.green-api.com/waInstance1101000001/deleteNotification/${TOKEN}/42`,
    );
  });
});

describe('settings and state', () => {
  it('reads settings, keeping fields it does not know and accepting booleans', async () => {
    const f = fakeFetch(
      200,
      JSON.stringify({
        webhookUrl: 'https://a.example/webhooks/green-api',
        webhookUrlToken: 'hook-secret',
        incomingWebhook: 'yes',
        editedMessageWebhook: true,
        delaySendMessagesMilliseconds: 5000,
      }),
    );
    const settings = await createGreenApiClient(wa, { fetch: f.impl }).getSettings();
    expect(f.calls[0]?.url).toBe(
      `https://1101.api.green-api.com/waInstance1101000001/getSettings/${TOKEN}`,
    );
    expect(f.calls[0]?.init?.method).toBe('GET');
    expect(settings).toMatchObject({ incomingWebhook: 'yes', editedMessageWebhook: true });
    expect(settings['delaySendMessagesMilliseconds']).toBe(5000);
  });

  it('never keeps a settings body in a schema error: it holds the webhook token', async () => {
    const f = fakeFetch(
      200,
      JSON.stringify({ webhookUrlToken: 'hook-secret', incomingWebhook: 7 }),
    );
    const err = await createGreenApiClient(wa, { fetch: f.impl })
      .getSettings()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GreenApiSchemaError);
    expect(JSON.stringify({ ...(err as object), message: (err as Error).message })).not.toContain(
      'hook-secret',
    );
  });

  it('posts only the fields to change and returns saveSettings', async () => {
    const f = fakeFetch(200, '{"saveSettings":true}');
    const client = createGreenApiClient(max, { fetch: f.impl });
    await expect(client.setSettings({ incomingWebhook: 'yes' })).resolves.toBe(true);
    expect(f.calls[0]?.url).toBe(
      `https://1101.api.green-api.com/v3/waInstance3100000000/setSettings/${TOKEN}`,
    );
    expect(f.calls[0]?.init?.method).toBe('POST');
    expect(JSON.parse(String(f.calls[0]?.init?.body))).toEqual({ incomingWebhook: 'yes' });
  });

  it('reads the state, including values it was not told about', async () => {
    const client = createGreenApiClient(wa, {
      fetch: fakeFetch(200, '{"stateInstance":"sleepMode"}').impl,
    });
    await expect(client.getStateInstance()).resolves.toBe('sleepMode');
    const bad = createGreenApiClient(wa, { fetch: fakeFetch(200, '{"state":"x"}').impl });
    await expect(bad.getStateInstance()).rejects.toBeInstanceOf(GreenApiSchemaError);
  });
});
