import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSecrets, loadConfig } from './config.js';

const worker = {
  S3_BUCKET: 'archive',
  GREEN_API_ID_INSTANCE: '1101000001',
  GREEN_API_TOKEN: 'tok-secret',
};
const pair = generateKeyPairSync('ed25519');
const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...worker, ...env }, 'worker', { readFile: () => privatePem });
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
}

describe('custody configuration', () => {
  it('seals every 60 minutes and has no key by default', () => {
    expect(loadConfig(worker, 'worker').custody).toEqual({ intervalMinutes: 60 });
  });

  it('takes the keys as PEM or @path, and treats the private key as a secret', () => {
    const config = loadConfig(
      { ...worker, SEAL_SIGNING_KEY: '@/keys/seal.pem', SEAL_PUBLIC_KEY: publicPem },
      'worker',
      { readFile: (path) => (path === '/keys/seal.pem' ? privatePem : '') },
    );
    expect(config.custody.signingKey).toBe(privatePem);
    expect(config.custody.publicKey).toBe(publicPem);
    expect(configSecrets(config)).toContain(privatePem);
  });

  it('refuses a key that is not Ed25519, without printing it', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const found = problems({ SEAL_SIGNING_KEY: rsa, SEAL_PUBLIC_KEY: 'nonsense' });
    expect(found).toEqual([
      'SEAL_SIGNING_KEY: not an Ed25519 private key in PKCS#8 PEM',
      'SEAL_PUBLIC_KEY: not an Ed25519 public key in PEM',
    ]);
    expect(found.join('\n')).not.toContain('PRIVATE KEY');
  });

  it('checks SEAL_INTERVAL_MINUTES and SEAL_TSA_URL', () => {
    expect(problems({ SEAL_INTERVAL_MINUTES: '0' })[0]).toMatch(/^SEAL_INTERVAL_MINUTES/);
    expect(problems({ SEAL_TSA_URL: 'not a url' })[0]).toMatch(/^SEAL_TSA_URL/);
  });
});
