import { randomBytes } from 'node:crypto';
import { generatedChunks, sha256Hex } from './content.js';
import { sleep, streamBody, type Reply } from './http-util.js';
import type { AddFileOptions, AddedFile, FaultStep, MessageRef } from './types.js';

export type FileEntry = MessageRef & {
  opaque: string;
  fileName: string;
  mimeType: string;
  size: number;
  sha256: string;
  chunks(): Iterable<Buffer>;
  removed: boolean;
};

export type FileStore = ReturnType<typeof createFileStore>;

const DEFAULT_SIZE = 1024;

const refKey = (ref: MessageRef) => `${ref.idInstance}\u0000${ref.chatId}\u0000${ref.idMessage}`;

/** Files of all instances, by message ref (downloadFile) and by opaque URL id (file GET). */
export function createFileStore(baseUrl: () => string) {
  const byRef = new Map<string, FileEntry>();
  const byOpaque = new Map<string, FileEntry>();

  function add(opts: AddFileOptions): AddedFile {
    const ref = { idInstance: opts.idInstance, chatId: opts.chatId, idMessage: opts.idMessage };
    // A copy: the caller may reuse its buffer after addFile returns.
    const bytes = opts.bytes ? Buffer.from(opts.bytes) : undefined;
    const seed = opts.seed ?? refKey(ref);
    const size = bytes ? bytes.length : (opts.size ?? DEFAULT_SIZE);
    const chunks = bytes ? () => [bytes] : () => generatedChunks(seed, size);
    const previous = byRef.get(refKey(ref));
    if (previous) byOpaque.delete(previous.opaque);
    const entry: FileEntry = {
      ...ref,
      // Random per file: a URL handed out for an older version of the message stops working.
      opaque: randomBytes(12).toString('hex'),
      fileName: opts.fileName ?? `${opts.idMessage}.bin`,
      mimeType: opts.mimeType ?? 'application/octet-stream',
      size,
      // Hashing streams through the content once; a 100 MB file takes well under a second.
      sha256: sha256Hex(chunks()),
      chunks,
      removed: false,
    };
    byRef.set(refKey(ref), entry);
    byOpaque.set(entry.opaque, entry);
    return {
      downloadUrl: urlOf(entry),
      sha256: entry.sha256,
      size,
      fileName: entry.fileName,
      mimeType: entry.mimeType,
    };
  }

  function urlOf(entry: FileEntry): string {
    return `${baseUrl()}/files/${entry.opaque}/${encodeURIComponent(entry.fileName)}`;
  }

  return {
    add,
    urlOf,
    get: (ref: MessageRef) => byRef.get(refKey(ref)),
    byOpaque: (opaque: string) => byOpaque.get(opaque),
    remove(ref: MessageRef) {
      const entry = byRef.get(refKey(ref));
      if (!entry) throw new Error(`no file for idMessage ${ref.idMessage} in chat ${ref.chatId}`);
      entry.removed = true;
    },
  };
}

export type FaultScripts = ReturnType<typeof createFaultScripts>;

/** Per-idMessage queues of scripted steps, one queue for downloadFile and one for file GETs. */
export function createFaultScripts() {
  const queues = {
    downloadFile: new Map<string, FaultStep[]>(),
    file: new Map<string, FaultStep[]>(),
  };
  return {
    set(on: keyof typeof queues, idMessage: string, steps: FaultStep[]) {
      queues[on].set(idMessage, [...steps]);
    },
    /** The next scripted step, or undefined when none is left (behave normally). */
    take(on: keyof typeof queues, idMessage: string): FaultStep | undefined {
      return queues[on].get(idMessage)?.shift();
    },
  };
}

/**
 * Applies the parts of a step that come before the normal answer: a scripted status is sent
 * (true = handled), a delay is waited out. Truncate/stall are left to the body writer.
 */
export async function applyLeadingStep(reply: Reply, step: FaultStep): Promise<boolean> {
  if (step === 'ok') return false;
  if ('status' in step) {
    const echo = `${step.body ?? ''}${reply.req.method} ${reply.req.url}`;
    reply.text(step.status, step.echoUrl ? echo : step.body);
    return true;
  }
  if ('delayMs' in step) await sleep(step.delayMs, reply.signal);
  return reply.signal.aborted;
}

export function cutOf(step: FaultStep) {
  if (step === 'ok') return undefined;
  if ('truncateAfter' in step) return { truncateAfter: step.truncateAfter };
  if ('stallAfter' in step) return { stallAfter: step.stallAfter };
  return undefined;
}

/** GET/HEAD `/files/<opaque>/<name>`: the storage link downloadFile hands out. */
export async function serveFile(
  reply: Reply,
  files: FileStore,
  scripts: FaultScripts,
  opaque: string,
) {
  reply.record.method = 'file';
  const entry = files.byOpaque(opaque);
  if (entry) reply.record.idInstance = entry.idInstance;
  if (!entry || entry.removed) return reply.text(404, 'Not Found');
  const step = scripts.take('file', entry.idMessage) ?? 'ok';
  if (await applyLeadingStep(reply, step)) return;
  reply.head(200, { 'Content-Type': entry.mimeType, 'Content-Length': entry.size });
  if (reply.req.method === 'HEAD') return void reply.res.end();
  await streamBody(reply, entry.chunks(), cutOf(step));
}
