import type { Writable } from 'node:stream';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { Cluster, Redis } from 'ioredis';
import type { z } from 'zod';
import { custodyStatusOf, type CustodyKeys, type CustodyStore } from '@archiver/custody';
import {
  TIMELINE_CSS,
  anchorId,
  chatTimeline,
  renderDay,
  type TimelineEntry,
} from '@archiver/timeline';
import { checkBasicAuth } from '../auth.js';
import {
  chatFolder,
  listChats,
  listDayObjects,
  listDays,
  listInstances,
  type Bucket,
} from './browse.js';
import { contentDisposition, streamObject } from './files.js';
import { chatParams, dayParams, exportQuery, fileParams, searchQuery } from './params.js';
import * as p from './pages.js';

export type ReviewSelection = {
  idInstance: string;
  chatId: string;
  since?: string;
  until?: string;
};

/** What the custody log is told (packages/custody audit.ts's input, structurally). */
export type ReviewAudit = {
  action: 'view' | 'download' | 'export';
  actor: string;
  reason?: string;
  selection: Partial<ReviewSelection> & { key?: string };
  /** An export's manifest: its SHA-256, objects and bytes. */
  result?: { objects: number; bytes: number; sha256: string };
};

/** Called with the manifest's digest before it goes into the zip (packages/export hooks). */
export type ExportHooks = {
  beforeManifest: (m: { sha256: string; objects: number; bytes: number }) => Promise<void>;
};

export type ReviewDeps = {
  credentials: { user: string; password: string };
  /** Undefined: S3 is not configured on this receiver; the page says so. */
  bucket?: Bucket;
  custody?: { store: CustodyStore; redis?: Redis | Cluster; keys: CustodyKeys; intervalMs: number };
  /** Writes the audit record; files and exports are refused while it is missing. */
  audit?: (record: ReviewAudit) => Promise<unknown>;
  /** Streams the export's zip (packages/export); absent: no export button. */
  exportZip?: (selection: ReviewSelection, out: Writable, hooks: ExportHooks) => Promise<unknown>;
  logger: Logger;
};

/** Searched records per request, and hits shown: the search streams and stops at either. */
export const SEARCH_MAX_RECORDS = 50_000;
export const SEARCH_MAX_HITS = 200;

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

class BadRequest extends Error {
  override name = 'BadRequest';
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new BadRequest(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return r.data;
}

/** `/review`: read-only pages over the bucket, behind their own basic-auth credentials. */
export function createReviewRouter(deps: ReviewDeps): Router {
  const router = express.Router({ strict: true });
  router.use((req: Request, res: Response, next: NextFunction) => {
    res.set(SECURITY_HEADERS);
    if (checkBasicAuth(req.headers.authorization, deps.credentials)) return next();
    res.status(401).set('www-authenticate', 'Basic realm="archiver review", charset="UTF-8"');
    res.type('text/plain').send('unauthorized\n');
  });
  router.get('/assets/timeline.css', (_req, res) => void res.type('text/css').send(TIMELINE_CSS));
  router.get('/assets/review.css', (_req, res) => void res.type('text/css').send(p.REVIEW_CSS));
  router.use((_req, res, next) => {
    if (deps.bucket) return next();
    res
      .status(503)
      .type('html')
      .send(
        p.page(
          'Review unavailable',
          [['Review']],
          p.message(
            'S3 is not configured on this receiver (set S3_BUCKET and the S3_* variables): there is nothing to review.',
          ),
        ),
      );
  });
  const b = () => deps.bucket!;
  const actor = (req: Request) => {
    const user = Buffer.from((req.headers.authorization ?? '').split(' ')[1] ?? '', 'base64')
      .toString('utf8')
      .split(':')[0];
    return `${user} (review page, ${req.ip ?? 'unknown address'})`;
  };

  router.get('/', async (_req, res) => {
    const list = await listInstances(b());
    res.type('html').send(p.page('Instances', [['Review']], p.instancesBody(list)));
  });

  router.get('/:kind/:instance/', async (req, res) => {
    const { kind, instance } = parse(chatParams.pick({ kind: true, instance: true }), req.params);
    const pageNo = Math.min(Math.max(Number(req.query.page ?? 0) || 0, 0), 10_000);
    const { chats, more } = await listChats(b(), kind, instance, pageNo);
    res
      .type('html')
      .send(
        p.page(
          `Instance ${instance}`,
          [['Review', p.urls.home()], [`${kind} ${instance}`]],
          p.chatsBody(kind, instance, chats, pageNo, more),
        ),
      );
  });

  router.get('/:kind/:instance/:chat/', async (req, res) => {
    const { kind, instance, chat } = parse(chatParams, req.params);
    const days = await listDays(b(), chatFolder(b(), kind, instance, chat));
    res
      .type('html')
      .send(
        p.page(
          `Chat ${chat}`,
          crumbs(kind, instance, chat),
          p.chatBody(kind, instance, chat, days, !!deps.exportZip && !!deps.audit),
        ),
      );
  });

  router.get('/:kind/:instance/:chat/search', async (req, res) => {
    const { kind, instance, chat } = parse(chatParams, req.params);
    const q = parse(searchQuery, req.query);
    await search(deps, b(), { kind, instance, chat, ...q }, res);
  });

  // Exporting writes to the audit log: a form POST (it works without JavaScript), never a GET.
  router.get('/:kind/:instance/:chat/export', (req, res) => {
    parse(chatParams, req.params);
    res.status(405).set('allow', 'POST').type('text/plain');
    res.send("export: use the chat page's export form (POST)\n");
  });

  router.post('/:kind/:instance/:chat/export', exportBody, async (req, res) => {
    const { kind, instance, chat } = parse(chatParams, req.params);
    const q = parse(exportQuery, req.body ?? {});
    if (crossSite(req)) {
      res.status(403).type('text/plain').send('export: the form must come from this page\n');
      return;
    }
    if (!deps.exportZip || !deps.audit) {
      res
        .status(404)
        .type('html')
        .send(
          p.page(
            'Export',
            crumbs(kind, instance, chat),
            p.message('Export is not available on this receiver.'),
          ),
        );
      return;
    }
    const { exportZip, audit, logger } = deps;
    await exportChat(
      { exportZip, audit, logger },
      {
        selection: { idInstance: instance, chatId: chat, since: q.since, until: q.until },
        actor: actor(req),
        reason: q.reason,
        res,
      },
    );
  });

  router.get('/:kind/:instance/:chat/file/:date/:idMessage/:name', async (req, res) => {
    const f = parse(fileParams, req.params);
    const download = req.query.download === '1';
    const key = `${dayFolder(b(), f)}${f.idMessage}/${f.name}`;
    if (!deps.audit) {
      res.status(503).type('text/plain').send('audit log unavailable: files are not served\n');
      return;
    }
    await deps.audit({
      action: download ? 'download' : 'view',
      actor: actor(req),
      selection: { idInstance: f.instance, chatId: f.chat, since: f.date, until: f.date, key },
    });
    const controller = new AbortController();
    res.on('close', () => controller.abort());
    if ((await streamObject(b(), { key, download }, res, controller.signal)) === 'missing') {
      res.status(404).type('text/plain').send('no such file\n');
    }
  });

  router.get('/:kind/:instance/:chat/:date', async (req, res) => {
    const d = parse(dayParams, req.params);
    await dayPage(deps, b(), d, res);
  });

  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!(err instanceof BadRequest)) return next(err);
    if (res.headersSent) return res.end();
    res.status(400).type('text/plain').send(`bad request: ${err.message}\n`);
  });
  return router;
}

/** The export form's fields only: a few hundred bytes, three fields. */
const exportBody = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 });

/**
 * A form posted from another site with the officer's cached credentials would put an export
 * in the audit log in their name. Browsers say where a request comes from: `Sec-Fetch-Site`
 * (HTTPS and localhost), else `Origin` (`null` under this page's `no-referrer` policy, so
 * only a real, different origin is refused). Clients without either (curl) are not browsers.
 */
function crossSite(req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site !== 'same-origin' && site !== 'none';
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

/**
 * The export zip as the response. Two audit records: one before the first byte (who, why,
 * what), so nothing leaves untraced, and one with the manifest's SHA-256 before the manifest
 * goes into the zip, so a zip that is complete is named in the log. A failure mid-way cuts
 * the connection: a truncated zip must not look like a finished download.
 */
async function exportChat(
  deps: Required<Pick<ReviewDeps, 'exportZip' | 'audit' | 'logger'>>,
  job: { selection: ReviewSelection; actor: string; reason?: string; res: Response },
) {
  const { selection, actor, reason, res } = job;
  await deps.audit({ action: 'export', actor, reason, selection });
  const { since, until } = selection;
  const name = `export-${selection.idInstance}-${selection.chatId}${since ? `-${since}` : ''}${until ? `-${until}` : ''}.zip`;
  res.status(200).type('application/zip');
  res.setHeader('content-disposition', contentDisposition('attachment', name));
  try {
    await deps.exportZip(selection, res, {
      beforeManifest: async (result) => {
        await deps.audit({ action: 'export', actor, reason, selection, result });
      },
    });
  } catch (err) {
    deps.logger.warn({ err, component: 'review', selection }, 'review export failed or cut off');
    res.destroy();
    return;
  }
  res.end();
}

function crumbs(
  kind: string,
  instance: string,
  chat: string,
  last?: string,
): Array<[string, string?]> {
  const out: Array<[string, string?]> = [
    ['Review', p.urls.home()],
    [`${kind} ${instance}`, p.urls.instance(kind, instance)],
    [chat, last ? p.urls.chat(kind, instance, chat) : undefined],
  ];
  if (last) out.push([last]);
  return out;
}

function dayFolder(b: Bucket, d: { kind: string; instance: string; chat: string; date: string }) {
  return `${chatFolder(b, d.kind, d.instance, d.chat)}${d.date.replaceAll('-', '/')}/`;
}

function fileHref(
  d: { kind: string; instance: string; chat: string; date: string },
  folder: string,
) {
  return (e: TimelineEntry) => {
    const key = e.file?.key;
    if (!key?.startsWith(folder)) return undefined;
    const [idMessage, name, ...rest] = key.slice(folder.length).split('/');
    if (!idMessage || !name || rest.length) return undefined;
    const enc = encodeURIComponent;
    return `${p.urls.chat(d.kind, d.instance, d.chat)}file/${d.date}/${enc(idMessage)}/${enc(name)}`;
  };
}

async function dayPage(
  deps: ReviewDeps,
  b: Bucket,
  d: { kind: 'whatsapp' | 'max'; instance: string; chat: string; date: string },
  res: Response,
) {
  const folder = dayFolder(b, d);
  const entries: TimelineEntry[] = [];
  for await (const e of chatTimeline(b.s3, {
    bucket: b.bucket,
    prefix: b.prefix,
    idInstance: d.instance,
    chatId: d.chat,
    since: d.date,
    until: d.date,
  })) {
    if (e.kind === d.kind) entries.push(e);
  }
  // The digests the page has without reading anything again: each record's, hashed as it was
  // read above, and each file's as its record states it (custody status compares them).
  const digests = new Map<string, string>();
  for (const e of entries) {
    if (e.recordSha256) digests.set(e.key, e.recordSha256);
    if (e.file?.status === 'archived' && e.file.key && e.file.sha256) {
      digests.set(e.file.key, e.file.sha256);
    }
  }
  const objects = (await listDayObjects(b, folder)).map((o) => ({
    ...o,
    sha256: digests.get(o.key),
  }));
  const status = deps.custody
    ? await custodyStatusOf({ s3: b.s3, ...deps.custody, folder, objects })
    : undefined;
  const href = fileHref(d, folder);
  const body = renderDay(d.date, entries, {
    fileHref: href,
    annotate: (e) => {
      if (!status) return undefined;
      const record = p.custodyBadge('record', status.byKey.get(e.key));
      const file =
        e.file?.status === 'archived' && e.file.key
          ? p.custodyBadge('file', status.byKey.get(e.file.key))
          : undefined;
      const download = href(e);
      return p.markupJoin([
        record,
        file,
        download ? p.downloadLink(`${download}?download=1`) : undefined,
      ]);
    },
  });
  const note = deps.custody
    ? ''
    : p.message('Custody status is not shown: the custody log is not configured.');
  res
    .type('html')
    .send(
      p.page(
        `${d.chat} · ${d.date}`,
        crumbs(d.kind, d.instance, d.chat, d.date),
        p.markupJoin([
          p.searchForm(d.kind, d.instance, d.chat, { since: d.date, until: d.date }),
          entries.length ? body : p.message('No records on this day.'),
          status ? p.deletedList(status.deleted) : undefined,
          note || undefined,
        ]),
      ),
    );
}

/** Streams matches as they are found: the head first, then each hit, then the tail. */
async function search(
  deps: ReviewDeps,
  b: Bucket,
  q: {
    kind: 'whatsapp' | 'max';
    instance: string;
    chat: string;
    q: string;
    since?: string;
    until?: string;
  },
  res: Response,
) {
  const needle = q.q.toLocaleLowerCase();
  res.status(200).type('html');
  res.write(p.pageHead(`Search “${q.q}”`, crumbs(q.kind, q.instance, q.chat, 'search')).value);
  res.write(p.searchForm(q.kind, q.instance, q.chat, q).value);
  res.write('<ol class="hits">\n');
  let scanned = 0;
  let hits = 0;
  let stopped: string | undefined;
  for await (const e of chatTimeline(b.s3, {
    bucket: b.bucket,
    prefix: b.prefix,
    idInstance: q.instance,
    chatId: q.chat,
    since: q.since,
    until: q.until,
  })) {
    scanned += 1;
    const hay = [e.text, e.refersTo?.text, e.senderName, e.sender, e.file?.fileName]
      .filter(Boolean)
      .join('\n')
      .toLocaleLowerCase();
    if (e.kind === q.kind && hay.includes(needle)) {
      hits += 1;
      const dayUrl = p.urls.day(q.kind, q.instance, q.chat, e.time.slice(0, 10));
      if (!res.write(p.searchHit(e, dayUrl, e.idMessage ? anchorId(e.idMessage) : '').value)) {
        await new Promise((r) => res.once('drain', r));
      }
    }
    if (hits >= SEARCH_MAX_HITS) stopped = `first ${SEARCH_MAX_HITS} matches shown`;
    else if (scanned >= SEARCH_MAX_RECORDS) {
      stopped = `stopped after ${SEARCH_MAX_RECORDS} records (up to ${e.time.slice(0, 10)}): narrow the range`;
    }
    if (stopped || res.destroyed) break;
  }
  res.write('</ol>\n');
  res.write(
    p.message(`${hits} matches in ${scanned} records${stopped ? `; ${stopped}` : ''}.`).value,
  );
  res.end(p.pageTail().value);
  deps.logger.debug({ component: 'review', scanned, hits }, 'review search');
}
