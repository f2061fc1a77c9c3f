import { describe, expect, it } from 'vitest';
import { createGreenApiClient } from './client.js';
import {
  GreenApiBadRequestError,
  GreenApiError,
  GreenApiHttpError,
  GreenApiNoFileError,
  GreenApiRateLimitError,
  GreenApiSchemaError,
  REDACTED,
  classifyError,
  isRetryable,
  redact,
} from './errors.js';
import { GreenApiInstanceError, GreenApiNetworkError, GreenApiTimeoutError } from './errors.js';

const TOKEN = 'd75b3a66374942c5b3c019c698abc2067e151558acbd412345';
const wa = {
  idInstance: '1101000001',
  apiTokenInstance: TOKEN,
  apiUrl: 'https://1101.api.green-api.com',
  kind: 'whatsapp' as const,
};

/** A server (or proxy) that answers `status` and echoes the request URL in its body. */
function echoing(status: number, prefix: string, encode = false): typeof fetch {
  return async (input) => {
    const url = encode ? encodeURIComponent(String(input)) : String(input);
    return new Response(`${prefix} ${url}`, { status });
  };
}

/** Everything of an error that can travel: message, stack, own fields (pino logs them all). */
function everything(err: unknown): string {
  const e = err as Error;
  return JSON.stringify({ ...(e as object), message: e.message, stack: e.stack });
}

describe('errors built from an answer that echoes the URL', () => {
  it.each([
    [400, 'Validation failed. Details: bad request data for', GreenApiBadRequestError],
    [400, 'File message encrypted url not found:', GreenApiNoFileError],
    [400, 'Bad gateway said', GreenApiHttpError],
    [401, 'Unauthorized:', GreenApiInstanceError],
    [404, 'Not Found:', GreenApiHttpError],
    [429, 'Too Many Requests:', GreenApiRateLimitError],
    [500, 'Internal Server Error at', GreenApiHttpError],
    [502, '<html>nginx: upstream failed for', GreenApiHttpError],
  ] as const)(
    'HTTP %i: no token in message, stack or body, same class',
    async (status, text, type) => {
      const client = createGreenApiClient(wa, { fetch: echoing(status, text) });
      const err = await client
        .downloadFile({ chatId: 'c', idMessage: 'm' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(type);
      expect(everything(err)).not.toContain(TOKEN);
      // What was echoed is still there to read, apart from the token.
      expect((err as GreenApiError).message).toContain(
        `waInstance1101000001/downloadFile/${REDACTED}`,
      );
      expect((err as GreenApiError).body).toContain(REDACTED);
    },
  );

  it('takes the token out however the URL was written, even when cut short', async () => {
    const encoded = createGreenApiClient(wa, { fetch: echoing(404, 'no route', true) });
    const e1 = await encoded.downloadFile({ chatId: 'c', idMessage: 'm' }).catch((e: unknown) => e);
    expect(everything(e1)).not.toContain(TOKEN);
    expect(everything(e1)).not.toContain(TOKEN.slice(0, 16));

    // The token at the 300-character cut: redacted before the cut, no prefix of it is left.
    // 214 + 1 + 65 characters of URL: the token starts 20 characters before the cut.
    const padding = 'x'.repeat(214);
    const cut = createGreenApiClient(wa, { fetch: echoing(500, padding) });
    const e2 = await cut.downloadFile({ chatId: 'c', idMessage: 'm' }).catch((e: unknown) => e);
    expect(everything(e2)).not.toContain(TOKEN.slice(0, 8));
  });

  it('keeps a 2xx body that is not what the docs describe, without the token', async () => {
    const client = createGreenApiClient(wa, {
      fetch: async (input) => Response.json({ error: 'moved', path: String(input) }),
    });
    const err = await client.downloadFile({ chatId: 'c', idMessage: 'm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GreenApiSchemaError);
    expect(everything(err)).not.toContain(TOKEN);
  });

  it('redacts a token segment of any instance path, and configured secrets anywhere', () => {
    expect(redact('GET /waInstance42/lastIncomingMessages/abc?minutes=5')).toBe(
      `GET /waInstance42/lastIncomingMessages/${REDACTED}?minutes=5`,
    );
    expect(redact('token=s3cr3t-value;', ['s3cr3t-value'])).toBe(`token=${REDACTED};`);
    expect(redact('nothing to hide', ['s3cr3t-value'])).toBe('nothing to hide');
    expect(new GreenApiError('x /waInstance1/downloadFile/t0k3n', 'm').message).toBe(
      `x /waInstance1/downloadFile/${REDACTED}`,
    );
  });
});

describe('isRetryable (the poller repeats a request when it is)', () => {
  it.each([
    [new GreenApiHttpError('500', 'm', 500), true],
    [new GreenApiHttpError('404', 'm', 404), true],
    [new GreenApiRateLimitError('429', 'm', 429, ''), true],
    [new GreenApiNetworkError('reset', 'm'), true],
    [new GreenApiTimeoutError('timed out', 'm'), true],
    [new GreenApiInstanceError('401', 'm', 401), false],
    [new GreenApiNoFileError('400', 'm', 400), false],
    [new GreenApiBadRequestError('400', 'm', 400), false],
  ] as const)('%s → %s', (err, expected) => {
    expect(isRetryable(err)).toBe(expected);
    expect(['retry', 'rate_limited'].includes(classifyError(err))).toBe(expected);
  });
});
