import { setTimeout as sleep } from 'node:timers/promises';
import {
  holdCovers,
  holdPrefixes,
  readHolds,
  sameSelection,
  writeHoldRecord,
  type ActiveHold,
  type HoldSelection,
} from '@archiver/core';
import {
  createCustodyLog,
  custodyKeys,
  custodyRecorder,
  sha256Hex,
  writeAuditRecord,
} from '@archiver/custody';
import { custodyStoreOf } from './custody-deps.js';
import { s3Of, type CliDeps } from './deps.js';
import { formatTable } from './format.js';
import {
  objectLockSupport,
  putLegalHolds,
  type ListedVersion,
  type PassResult,
} from './legal-hold.js';
import { EXIT, writeJson } from './commands/command.js';

export type HoldChange = { selection: HoldSelection; reason: string; actor: string };

/** Past the workers' refresh, the catch-up pass waits this much more (clocks, a slow listing). */
const SETTLE_MARGIN_MS = 2000;
/**
 * The catch-up pass looks at objects written from this long before the hold on: an upload
 * that began before the hold (and was written without it) may end after the first pass
 * listed its place, and S3 may date an object by the start of its upload.
 */
const CATCH_UP_LOOKBACK_MS = 15 * 60_000;

function describeSelection(s: HoldSelection): string {
  return s.chatId === undefined
    ? `instance ${s.idInstance}`
    : `chat ${s.chatId} of instance ${s.idInstance}`;
}

/** The custody hook for what this run writes; absent when custody is off (no signing key). */
function custodyOf(deps: CliDeps) {
  const store = custodyStoreOf(deps);
  const onWritten = deps.config.custody.signingKey
    ? custodyRecorder(createCustodyLog(deps.redis, custodyKeys(deps.config.queuePrefix)))
    : undefined;
  return { store, onWritten };
}

/** Refuses (exit 2, nothing written) when the bucket has no Object Lock. */
async function refuseWithoutObjectLock(deps: CliDeps, action: string): Promise<number | null> {
  const { bucket } = s3Of(deps.config);
  const support = await objectLockSupport(deps.s3, bucket);
  if (support.enabled) return null;
  deps.err.write(
    `archiver hold ${action}: bucket "${bucket}" has no S3 Object Lock (${support.why}), so it ` +
      `cannot take a legal hold; nothing was changed. Create the bucket with Object Lock ` +
      `(docs/legal-hold.md).\n`,
  );
  return EXIT.usage;
}

async function putRegistryRecord(
  deps: CliDeps,
  input: Parameters<typeof writeHoldRecord>[1],
): Promise<{ key: string; time: number }> {
  const { store, onWritten } = custodyOf(deps);
  const { key, record } = await writeHoldRecord(
    {
      prefix: store.prefix,
      putOnce: async (k, bytes) => {
        const put = await store.putOnce(k, bytes, 'application/json');
        if (put.status === 'written') {
          await onWritten?.({
            key: k,
            versionId: put.versionId,
            sha256: sha256Hex(bytes),
            size: bytes.length,
          });
        }
      },
    },
    input,
  );
  return { key, time: Date.parse(record.time) };
}

/**
 * The two passes of a set or clear: every object of the selection now, then, once every
 * worker has read the registry again, the objects written since shortly before the change
 * (a worker with an older copy may have written them the old way).
 */
async function twoPasses(
  deps: CliDeps,
  opts: {
    label: string;
    since: number;
    prefixes: string[];
    status: 'ON' | 'OFF';
    /** Another active hold covers the key: left ON (clear only). */
    keep?: (key: string) => boolean;
  },
): Promise<{ first: PassResult; catchUp: PassResult }> {
  const { bucket } = s3Of(deps.config);
  let last = 0;
  const progress = (phase: string) => (r: Omit<PassResult, 'sha256'>) => {
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    deps.err.write(`${opts.label}: ${phase} ${r.changed} ${opts.status}, ${r.kept} kept\n`);
  };
  const wanted =
    (from?: number) =>
    (o: ListedVersion): 'change' | 'keep' | 'skip' => {
      if (from !== undefined && o.lastModified.getTime() < from) return 'skip';
      return opts.keep?.(o.key) ? 'keep' : 'change';
    };
  const pass = (phase: string, from?: number) =>
    putLegalHolds({
      s3: deps.s3,
      bucket,
      prefixes: opts.prefixes,
      status: opts.status,
      wanted: wanted(from),
      onProgress: progress(phase),
    });
  const first = await pass('first pass');
  deps.err.write(
    `${opts.label}: ${first.changed} object versions ${opts.status}${first.kept ? `, ${first.kept} kept on by another hold` : ''}\n`,
  );
  const refreshMs = s3Of(deps.config).holdRefreshMs ?? 30_000;
  const wait = opts.since + refreshMs + SETTLE_MARGIN_MS - Date.now();
  if (wait > 0) {
    deps.err.write(
      `${opts.label}: waiting ${Math.ceil(wait / 1000)}s for the workers to read the change (HOLD_REFRESH_SECONDS)\n`,
    );
    await sleep(wait);
  }
  const catchUp = await pass('catch-up', opts.since - CATCH_UP_LOOKBACK_MS);
  deps.err.write(
    `${opts.label}: catch-up pass, ${catchUp.changed} recent object versions ${opts.status}\n`,
  );
  return { first, catchUp };
}

export async function setHold(deps: CliDeps, change: HoldChange): Promise<number> {
  const refused = await refuseWithoutObjectLock(deps, 'set');
  if (refused !== null) return refused;
  const { prefix } = s3Of(deps.config);
  // Registered first: from the workers' next refresh on, what they write is held too.
  const registered = await putRegistryRecord(deps, { action: 'set', ...change });
  const label = `hold set ${describeSelection(change.selection)}`;
  const { first } = await withRetryHint(deps, label, () =>
    twoPasses(deps, {
      label,
      since: registered.time,
      prefixes: holdPrefixes(prefix, change.selection),
      status: 'ON',
    }),
  );
  const audit = await writeAuditRecord(custodyOf(deps), {
    action: 'hold-set',
    actor: change.actor,
    reason: change.reason,
    selection: change.selection,
    keys: [registered.key],
    result: { objects: first.changed, sha256: first.sha256 },
  });
  deps.out.write(
    `legal hold set on ${describeSelection(change.selection)}: ${first.changed} object versions ON ` +
      `(hold ${registered.key}, audit ${audit.key})\n`,
  );
  return EXIT.ok;
}

export async function clearHold(deps: CliDeps, change: HoldChange): Promise<number> {
  const refused = await refuseWithoutObjectLock(deps, 'clear');
  if (refused !== null) return refused;
  const { bucket, prefix } = s3Of(deps.config);
  const registry = { s3: deps.s3, bucket, prefix };
  const before = await readHolds(registry);
  const lifted = before.active.filter((h) => sameSelection(h.record.selection, change.selection));
  if (lifted.length === 0) {
    deps.err.write(
      `archiver hold clear: no active hold on exactly ${describeSelection(change.selection)}; nothing was changed (archiver hold list)\n`,
    );
    return EXIT.usage;
  }
  const registered = await putRegistryRecord(deps, {
    action: 'clear',
    ...change,
    clears: lifted.map((h) => h.key),
  });
  // Read again: a hold set meanwhile by someone else still counts.
  const others: ActiveHold[] = (await readHolds(registry)).active;
  const label = `hold clear ${describeSelection(change.selection)}`;
  const { first } = await withRetryHint(deps, label, () =>
    twoPasses(deps, {
      label,
      since: registered.time,
      prefixes: holdPrefixes(prefix, change.selection),
      status: 'OFF',
      keep: (key) => others.some((h) => holdCovers(h, key)),
    }),
  );
  const audit = await writeAuditRecord(custodyOf(deps), {
    action: 'hold-clear',
    actor: change.actor,
    reason: change.reason,
    selection: change.selection,
    keys: [registered.key, ...lifted.map((h) => h.key)].slice(0, 100),
    result: { objects: first.changed, sha256: first.sha256 },
  });
  deps.out.write(
    `legal hold cleared on ${describeSelection(change.selection)}: ${first.changed} object versions OFF, ` +
      `${first.kept} still held by another hold (clear ${registered.key}, audit ${audit.key})\n`,
  );
  return EXIT.ok;
}

/** A pass that fails leaves the registry as it is: running the same command again finishes it. */
async function withRetryHint<T>(deps: CliDeps, label: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    deps.err.write(
      `${label}: stopped part-way; the change is registered, run the same command again to finish\n`,
    );
    throw err;
  }
}

export async function listHolds(
  deps: CliDeps,
  opts: { filter?: HoldSelection; json: boolean },
): Promise<number> {
  const { bucket, prefix } = s3Of(deps.config);
  const { active } = await readHolds({
    s3: deps.s3,
    bucket,
    prefix,
    onInvalid: (key, problem) =>
      deps.err.write(`hold list: ${key} is not a hold record (${problem})\n`),
  });
  const shown = active.filter(
    (h) =>
      !opts.filter ||
      (h.record.selection.idInstance === opts.filter.idInstance &&
        (opts.filter.chatId === undefined || h.record.selection.chatId === opts.filter.chatId)),
  );
  if (opts.json) {
    writeJson(
      deps,
      shown.map((h) => ({ key: h.key, ...h.record })),
    );
    return EXIT.ok;
  }
  if (shown.length === 0) {
    deps.out.write('no active legal holds\n');
    return EXIT.ok;
  }
  const rows = [
    ['SET AT (UTC)', 'INSTANCE', 'CHAT', 'BY', 'REASON'],
    ...shown.map((h) => [
      h.record.time,
      h.record.selection.idInstance,
      h.record.selection.chatId ?? '(all chats)',
      h.record.actor,
      h.record.reason,
    ]),
  ];
  deps.out.write(`${formatTable(rows, '')}\n`);
  return EXIT.ok;
}
