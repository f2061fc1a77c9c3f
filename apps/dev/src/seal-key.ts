import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Where `dev` keeps its own seal signing key: made once, kept with the demo's data, so the
 * demo's chain of custody survives restarts. A development key only: production keys come
 * from SEAL_SIGNING_KEY (docs/custody.md).
 */
export function devSealKeyPath(dataDir: string): string {
  return join(dataDir, 'seal-signing-key.pem');
}

export function ensureDevSealKey(path: string): void {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true });
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
}
