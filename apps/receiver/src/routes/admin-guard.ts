import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * The header every changing dashboard request must carry. A cross-site form cannot set a
 * header, and a cross-site script that sets one needs a CORS preflight this server never
 * grants; together with "JSON bodies only" it stops CSRF through the browser's cached basic
 * auth. The dashboard page gets a small script that adds it (`ADMIN_HEADER_SCRIPT`).
 */
export const ADMIN_HEADER = 'x-archiver-admin';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Queue-wide destructive actions, refused whatever ADMIN_READ_ONLY says: emptying,
 * obliterating or cleaning the archive queue deletes jobs that are the only trace of files
 * not yet archived. Matched on the path as Express would route it (any letter case,
 * percent-decoded, a trailing slash), relative to the dashboard's base path.
 */
export function isQueueWideDestructive(segments: string[]): boolean {
  if (segments[0] !== 'api' || segments[1] !== 'queues') return false;
  const rest = segments.slice(3);
  return (
    (rest.length === 1 && (rest[0] === 'empty' || rest[0] === 'obliterate')) ||
    (rest.length === 2 && rest[0] === 'clean')
  );
}

/** The path's segments, decoded and lower-cased; undefined when a segment does not decode. */
export function routeSegments(path: string): string[] | undefined {
  try {
    return path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s).toLowerCase());
  } catch {
    return undefined;
  }
}

type Refusal = { status: number; error: string };

/** What the guard says to a request, or undefined to let it through to bull-board. */
export function refusalFor(
  req: { method: string; path: string; headers: Record<string, string | string[] | undefined> },
  readOnly: boolean,
): Refusal | undefined {
  if (SAFE_METHODS.has(req.method.toUpperCase())) return undefined;
  const segments = routeSegments(req.path);
  if (!segments) return { status: 400, error: 'bad_path' };
  if (isQueueWideDestructive(segments)) return { status: 403, error: 'queue_wide_action_off' };
  // bull-board answers 405 itself in read-only mode; refusing here does not depend on it.
  if (readOnly) return { status: 405, error: 'read_only' };
  if (req.headers[ADMIN_HEADER] !== '1') return { status: 403, error: 'admin_header_required' };
  if (hasBody(req.headers) && !isJson(req.headers['content-type'])) {
    return { status: 415, error: 'json_only' };
  }
  return undefined;
}

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isJson(contentType: string | string[] | undefined): boolean {
  if (typeof contentType !== 'string') return false;
  return contentType.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/** Express middleware in front of bull-board (after basic auth). */
export function adminGuard(readOnly: boolean): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const refusal = refusalFor(req, readOnly);
    if (!refusal) return next();
    res.status(refusal.status).json({ ok: false, error: refusal.error });
  };
}

/**
 * Added to the dashboard page when it may change things: bull-board's UI sends its requests
 * through XMLHttpRequest (axios) without a way to add headers, so the page's own
 * XMLHttpRequest and fetch add ours to every changing same-origin request.
 */
export const ADMIN_HEADER_SCRIPT = `<script>(()=>{const safe=/^(GET|HEAD|OPTIONS)$/i,p=XMLHttpRequest.prototype,open=p.open,send=p.send;p.open=function(m,...a){this.__archiverMethod=String(m);return open.call(this,m,...a)};p.send=function(b){if(!safe.test(this.__archiverMethod||'GET'))this.setRequestHeader('X-Archiver-Admin','1');return send.call(this,b)};const f=window.fetch;window.fetch=function(i,o={}){const m=(o&&o.method)||(i&&i.method)||'GET';if(!safe.test(m)){const h=new Headers((o&&o.headers)||(i&&i.headers)||{});h.set('X-Archiver-Admin','1');o={...o,headers:h}}return f.call(this,i,o)}})();</script>`;

/** Wraps `res.render` of the dashboard page so the rendered HTML carries the header script. */
export function injectAdminHeaderScript(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET') return next();
    const render = res.render.bind(res);
    res.render = ((view: string, options?: object) => {
      render(view, options ?? {}, (err: Error | null, html: string) => {
        if (err) return next(err);
        res.send(html.replace('<head>', `<head>${ADMIN_HEADER_SCRIPT}`));
      });
    }) as Response['render'];
    next();
  };
}
