import { mkdtemp, rm } from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { chatDayFolder } from '@archiver/core';
import type { CustodyKeys, CustodyStore } from '@archiver/custody';
import {
  chatTimeline,
  documentHead,
  documentTail,
  markup,
  renderDay,
  type TimelineEntry,
} from '@archiver/timeline';
import type { Cluster, Redis } from 'ioredis';
import { EXPORT_FORMAT, exportSelectionSchema, type ExportSelection } from './manifest.js';
import { writeManifest } from './manifest-file.js';
import { objectLine, proveObjects } from './proofs.js';
import { createRsmfCollector, writeRsmfFile } from './rsmf.js';
import { lineFile, PAD, readLines } from './spill.js';
import { createZipWriter } from './zip.js';

export type ExportDeps = {
  s3: S3Client;
  bucket: string;
  prefix: string;
  /** The custody store (seals) the proofs are read from. */
  store: CustodyStore;
  redis?: Redis | Cluster;
  keys?: CustodyKeys;
  now?: () => Date;
};

export type ExportProgress = {
  phase: 'timeline' | 'files' | 'proofs' | 'done';
  done: number;
  total?: number;
  bytes: number;
};

export type ExportHooks = {
  /**
   * Called with the manifest's SHA-256 before its bytes go into the zip, and awaited: a
   * caller that must record the digest (the review page's audit) does so before the zip
   * can be complete. A throw aborts the export.
   */
  beforeManifest?: (m: { sha256: string; objects: number; bytes: number }) => Promise<void>;
};

export type ExportResult = {
  /** SHA-256 of manifest.json's bytes (the audit record names it). */
  manifestSha256: string;
  /** Entries in the zip, manifest.json included. */
  files: number;
  objects: number;
  chats: number;
  bytes: number;
  /** Objects without a proof (not sealed yet): how many, and the first few keys. */
  unsealed: { count: number; first: string[] };
};

const KINDS = ['whatsapp', 'max'] as const;
/** An entry is written after its message: a seal older than this before the oldest is done. */
const CLOCK_SKEW_MS = 24 * 3600_000;

/**
 * One self-contained zip of an instance's chats (or one chat) in a day range, streamed to
 * `out` (docs/export.md): every archived object under `files/`, an HTML transcript and an
 * RSMF file per chat under `chats/`, each object's custody proof under `proofs/`, and
 * `manifest.json` last with the SHA-256 of every other entry. Entries are in a fixed order
 * with fixed times, so two exports of the same selection differ only in `created`.
 *
 * Memory does not grow with the export: files are streamed from S3 through the zip one at a
 * time, and every list that grows with it (the objects, their digests, their proofs, the
 * zip's central directory, the manifest) is written to a temporary file as it is made and
 * read back a line at a time. It holds a day of one chat's timeline, one seal, one sort run.
 */
export async function writeExport(
  deps: ExportDeps,
  selection: ExportSelection,
  out: Writable,
  onProgress?: (p: ExportProgress) => void,
  hooks: ExportHooks = {},
): Promise<ExportResult> {
  const sel = exportSelectionSchema.parse(selection);
  const now = deps.now ?? (() => new Date());
  const tmp = await mkdtemp(join(tmpdir(), 'archiver-export-'));
  const at = (name: string) => join(tmp, name);
  const zip = createZipWriter(out, { tmpDir: tmp });
  try {
    const chats = await chatFolders(deps, sel.idInstance, sel.chatId);
    const files = lineFile(at('files.jsonl'));
    const objects = lineFile(at('objects.jsonl'));
    const byKey = lineFile(at('objects.by-key'));
    const chatList = lineFile(at('chats.jsonl'));
    const addFile = async (...args: Parameters<typeof zip.add>) => {
      const digest = await zip.add(...args);
      await files.write(JSON.stringify(digest));
      return digest;
    };
    let bytes = 0;
    let oldest = Infinity;
    const pathOf = (key: string) => `files/${key.slice(deps.prefix.length)}`;

    for (const [n, chat] of chats.entries()) {
      const base = at(`chat-${n}`);
      const html = createWriteStream(`${base}.html`);
      // The review page's renderer, with files linked to their copies in the zip.
      html.write(
        documentHead({
          title: chat.chatId,
          subtitle: [`${chat.kind} instance ${sel.idInstance}`, rangeText(sel)],
          css: 'inline',
        }).value,
      );
      const rsmf = createRsmfCollector({
        conversation: chat.chatId,
        platform: chat.kind,
        display: chat.chatId,
        eventsFile: `${base}.events`,
        attachmentsFile: `${base}.attachments`,
      });
      const chatObjects = lineFile(`${base}.objects`);
      let day: string | undefined;
      let dayEntries: TimelineEntry[] = [];
      const flush = async () => {
        if (
          day &&
          !html.write(renderDay(day, dayEntries, { fileHref: (e) => zipHref(e, pathOf) }).value)
        ) {
          await once(html, 'drain');
        }
        dayEntries = [];
      };
      let entries = 0;
      for await (const e of chatTimeline(deps.s3, {
        bucket: deps.bucket,
        prefix: deps.prefix,
        idInstance: sel.idInstance,
        chatId: chat.chatId,
        since: sel.since,
        until: sel.until,
      })) {
        const d = e.time.slice(0, 10);
        if (d !== day) {
          await flush();
          day = d;
        }
        dayEntries.push(e);
        entries += 1;
        oldest = Math.min(oldest, e.timestamp * 1000);
        await rsmf.add(e);
        await chatObjects.write(JSON.stringify({ key: e.key }));
        if (e.file?.status === 'archived' && e.file.key) {
          await chatObjects.write(JSON.stringify({ key: e.file.key, size: e.file.size }));
        }
        onProgress?.({ phase: 'timeline', done: entries, bytes });
      }
      await flush();
      if (entries === 0) html.write(markup`<p class="empty">No records in this range.</p>\n`.value);
      html.end(documentTail().value);
      await once(html, 'close');
      await chatObjects.close();
      const summary = await rsmf.finish(`${base}.manifest.json`);

      for await (const line of readLines(chatObjects.path)) {
        const o = JSON.parse(line) as { key: string; size?: number };
        const digest = await addFile(pathOf(o.key), await openObject(deps, o.key), {
          compress: o.size === undefined,
          size: o.size,
        });
        await byKey.write(objectLine(o.key, objects.count));
        await objects.write(JSON.stringify({ key: o.key, path: digest.path }));
        bytes += digest.size;
        onProgress?.({ phase: 'files', done: objects.count, bytes });
      }
      const folder = `chats/${chat.folder}`;
      await addFile(`${folder}/transcript.html`, createReadStream(`${base}.html`), {
        compress: true,
      });
      await writeRsmfFile({
        file: `${base}.rsmf`,
        zipFile: `${base}.rsmf.zip`,
        manifestFile: `${base}.manifest.json`,
        attachmentsFile: `${base}.attachments`,
        open: (key) => openObject(deps, key),
        conversation: chat.chatId,
        summary,
      });
      await addFile(`${folder}/conversation.rsmf`, createReadStream(`${base}.rsmf`), {
        compress: true,
      });
      await chatList.write(
        JSON.stringify({
          chatId: chat.chatId,
          folder,
          transcript: `${folder}/transcript.html`,
          rsmf: `${folder}/conversation.rsmf`,
          entries,
        }),
      );
      for (const ext of ['html', 'events', 'attachments', 'objects', 'manifest.json', 'rsmf']) {
        await rm(`${base}.${ext}`, { force: true });
      }
      await rm(`${base}.rsmf.zip`, { force: true });
    }
    await objects.close();
    await byKey.close();
    await chatList.close();

    // Proofs, joined on disk with the objects (proofs.ts), then written in the files' order.
    const proved = await proveObjects(
      { store: deps.store, redis: deps.redis, keys: deps.keys },
      {
        tmp,
        byKey: byKey.path,
        isCandidate: inSelection(deps.prefix, sel, chats),
        notBefore: Number.isFinite(oldest) ? oldest - CLOCK_SKEW_MS : undefined,
      },
    );
    const listed = lineFile(at('objects.manifest'));
    const unsealed = { count: 0, first: [] as string[] };
    const proofs = readLines(proved.file);
    let next = await proofs.next();
    let index = 0;
    for await (const line of readLines(objects.path)) {
      const o = JSON.parse(line) as { key: string; path: string };
      let proof: string | null = null;
      if (!next.done && Number(next.value.slice(0, PAD)) === index) {
        proof = `proofs/${o.key.slice(deps.prefix.length)}.proof.json`;
        const text = JSON.stringify(JSON.parse(next.value.slice(PAD + 1)), null, 2);
        await addFile(proof, `${text}\n`, { compress: true });
        next = await proofs.next();
        onProgress?.({ phase: 'proofs', done: index + 1, total: objects.count, bytes });
      } else {
        unsealed.count += 1;
        if (unsealed.first.length < 5) unsealed.first.push(o.key);
      }
      await listed.write(JSON.stringify({ key: o.key, path: o.path, proof }));
      index += 1;
    }
    await proofs.return(undefined);
    await listed.close();
    await files.close();

    const manifestFile = at('manifest.json');
    const manifestSha256 = await writeManifest(manifestFile, {
      head: { format: EXPORT_FORMAT, created: now().toISOString(), selection: sel },
      chats: chatList.path,
      files: files.path,
      objects: listed.path,
    });
    await hooks.beforeManifest?.({ sha256: manifestSha256, objects: objects.count, bytes });
    await zip.add('manifest.json', createReadStream(manifestFile), { compress: true });
    await zip.end();
    onProgress?.({ phase: 'done', done: objects.count, bytes });
    return {
      manifestSha256,
      files: files.count + 1,
      objects: objects.count,
      chats: chatList.count,
      bytes,
      unsealed,
    };
  } catch (err) {
    await zip.abort();
    throw err;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Which sealed keys may be objects of the export: under one of its chat folders, on a day
 * of its range. The proof pass joins them with the objects themselves (proofs.ts).
 */
function inSelection(
  prefix: string,
  sel: ExportSelection,
  chats: { kind: string; folder: string }[],
): (key: string) => boolean {
  const folders = new Set(chats.map((c) => `${c.kind}/${sel.idInstance}/${c.folder}`));
  return (key) => {
    if (!key.startsWith(prefix)) return false;
    const [kind, instance, folder, yyyy, mm, dd] = key.slice(prefix.length).split('/', 6);
    if (!folders.has(`${kind}/${instance}/${folder}`)) return false;
    const day = `${yyyy}-${mm}-${dd}`;
    return (!sel.since || day >= sel.since) && (!sel.until || day <= sel.until);
  };
}

/**
 * A file's link from `chats/{folder}/transcript.html` to its copy under `files/`: relative,
 * so it opens from an unpacked zip, and every segment percent-encoded (a space, `#` or `?`
 * in a file name would otherwise end the path).
 */
function zipHref(e: TimelineEntry, pathOf: (key: string) => string): string | undefined {
  if (e.file?.status !== 'archived' || !e.file.key) return undefined;
  return `../../${pathOf(e.file.key).split('/').map(encodeURIComponent).join('/')}`;
}

function rangeText(sel: { since?: string; until?: string }): string {
  if (!sel.since && !sel.until) return 'all days (UTC)';
  return `${sel.since ?? 'first day'} to ${sel.until ?? 'last day'} (UTC)`;
}

async function openObject(deps: ExportDeps, key: string): Promise<Readable> {
  const res = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: key }));
  return res.Body as Readable;
}

/**
 * The chats of an instance (or the one asked for): the chat folders under each kind, with
 * the chat id each folder's first record names (a folder name may be a hashed, key-safe
 * form of the id). One listing request per chat: after a chat's first key the listing
 * starts again past `{folder}0`, which sorts after every `{folder}/…` key (`0` follows `/`),
 * without a delimiter (s3rver answers none with one). Sorted by folder: the export's order.
 */
async function chatFolders(deps: ExportDeps, idInstance: string, only?: string) {
  const found: { kind: string; folder: string; chatId: string }[] = [];
  if (only) {
    // One chat: its folder follows from its id (object-keys.ts), one listing per kind.
    for (const kind of KINDS) {
      const p = { prefix: deps.prefix, kind, idInstance, chatId: only, timestamp: 0 };
      const chatFolder = chatDayFolder(p).replace(/\d{4}\/\d{2}\/\d{2}\/$/, '');
      const page = await deps.s3.send(
        new ListObjectsV2Command({ Bucket: deps.bucket, Prefix: chatFolder, MaxKeys: 1 }),
      );
      const base = `${deps.prefix}${kind}/${idInstance}/`;
      if (page.Contents?.length) {
        found.push({ kind, folder: chatFolder.slice(base.length, -1), chatId: only });
      }
    }
    return found;
  }
  for (const kind of KINDS) {
    const base = `${deps.prefix}${kind}/${idInstance}/`;
    let startAfter: string | undefined;
    for (;;) {
      const page = await deps.s3.send(
        new ListObjectsV2Command({
          Bucket: deps.bucket,
          Prefix: base,
          StartAfter: startAfter,
          MaxKeys: 1,
        }),
      );
      const key = page.Contents?.[0]?.Key;
      if (!key) break;
      const folder = key.slice(base.length).split('/')[0]!;
      startAfter = `${base}${folder}0`;
      if (folder.startsWith('_')) continue;
      const chatId = await chatIdOf(deps, `${base}${folder}/`);
      if (chatId && (!only || chatId === only)) found.push({ kind, folder, chatId });
    }
  }
  return found.sort((a, b) => a.folder.localeCompare(b.folder) || a.kind.localeCompare(b.kind));
}

async function chatIdOf(deps: ExportDeps, folder: string): Promise<string | undefined> {
  const page = await deps.s3.send(
    new ListObjectsV2Command({ Bucket: deps.bucket, Prefix: folder, MaxKeys: 50 }),
  );
  const key = page.Contents?.map((c) => c.Key).find((k) => k?.endsWith('.json'));
  if (!key) return undefined;
  const res = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: key }));
  try {
    const json = JSON.parse((await res.Body?.transformToString('utf8')) ?? '') as {
      chatId?: unknown;
    };
    return typeof json.chatId === 'string' ? json.chatId : undefined;
  } catch {
    return undefined;
  }
}
