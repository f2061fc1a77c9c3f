import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
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
import {
  EXPORT_FORMAT,
  exportSelectionSchema,
  type ExportManifest,
  type ExportSelection,
} from './manifest.js';
import { proveKeys } from './proofs.js';
import { createRsmfCollector, writeRsmfFile } from './rsmf.js';
import { createZipWriter, type ZipEntryDigest } from './zip.js';

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
  manifest: ExportManifest;
  /** SHA-256 of manifest.json's bytes (the audit record names it). */
  manifestSha256: string;
  files: number;
  bytes: number;
  unsealed: string[];
};

const KINDS = ['whatsapp', 'max'] as const;

/**
 * One self-contained zip of an instance's chats (or one chat) in a day range, streamed to
 * `out` (docs/export.md): every archived object under `files/`, an HTML transcript and an
 * RSMF file per chat under `chats/`, each object's custody proof under `proofs/`, and
 * `manifest.json` last with the SHA-256 of every other entry. Entries are in a fixed order
 * with fixed times, so two exports of the same selection differ only in `created`.
 * Memory holds a day of one chat's timeline and a few bytes per object (its key and digest
 * for the manifest), never a file: each is streamed from S3 through the zip.
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
  try {
    const chats = sel.chatId
      ? await chatFolders(deps, sel.idInstance, sel.chatId)
      : await chatFolders(deps, sel.idInstance);
    const zip = createZipWriter(out);
    const files: ZipEntryDigest[] = [];
    const objects: ExportManifest['objects'] = [];
    const chatList: ExportManifest['chats'] = [];
    let bytes = 0;
    let done = 0;
    const pathOf = (key: string) => `files/${key.slice(deps.prefix.length)}`;

    for (const [n, chat] of chats.entries()) {
      const base = join(tmp, `chat-${n}`);
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
      });
      const chatObjects: { key: string; size?: number }[] = [];
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
        await rsmf.add(e);
        chatObjects.push({ key: e.key });
        if (e.file?.status === 'archived' && e.file.key) {
          chatObjects.push({ key: e.file.key, size: e.file.size });
        }
        onProgress?.({ phase: 'timeline', done: entries, bytes });
      }
      await flush();
      if (entries === 0) html.write(markup`<p class="empty">No records in this range.</p>\n`.value);
      html.end(documentTail().value);
      await once(html, 'close');
      const summary = await rsmf.finish(`${base}.manifest.json`);

      for (const o of chatObjects) {
        const digest = await zip.add(pathOf(o.key), await openObject(deps, o.key), {
          compress: o.size === undefined,
          size: o.size,
        });
        files.push(digest);
        objects.push({ key: o.key, path: digest.path, proof: null });
        bytes += digest.size;
        done += 1;
        onProgress?.({ phase: 'files', done, bytes });
      }
      const folder = `chats/${chat.folder}`;
      files.push(
        await zip.add(`${folder}/transcript.html`, createReadStream(`${base}.html`), {
          compress: true,
        }),
      );
      await writeRsmfFile({
        file: `${base}.rsmf`,
        zipFile: `${base}.rsmf.zip`,
        manifestFile: `${base}.manifest.json`,
        attachments: rsmf.attachments.map((a) => ({
          id: a.id,
          size: a.size,
          open: () => openObject(deps, a.key),
        })),
        conversation: chat.chatId,
        summary,
      });
      files.push(
        await zip.add(`${folder}/conversation.rsmf`, createReadStream(`${base}.rsmf`), {
          compress: true,
        }),
      );
      chatList.push({
        chatId: chat.chatId,
        folder,
        transcript: `${folder}/transcript.html`,
        rsmf: `${folder}/conversation.rsmf`,
        entries,
      });
      await rm(`${base}.rsmf.zip`, { force: true });
    }

    // Proofs: one pass over the seals for every object of the export, in the files' order.
    const index = new Map(objects.map((o, i) => [o.key, i]));
    const proofsFile = join(tmp, 'proofs.jsonl');
    const proofOut = createWriteStream(proofsFile);
    const unsealed = await proveKeys(
      { store: deps.store, redis: deps.redis, keys: deps.keys },
      new Set(index.keys()),
      async (proof) => {
        if (!proofOut.write(`${index.get(proof.key)}\t${JSON.stringify(proof, null, 2)}\u0000`)) {
          await once(proofOut, 'drain');
        }
      },
    );
    proofOut.end();
    await once(proofOut, 'close');
    const proofs: { i: number; text: string }[] = [];
    for await (const chunk of readRecords(proofsFile)) proofs.push(chunk);
    proofs.sort((a, b) => a.i - b.i);
    for (const [n, p] of proofs.entries()) {
      const o = objects[p.i]!;
      const path = `proofs/${o.key.slice(deps.prefix.length)}.proof.json`;
      files.push(await zip.add(path, `${p.text}\n`, { compress: true }));
      o.proof = path;
      onProgress?.({ phase: 'proofs', done: n + 1, total: proofs.length, bytes });
    }

    const manifest: ExportManifest = {
      format: EXPORT_FORMAT,
      created: now().toISOString(),
      selection: sel,
      chats: chatList,
      files,
      objects,
    };
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`);
    await hooks.beforeManifest?.({
      sha256: createHash('sha256').update(manifestBytes).digest('hex'),
      objects: objects.length,
      bytes,
    });
    const m = await zip.add('manifest.json', manifestBytes, { compress: true });
    await zip.end();
    onProgress?.({ phase: 'done', done, bytes });
    return {
      manifest,
      manifestSha256: m.sha256,
      files: files.length + 1,
      bytes,
      unsealed: [...unsealed].sort(),
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
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

/** Proofs from the temporary file, one at a time (each is small; their number is the objects'). */
async function* readRecords(file: string): AsyncGenerator<{ i: number; text: string }> {
  let rest = '';
  for await (const chunk of createReadStream(file, 'utf8')) {
    const parts = (rest + (chunk as string)).split('\u0000');
    rest = parts.pop() ?? '';
    for (const part of parts) {
      const tab = part.indexOf('\t');
      yield { i: Number(part.slice(0, tab)), text: part.slice(tab + 1) };
    }
  }
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
