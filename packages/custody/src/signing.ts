import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { sha256Hex } from './entry.js';

/** Signs seal statements with the Ed25519 key of `SEAL_SIGNING_KEY`. */
export type SealSigner = {
  /** Base64 Ed25519 signature of the statement's UTF-8 bytes. */
  sign(statement: string): string;
  publicKeyPem: string;
  /** SHA-256 (hex) of the public key's SPKI DER: names the key in every seal. */
  keyId: string;
};

export function createSigner(privateKeyPem: string): SealSigner {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('seal signing key is not Ed25519');
  const publicKey = createPublicKey(key);
  return {
    sign: (statement) => sign(null, Buffer.from(statement, 'utf8'), key).toString('base64'),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

export function loadPublicKey(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('seal public key is not Ed25519');
  return key;
}

export function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' }));
}

export function verifyStatement(publicKey: KeyObject, statement: string, signature: string) {
  try {
    return verify(
      null,
      Buffer.from(statement, 'utf8'),
      publicKey,
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}
