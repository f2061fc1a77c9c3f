import { HostNotAllowedError } from './errors.js';

/**
 * DOWNLOAD_HOSTS: `*.example.com` matches subdomains of example.com; any other entry matches
 * exactly. https is always required, except that plain http is allowed to a host listed
 * exactly (a local MinIO or a test server), never through a wildcard.
 */
export function createHostGuard(patterns: string[]) {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const raw of patterns) {
    const pattern = raw.trim().toLowerCase();
    if (pattern.startsWith('*.')) suffixes.push(pattern.slice(1));
    else if (pattern) exact.add(pattern);
  }
  return function assertAllowed(url: string): URL {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new HostNotAllowedError('downloadUrl is not a URL');
    }
    const host = parsed.hostname.toLowerCase();
    const listedExactly = exact.has(host);
    const byWildcard = suffixes.some(
      (suffix) => host.endsWith(suffix) && host.length > suffix.length,
    );
    const protocolOk =
      parsed.protocol === 'https:' || (parsed.protocol === 'http:' && listedExactly);
    if (!protocolOk || !(listedExactly || byWildcard)) {
      // The host is named, never the path or query: they may carry signatures.
      throw new HostNotAllowedError(`download host not allowed: ${parsed.protocol}//${host}`);
    }
    return parsed;
  };
}

export type HostGuard = ReturnType<typeof createHostGuard>;
