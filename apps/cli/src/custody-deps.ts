import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import {
  createCustodyLog,
  createCustodyStore,
  createSigner,
  createTimestamper,
  custodyKeys,
  loadPublicKey,
  type SealerDeps,
  type SealSigner,
} from '@archiver/custody';
import { UsageError } from './args.js';
import { s3Of, type CliDeps } from './deps.js';

export function custodyStoreOf(deps: CliDeps) {
  return createCustodyStore(deps.s3, s3Of(deps.config));
}

export function signerOf(deps: CliDeps): SealSigner {
  const pem = deps.config.custody.signingKey;
  if (!pem) throw new UsageError('SEAL_SIGNING_KEY is not set: there is no key to seal with');
  return createSigner(pem);
}

/** `--public-key FILE`, else SEAL_PUBLIC_KEY; undefined when neither is given. */
export function publicKeyOf(deps: CliDeps, file: string | undefined): KeyObject | undefined {
  let pem = deps.config.custody.publicKey;
  if (file !== undefined) {
    try {
      pem = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`--public-key: cannot read ${file}: ${(err as Error).message}`);
    }
  }
  if (pem === undefined) return undefined;
  try {
    return loadPublicKey(pem);
  } catch {
    throw new UsageError('the seal public key is not an Ed25519 public key in PEM');
  }
}

export function sealerDepsOf(deps: CliDeps): SealerDeps {
  const keys = custodyKeys(deps.config.queuePrefix);
  return {
    redis: deps.redis,
    keys,
    log: createCustodyLog(deps.redis, keys),
    store: custodyStoreOf(deps),
    signer: signerOf(deps),
    timestamper: deps.config.custody.tsaUrl
      ? createTimestamper(deps.config.custody.tsaUrl)
      : undefined,
    onTimestampFailed: (seq, err) =>
      deps.err.write(
        `timestamp for seal ${seq} failed (retried at the next seal): ${(err as Error).message}\n`,
      ),
  };
}
