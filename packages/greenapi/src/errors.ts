/**
 * Typed Green-API errors. None of them ever holds a secret: the instance token sits in the
 * request path, and Green-API or a proxy may echo the path in an error body, so every text
 * an error is built from is redacted first (`redact`). An error's message, stack and body
 * then carry no token wherever they travel: BullMQ's failedReason and stacktrace in Redis,
 * a job's lastError, the S3 record's reason, logs and exported spans.
 */
export class GreenApiError extends Error {
  override name = 'GreenApiError';
  /** Response text, redacted and cut short; Green-API error bodies are short text or JSON. */
  readonly body?: string;

  constructor(
    message: string,
    readonly method: string,
    readonly status?: number,
    body?: string,
    options?: ErrorOptions,
  ) {
    // Redacted before Error captures the stack, whose first line is the message.
    super(redact(message), options);
    if (body !== undefined) this.body = redact(body);
  }

  /**
   * The error for a non-2xx answer. `secrets` are the values to take out of the body (the
   * instance's token); a token in an echoed `waInstance…/method/…` path goes in any case.
   */
  static fromResponse(
    method: string,
    status: number,
    body: string,
    retryAfter?: string | null,
    secrets: readonly string[] = [],
  ) {
    // Redacted before it is cut: a cut could leave the first characters of a token.
    const text = redact(body, secrets).slice(0, 300);
    const message = `${method}: HTTP ${status}${text ? `: ${text}` : ''}`;
    if (status === 429) {
      return new GreenApiRateLimitError(message, method, status, text, parseRetryAfter(retryAfter));
    }
    if (status === 401 || status === 403 || status === 466) {
      return new GreenApiInstanceError(message, method, status, text);
    }
    if (status === 400) return from400(message, method, text);
    return new GreenApiHttpError(message, method, status, text);
  }
}

export const REDACTED = '[redacted]';

/** A token where Green-API's paths put it: `waInstance{id}/{method}/{token}`. */
const TOKEN_IN_PATH = /(waInstance\d+\/[A-Za-z]+\/)[^/?#\s"'<>\\]+/g;

/**
 * `text` without any of `secrets` (as written, and percent-encoded as a URL would carry
 * it) and without the token segment of any Green-API method path.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    out = out.split(secret).join(REDACTED);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join(REDACTED);
  }
  return out.replace(TOKEN_IN_PATH, `$1${REDACTED}`);
}

/** Any non-2xx answer not covered by a narrower class (5xx, 404, 499...). */
export class GreenApiHttpError extends GreenApiError {
  override name = 'GreenApiHttpError';
}

/** 429: the instance's per-method budget is spent. */
export class GreenApiRateLimitError extends GreenApiError {
  override name = 'GreenApiRateLimitError';
  constructor(
    message: string,
    method: string,
    status: number,
    body: string,
    /** From `Retry-After` when Green-API sends one (unconfirmed that it does). */
    readonly retryAfterMs?: number,
  ) {
    super(message, method, status, body);
  }
}

/**
 * The instance cannot serve anyone right now: wrong credentials (401/403), monthly quota
 * (466), not authorised / starting / expired account. Every job of that instance would fail
 * the same way, so the worker delays instead of spending attempts, and alerts.
 */
export class GreenApiInstanceError extends GreenApiError {
  override name = 'GreenApiInstanceError';
}

/** 400 "File message encrypted url not found": the message has no file to download. */
export class GreenApiNoFileError extends GreenApiError {
  override name = 'GreenApiNoFileError';
}

/** 400 validation errors: the request itself is wrong; repeating it cannot help. */
export class GreenApiBadRequestError extends GreenApiError {
  override name = 'GreenApiBadRequestError';
}

export class GreenApiTimeoutError extends GreenApiError {
  override name = 'GreenApiTimeoutError';
}

export class GreenApiNetworkError extends GreenApiError {
  override name = 'GreenApiNetworkError';
}

/** A 2xx answer whose body is not what the docs describe; the raw text is kept. */
export class GreenApiSchemaError extends GreenApiError {
  override name = 'GreenApiSchemaError';
}

export type ErrorClass = 'retry' | 'rate_limited' | 'instance_unavailable' | 'permanent';

/**
 * The one place that decides what a failure means (docs/architecture.md §5): permanent errors end
 * the job; rate limits and instance-wide problems delay it without spending an attempt;
 * everything else (5xx including 500, network, timeouts, unexpected bodies) retries with
 * backoff until the job's deadline.
 */
export function classifyError(err: unknown): ErrorClass {
  if (isError(err, GreenApiRateLimitError)) return 'rate_limited';
  if (isError(err, GreenApiInstanceError)) return 'instance_unavailable';
  if (isError(err, GreenApiNoFileError) || isError(err, GreenApiBadRequestError)) {
    return 'permanent';
  }
  return 'retry';
}

/**
 * Whether the same request, repeated soon, may succeed: a passing failure or a rate limit.
 * Not a permanent answer, and not an instance that cannot serve (that lasts minutes, not
 * seconds). For callers that repeat a request in place, as the poller does with
 * deleteNotification; archive jobs go by `classifyError`.
 */
export function isRetryable(err: unknown): boolean {
  const verdict = classifyError(err);
  return verdict === 'retry' || verdict === 'rate_limited';
}

/**
 * `instanceof` fails across duplicated module copies; the name is the fallback. Each class
 * sets `name` to its class name as an instance field, so the class's own name is compared
 * (its prototype's `name` is Error's: comparing that would match every plain Error).
 */
export function isError<T extends Error>(
  err: unknown,
  type: abstract new (...args: never[]) => T,
): err is T {
  return err instanceof type || (err instanceof Error && err.name === type.name);
}

// Texts from docs/greenapi.md §5.1 and §6.3. Matching them is the only signal Green-API gives;
// the result is a typed class, so no caller ever branches on message text again.
const NO_FILE = /encrypted url not found/i;
const INSTANCE_STARTING = /starting process|try later/i;
const INSTANCE_UNAVAILABLE = /not authorized|account is expired|instance is deleted|is starting/i;
const VALIDATION = /validation failed|bad request data|unexpected token/i;

function from400(message: string, method: string, text: string): GreenApiError {
  if (NO_FILE.test(text)) return new GreenApiNoFileError(message, method, 400, text);
  // "instance in starting process, try later" is passing: an ordinary retry.
  if (INSTANCE_STARTING.test(text)) return new GreenApiHttpError(message, method, 400, text);
  if (INSTANCE_UNAVAILABLE.test(text)) return new GreenApiInstanceError(message, method, 400, text);
  if (VALIDATION.test(text)) return new GreenApiBadRequestError(message, method, 400, text);
  // An undocumented 400: retrying until the deadline costs little; dropping a file is worse.
  return new GreenApiHttpError(message, method, 400, text);
}

function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
