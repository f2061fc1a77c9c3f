import { HostNotAllowedError } from './errors.js';

type Entry = { host: string; port?: string };

/**
 * `host`, `host:port`, `[v6]`, `[v6]:port`, or `*.suffix` with an optional port. A trailing
 * `:digits` on something that is not a bracketed IPv6 address is a port.
 */
export function parseHostEntry(raw: string): Entry | undefined {
  const entry = raw.trim().toLowerCase();
  if (!entry) return undefined;
  const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
  if (!match?.[1]) return undefined;
  return { host: match[1], port: match[2] === undefined ? undefined : String(Number(match[2])) };
}

/** The port a URL really goes to: the explicit one, else the scheme's. */
function effectivePort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

/**
 * DOWNLOAD_HOSTS: `*.example.com` matches subdomains of example.com; any other entry matches
 * exactly. An entry with a port (`minio.internal:9000`) matches that port only; one without
 * matches any. https is always required, except that plain http is allowed to a host listed
 * exactly (a local MinIO or a test server), never through a wildcard. The configuration adds
 * each instance's apiUrl/mediaUrl host with its own port (core config.ts), so trusting an
 * instance's API host does not open its other ports.
 */
export function createHostGuard(patterns: string[]) {
  const exact: Entry[] = [];
  const suffixes: Entry[] = [];
  for (const raw of patterns) {
    const entry = parseHostEntry(raw);
    if (!entry) continue;
    if (entry.host.startsWith('*.')) suffixes.push({ ...entry, host: entry.host.slice(1) });
    else exact.push(entry);
  }
  const portOk = (entry: Entry, port: string) => entry.port === undefined || entry.port === port;

  return function assertAllowed(url: string): URL {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new HostNotAllowedError('downloadUrl is not a URL');
    }
    const host = parsed.hostname.toLowerCase();
    const port = effectivePort(parsed);
    const listedExactly = exact.some((e) => e.host === host && portOk(e, port));
    const byWildcard = suffixes.some(
      (e) => host.endsWith(e.host) && host.length > e.host.length && portOk(e, port),
    );
    const protocolOk =
      parsed.protocol === 'https:' || (parsed.protocol === 'http:' && listedExactly);
    if (!protocolOk || !(listedExactly || byWildcard)) {
      // The host is named, never the path or query: they may carry signatures.
      throw new HostNotAllowedError(
        `download host not allowed: ${parsed.protocol}//${parsed.host}`,
      );
    }
    return parsed;
  };
}

export type HostGuard = ReturnType<typeof createHostGuard>;
