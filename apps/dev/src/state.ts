import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstanceKind } from '@archiver/greenapi';
import type { S3Connection } from '@archiver/testkit';

/**
 * What a running `dev` tells `demo` (and anyone curious): `<data dir>/dev.json`, written once
 * everything is up and removed on a clean stop. It holds the demo credentials, which are
 * printed in the banner anyway.
 */
export type DevState = {
  version: 1;
  pid: number;
  startedAt: string;
  receiverUrl: string;
  webhookUrl: string;
  webhookToken: string;
  workerUrl: string;
  admin: { url: string; user: string; password: string };
  /** The review page (`/review/`, docs/review.md) and its demo credentials. */
  review: { url: string; user: string; password: string };
  simulator: { url: string; controlUrl: string };
  instances: Array<{ idInstance: string; kind: InstanceKind }>;
  s3: S3Connection & { prefix: string; dataDir: string };
  /** `pid` is set when `dev` runs redis-server itself (and stops it on exit). */
  redis: { url: string; pid?: number; describe: string; queuePrefix: string };
};

export const stateFile = (dataDir: string) => join(dataDir, 'dev.json');

export async function writeState(dataDir: string, state: DevState): Promise<void> {
  await writeFile(stateFile(dataDir), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export async function removeState(dataDir: string): Promise<void> {
  await rm(stateFile(dataDir), { force: true });
}

/** The running dev's state, or undefined when there is none (or it is from another version). */
export async function readState(dataDir: string): Promise<DevState | undefined> {
  let text: string;
  try {
    text = await readFile(stateFile(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  const value = JSON.parse(text) as Partial<DevState>;
  return value.version === 1 ? (value as DevState) : undefined;
}
