import type { Sidecar } from '@archiver/core';
import {
  custodyKeys,
  describeCustodyFinding,
  loadPublicKey,
  verifyCustody,
  type CustodyVerifyResult,
} from '@archiver/custody';
import { HELP_OPTION, instanceId, parseCommandArgs, positiveInt } from '../args.js';
import { dayRange, inDayRange, parseDay, utcDay, type DayRange } from '../dates.js';
import { custodyStoreOf, publicKeyOf } from '../custody-deps.js';
import { s3Of, type CliDeps } from '../deps.js';
import { formatBytes } from '../format.js';
import { forEachLimit, readAhead } from '@archiver/core';
import { createProgress } from '../progress.js';
import {
  digestObject,
  errorText,
  listSidecars,
  readSidecar,
  type SidecarKey,
} from '../sidecars.js';
import { EXIT, type Command, type OfflineRun } from './command.js';
import { readFileSync } from 'node:fs';
import { describeExportFinding, verifyExport } from '@archiver/export';
import { UsageError } from '../args.js';

export type VerifyOptions = DayRange & {
  instance?: string;
  concurrency: number;
  publicKeyFile?: string;
};

export type VerifyFinding =
  | {
      problem: 'mismatch';
      sidecarKey: string;
      key: string;
      expected: { sha256: string; size: number };
      actual: { sha256: string; size: number };
    }
  | { problem: 'missing'; sidecarKey: string; key: string }
  | { problem: 'unreadable_sidecar'; sidecarKey: string; detail: string }
  | { problem: 'error'; sidecarKey: string; key: string; detail: string };

export type VerifyResult = {
  /** Sidecars read (within the date range). */
  sidecars: number;
  archived: number;
  permanentFailures: number;
  expired: number;
  /** Archived files whose bytes match their sidecar. */
  verified: number;
  bytesVerified: number;
  findings: VerifyFinding[];
};

const DEFAULT_CONCURRENCY = 8;
/** Sidecar keys listed ahead of the checks (~200 bytes each). */
const LIST_AHEAD = 50_000;

/**
 * Every sidecar under the prefix (or one instance), filtered by the message's UTC day; each
 * archived file is streamed from S3 and its SHA-256 and size compared with the sidecar's.
 * The date folders in the key decide which sidecars are read at all; the sidecar's own
 * timestamp decides whether it counts.
 */
/** What an archived record says of its file, checked against the file's digest. */
export type FileClaim = { sidecarKey: string; key: string; sha256: string; size: number };

/**
 * `defer`: instead of hashing each file here, hand its claim on (the custody check hashes
 * every object anyway and judges the claims with its digests: each file is read once).
 */
export async function verifyArchive(
  deps: CliDeps,
  opts: VerifyOptions,
  defer?: (claim: FileClaim) => void,
): Promise<VerifyResult> {
  const { bucket, prefix } = s3Of(deps.config);
  const result: VerifyResult = {
    sidecars: 0,
    archived: 0,
    permanentFailures: 0,
    expired: 0,
    verified: 0,
    bytesVerified: 0,
    findings: [],
  };
  const progress = createProgress(deps.err, 'verifying');
  let checked = 0;

  async function* inRange(): AsyncGenerator<SidecarKey> {
    for await (const ref of listSidecars(deps.s3, bucket, prefix, opts.instance)) {
      if (inDayRange(ref.day, opts)) yield ref;
    }
  }
  // Listing runs ahead of the hashing, so the progress bar knows the total early.
  const listing = readAhead(inRange(), LIST_AHEAD);

  async function check(ref: SidecarKey) {
    const read = await readSidecar(deps.s3, bucket, ref.key);
    if (!read.ok) {
      result.findings.push({
        problem: 'unreadable_sidecar',
        sidecarKey: ref.key,
        detail: read.error,
      });
    } else if (inDayRange(utcDay(read.sidecar.timestamp), opts)) {
      await checkRecord(ref.key, read.sidecar);
    }
    checked += 1;
    progress.update({
      done: checked,
      total: listing.seen(),
      final: listing.exhausted(),
      note: `${formatBytes(result.bytesVerified)} hashed`,
    });
  }

  async function checkRecord(sidecarKey: string, sidecar: Sidecar) {
    result.sidecars += 1;
    if (sidecar.status === 'permanent_failure') result.permanentFailures += 1;
    if (sidecar.status === 'expired') result.expired += 1;
    if (sidecar.status !== 'archived') return;
    result.archived += 1;
    const { key, sha256, size } = sidecar;
    if (!key || !sha256 || size === undefined) {
      result.findings.push({
        problem: 'unreadable_sidecar',
        sidecarKey,
        detail: 'archived record without key, sha256 or size',
      });
      return;
    }
    if (defer) {
      defer({ sidecarKey, key, sha256, size });
      return;
    }
    let digest: Awaited<ReturnType<typeof digestObject>>;
    try {
      digest = await digestObject(deps.s3, bucket, key);
    } catch (err) {
      result.findings.push({ problem: 'error', sidecarKey, key, detail: errorText(err) });
      return;
    }
    judgeClaim(result, { sidecarKey, key, sha256, size }, digest);
  }

  await forEachLimit(listing.items, opts.concurrency, check);
  progress.finish();
  result.findings.sort((a, b) => a.sidecarKey.localeCompare(b.sidecarKey));
  return result;
}

/**
 * The records' check and the custody check in one pass over the bytes: custody hashes every
 * object under the prefix, and the records' claims about their files are judged with those
 * digests. Custody covers the whole prefix (it is a property of the archive, not of a day).
 */
async function verifyWithCustody(
  deps: CliDeps,
  opts: VerifyOptions,
  publicKey: NonNullable<ReturnType<typeof publicKeyOf>>,
): Promise<{ result: VerifyResult; custody: CustodyVerifyResult }> {
  let result: VerifyResult | undefined;
  const progress = createProgress(deps.err, 'custody');
  const custody = await verifyCustody({
    s3: deps.s3,
    store: custodyStoreOf(deps),
    redis: deps.redis,
    keys: custodyKeys(deps.config.queuePrefix),
    publicKey,
    intervalMs: deps.config.custody.intervalMinutes * 60_000,
    concurrency: opts.concurrency,
    progress: (p) =>
      progress.update({
        done: p.done,
        note: p.phase === 'objects' ? `objects, ${formatBytes(p.bytes ?? 0)} hashed` : p.phase,
      }),
    claims: async (add) => {
      result = await verifyArchive(deps, opts, (claim) => add(claim.key, claim));
    },
    onClaim: (claim, found) => {
      const digest = found
        ? {
            sha256Hex: found.sha256,
            sha256Base64: Buffer.from(found.sha256, 'hex').toString('base64'),
            size: found.size,
          }
        : 'missing';
      judgeClaim(result!, claim as FileClaim, digest);
    },
  });
  progress.finish();
  result!.findings.sort((a, b) => a.sidecarKey.localeCompare(b.sidecarKey));
  return { result: result!, custody };
}

export function judgeClaim(
  result: VerifyResult,
  claim: FileClaim,
  digest: { sha256Hex: string; sha256Base64: string; size: number } | 'missing',
): void {
  const { sidecarKey, key, sha256, size } = claim;
  if (digest === 'missing') {
    result.findings.push({ problem: 'missing', sidecarKey, key });
    return;
  }
  // The worker writes hex; base64 (S3's own checksum notation) is accepted too.
  const shaMatches = sha256.toLowerCase() === digest.sha256Hex || sha256 === digest.sha256Base64;
  if (!shaMatches || size !== digest.size) {
    result.findings.push({
      problem: 'mismatch',
      sidecarKey,
      key,
      expected: { sha256, size },
      actual: { sha256: digest.sha256Hex, size: digest.size },
    });
    return;
  }
  result.verified += 1;
  result.bytesVerified += digest.size;
}

export function formatVerify(r: VerifyResult, custody?: CustodyVerifyResult): string {
  const count = (problem: VerifyFinding['problem']) =>
    r.findings.filter((f) => f.problem === problem).length;
  const lines = [
    `Sidecars: ${r.sidecars} (${r.archived} archived, ${r.permanentFailures} permanent_failure, ${r.expired} expired)`,
    `Verified: ${r.verified} of ${r.archived} archived files match their sidecar (${formatBytes(r.bytesVerified)} hashed)`,
    `Problems: ${count('mismatch')} mismatched, ${count('missing')} missing, ${count('unreadable_sidecar')} unreadable sidecars, ${count('error')} read errors`,
  ];
  if (custody) {
    lines.push(
      `Custody: ${custody.chain.seals} seals (last ${custody.chain.lastSeq}), ${custody.chain.entries} sealed entries; ${custody.sealedObjects} of ${custody.objects} objects match their latest seal`,
      `Breaches: ${custody.findings.length + custody.findingsDropped}`,
    );
  }
  if (r.findings.length > 0) lines.push('', ...r.findings.map(describeFinding));
  if (custody && custody.findings.length > 0) {
    lines.push('', ...custody.findings.map(describeCustodyFinding));
    if (custody.findingsDropped > 0) lines.push(`… and ${custody.findingsDropped} more`);
  }
  const failed = r.findings.length > 0 || (custody?.findings.length ?? 0) > 0;
  lines.push('', failed ? 'FAILED' : 'OK');
  return `${lines.join('\n')}\n`;
}

function verifyExportRun(file: string, keyFile: string | undefined): OfflineRun {
  if (keyFile === undefined) throw new UsageError('--export needs --public-key FILE');
  return {
    async offline(io) {
      let publicKey;
      try {
        publicKey = loadPublicKey(readFileSync(keyFile, 'utf8'));
      } catch (err) {
        throw new UsageError(`--public-key: ${(err as Error).message}`);
      }
      io.err.write(`verifying export ${file}\n`);
      const r = await verifyExport(file, publicKey);
      const lines = [
        `Entries: ${r.files} checked against manifest.json`,
        `Proofs: ${r.proofs} of ${r.manifest?.objects.length ?? 0} archived objects proved against their seals`,
        `Breaches: ${r.findings.length}`,
      ];
      if (r.findings.length > 0) lines.push('', ...r.findings.map(describeExportFinding));
      lines.push('', r.findings.length > 0 ? 'FAILED' : 'OK');
      io.out.write(`${lines.join('\n')}\n`);
      return r.findings.length > 0 ? EXIT.findings : EXIT.ok;
    },
  };
}

function describeFinding(f: VerifyFinding): string {
  switch (f.problem) {
    case 'mismatch': {
      const what = [
        f.expected.sha256.toLowerCase() !== f.actual.sha256
          ? `sha256 ${f.actual.sha256}, sidecar says ${f.expected.sha256}`
          : '',
        f.expected.size !== f.actual.size
          ? `size ${f.actual.size}, sidecar says ${f.expected.size}`
          : '',
      ].filter(Boolean);
      return `MISMATCH    ${f.key}: ${what.join('; ')}`;
    }
    case 'missing':
      return `MISSING     ${f.key} (sidecar ${f.sidecarKey})`;
    case 'unreadable_sidecar':
      return `UNREADABLE  ${f.sidecarKey}: ${f.detail}`;
    case 'error':
      return `ERROR       ${f.key}: ${f.detail}`;
  }
}

const HELP = `Usage: archiver verify [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--instance ID] [--concurrency N]
                       [--public-key FILE]
       archiver verify --export FILE.zip --public-key FILE

Reads every sidecar (message.json) and, for each archived file, streams the object from S3
and compares its SHA-256 and size with the sidecar. With the seals' public key
(--public-key, or SEAL_PUBLIC_KEY) it also checks the chain of custody over the whole
prefix: every seal is signed by that key, hashes to its root and continues the one
before it, with no number missing; every sealed object is there with its SHA-256 and
size; every object older than SEAL_INTERVAL_MINUTES is in some seal. Exit code 1 when any
file is changed or missing, a sidecar cannot be read, or custody is breached; each breach
is named.

With --export FILE.zip (and --public-key FILE) it checks an export made by \`archiver export\`
instead, without Redis or the bucket: every entry's SHA-256 against manifest.json, nothing
unlisted, and every archived object's custody proof (its sealed entry names these bytes,
the Merkle path reaches the seal's root, the seal is signed by the key).

Options:
  --export FILE      check this export zip instead of the bucket (needs --public-key)
  --since DATE       first UTC day of the message timestamp (inclusive)
  --until DATE       last UTC day of the message timestamp (inclusive)
  --instance ID      only this idInstance
  --concurrency N    objects checked in parallel (default ${DEFAULT_CONCURRENCY})
  --public-key FILE  the seals' Ed25519 public key (PEM); default SEAL_PUBLIC_KEY
  -h, --help         this help
`;

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'check archived files against their sidecars (SHA-256, size)',
  help: HELP,
  parse(argv) {
    const { values } = parseCommandArgs(argv, {
      ...HELP_OPTION,
      since: { type: 'string' },
      until: { type: 'string' },
      instance: { type: 'string' },
      concurrency: { type: 'string' },
      'public-key': { type: 'string' },
      export: { type: 'string' },
    });
    if (values.help) return 'help';
    if (values.export !== undefined) return verifyExportRun(values.export, values['public-key']);
    const opts: VerifyOptions = {
      ...dayRange(parseDay('since', values.since), parseDay('until', values.until)),
      instance: instanceId('instance', values.instance),
      concurrency: positiveInt('concurrency', values.concurrency) ?? DEFAULT_CONCURRENCY,
      publicKeyFile: values['public-key'],
    };
    return async (deps) => {
      const publicKey = publicKeyOf(deps, opts.publicKeyFile);
      let result: VerifyResult;
      let custody: CustodyVerifyResult | undefined;
      if (publicKey) {
        ({ result, custody } = await verifyWithCustody(deps, opts, publicKey));
      } else {
        result = await verifyArchive(deps, opts);
        deps.err.write(
          'custody not checked: no seal public key (--public-key or SEAL_PUBLIC_KEY)\n',
        );
      }
      deps.out.write(formatVerify(result, custody));
      const breaches = result.findings.length + (custody?.findings.length ?? 0);
      return breaches === 0 ? EXIT.ok : EXIT.findings;
    };
  },
};
