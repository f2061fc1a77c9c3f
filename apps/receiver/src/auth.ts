import { hash, timingSafeEqual } from 'node:crypto';
import type { InstanceConfig } from '@archiver/core';

/** sha256 digest; comparing digests keeps `timingSafeEqual` length-independent. */
export function digest(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

/** Constant-time equality of two strings: both sides hashed, then `timingSafeEqual`. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * The token from an `Authorization` header: `Bearer <t>` (any case), or the raw token, which
 * Green-API's own sample servers also accept (docs/greenapi.md §7.1). Empty → undefined.
 */
export function parseWebhookToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  const bearer = /^bearer(?:\s+(.*))?$/is.exec(value);
  const token = (bearer ? (bearer[1] ?? '') : value).trim();
  return token === '' ? undefined : token;
}

/** A presented token that matched at least one configured token; hashed once per request. */
export type AdmittedToken = { readonly digest: Buffer };

/** What the per-instance check decided for a parsed body. */
export type InstanceAuth =
  { ok: true } | { ok: false; reason: 'other_instance' | 'unknown_instance' };

export type WebhookAuth = {
  /** Before the body is read: the token matches some configured token, or undefined. */
  admit(token: string | undefined): AdmittedToken | undefined;
  /** After parsing: the admitted token is the one configured for the body's idInstance. */
  forInstance(token: AdmittedToken, idInstance: string | undefined): InstanceAuth;
};

/**
 * Token checks for the webhook route. Digests of the configured tokens are computed once; a
 * presented token is hashed once per request, in `admit`.
 * `instances[].webhookToken` already falls back to WEBHOOK_TOKEN (core parseInstances).
 */
export function createWebhookAuth(opts: {
  instances: InstanceConfig[];
  webhookToken?: string;
}): WebhookAuth {
  const globalDigest = opts.webhookToken === undefined ? undefined : digest(opts.webhookToken);
  const byInstance = new Map<string, Buffer>();
  for (const instance of opts.instances) {
    if (instance.webhookToken !== undefined) {
      byInstance.set(instance.idInstance, digest(instance.webhookToken));
    }
  }
  const distinct = uniqueDigests([...(globalDigest ? [globalDigest] : []), ...byInstance.values()]);

  // No early exit: the time taken does not tell which token (if any) matched.
  const matchesAny = (presented: Buffer) =>
    distinct.reduce((match, known) => timingSafeEqual(presented, known) || match, false);

  return {
    admit(token) {
      if (token === undefined) return undefined;
      const presented = digest(token);
      return matchesAny(presented) ? { digest: presented } : undefined;
    },
    forInstance({ digest: presented }, idInstance) {
      // No usable idInstance: the admitted token will do; ingest then quarantines the body.
      if (idInstance === undefined) return { ok: true };
      const instanceDigest = byInstance.get(idInstance);
      if (instanceDigest) {
        return timingSafeEqual(presented, instanceDigest)
          ? { ok: true }
          : { ok: false, reason: 'other_instance' };
      }
      // An instance this receiver was not told about: only the global token vouches for the
      // sender, and ingest then quarantines the body instead of making a job of it.
      return globalDigest && timingSafeEqual(presented, globalDigest)
        ? { ok: true }
        : { ok: false, reason: 'unknown_instance' };
    },
  };
}

function uniqueDigests(digests: Buffer[]): Buffer[] {
  const seen = new Map<string, Buffer>();
  for (const d of digests) seen.set(d.toString('hex'), d);
  return [...seen.values()];
}

/**
 * `Authorization: Basic base64(user:password)` against the dashboard credentials. Both parts
 * are always compared so the time taken does not reveal which one was wrong.
 */
export function checkBasicAuth(
  header: string | undefined,
  expected: { user: string; password: string },
): boolean {
  const match =
    header === undefined ? null : /^basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header.trim());
  if (!match?.[1]) return false;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const userOk = safeEqual(decoded.slice(0, colon), expected.user);
  const passwordOk = safeEqual(decoded.slice(colon + 1), expected.password);
  return userOk && passwordOk;
}
