import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { startS3Proxy, type S3Proxy } from './s3-proxy.js';

export type RecordedRequest = {
  method: string;
  /** The object key (decoded), or '' for a request on the bucket. */
  key: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
};

export type ObjectLockProxy = S3Proxy & {
  /** Every request, in arrival order. */
  seen: RecordedRequest[];
  /** Each key's current version's legal hold: set by a write's header or PutObjectLegalHold. */
  legalHolds: Map<string, 'ON' | 'OFF'>;
  /** Every version's legal hold, by `versionKey(key, versionId)`. */
  versionHolds: Map<string, 'ON' | 'OFF'>;
  /** Each key's versions written through the proxy, oldest first. */
  versions: Map<string, ObjectVersion[]>;
  /** The PutObjectLegalHold calls, in order. */
  legalHoldPuts: Array<{ key: string; status: string; versionId?: string }>;
};

export type ObjectVersion = { versionId: string; lastModified: Date };

export function versionKey(key: string, versionId: string): string {
  return `${key}\n${versionId}`;
}

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/**
 * s3rver has no Object Lock: it answers GetObjectLockConfiguration as a listing and would
 * store a PutObjectLegalHold body as the object. This recording proxy in front of it answers
 * those two (and GetObjectLegalHold) as AWS does for a bucket created with Object Lock,
 * forwards everything else, and keeps what a legal hold would be on each key. s3rver has no
 * versioning either, which Object Lock implies: the proxy numbers the versions of each key
 * written through it (s3rver keeps only the last one's bytes) and answers ListObjectVersions
 * from them, in one page, so a legal hold can be put on a version that is no longer current.
 */
export async function startObjectLockProxy(target: string): Promise<ObjectLockProxy> {
  const seen: RecordedRequest[] = [];
  const legalHolds = new Map<string, 'ON' | 'OFF'>();
  const versionHolds = new Map<string, 'ON' | 'OFF'>();
  const versions = new Map<string, ObjectVersion[]>();
  const legalHoldPuts: ObjectLockProxy['legalHoldPuts'] = [];
  let versionCount = 0;
  const latest = (key: string) => versions.get(key)?.at(-1)?.versionId;
  const proxy = await startS3Proxy(target, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy.local');
    const [, , ...rawKey] = url.pathname.split('/');
    const key = rawKey.map(decodeURIComponent).join('/');
    const r: RecordedRequest = {
      method: req.method ?? '',
      key,
      query: url.searchParams,
      headers: req.headers,
    };
    seen.push(r);
    if (r.method === 'GET' && !key && url.searchParams.has('object-lock')) {
      sendXml(
        res,
        `<ObjectLockConfiguration xmlns="${XMLNS}"><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>`,
      );
      req.resume();
      return true;
    }
    if (r.method === 'GET' && !key && url.searchParams.has('versions')) {
      sendXml(res, listVersionsXml(versions, url.searchParams.get('prefix') ?? ''));
      req.resume();
      return true;
    }
    if (key && url.searchParams.has('legal-hold')) {
      const versionId = url.searchParams.get('versionId') ?? latest(key);
      if (versionId !== undefined && !versions.get(key)?.some((v) => v.versionId === versionId)) {
        req.resume();
        sendError(res, 404, 'NoSuchVersion', 'The specified version does not exist.');
        return true;
      }
      if (r.method === 'PUT') {
        void readBody(req).then((body) => {
          const status = /<Status>([^<]*)<\/Status>/.exec(body)?.[1] ?? '';
          legalHoldPuts.push({
            key,
            status,
            versionId: url.searchParams.get('versionId') ?? undefined,
          });
          if (status === 'ON' || status === 'OFF') {
            if (versionId !== undefined) versionHolds.set(versionKey(key, versionId), status);
            if (versionId === latest(key)) legalHolds.set(key, status);
          }
          res.writeHead(200).end();
        });
        return true;
      }
      const status =
        versionId === undefined
          ? legalHolds.get(key)
          : versionHolds.get(versionKey(key, versionId));
      req.resume();
      if (!status) {
        sendError(
          res,
          404,
          'NoSuchObjectLockConfiguration',
          'The specified object does not have a ObjectLock configuration',
        );
        return true;
      }
      sendXml(res, `<LegalHold xmlns="${XMLNS}"><Status>${status}</Status></LegalHold>`);
      return true;
    }
    // PutObject, or CreateMultipartUpload: the header sets the new object's legal hold.
    const creates =
      (r.method === 'PUT' && !url.searchParams.has('uploadId')) ||
      (r.method === 'POST' && url.searchParams.has('uploads'));
    if (key && creates) {
      const status = req.headers['x-amz-object-lock-legal-hold'] === 'ON' ? 'ON' : 'OFF';
      const versionId = `v${(versionCount += 1)}`;
      versions.set(key, [...(versions.get(key) ?? []), { versionId, lastModified: new Date() }]);
      versionHolds.set(versionKey(key, versionId), status);
      legalHolds.set(key, status);
    }
    return false;
  });
  return { ...proxy, seen, legalHolds, versionHolds, versions, legalHoldPuts };
}

/** ListObjectVersions' answer: keys in order, each key's versions newest first. */
function listVersionsXml(versions: Map<string, ObjectVersion[]>, prefix: string): string {
  const entries = [...versions]
    .filter(([key]) => key.startsWith(prefix))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([key, list]) =>
      [...list]
        .reverse()
        .map(
          (v, i) =>
            `<Version><Key>${escapeXml(key)}</Key><VersionId>${v.versionId}</VersionId>` +
            `<IsLatest>${i === 0}</IsLatest><LastModified>${v.lastModified.toISOString()}</LastModified></Version>`,
        ),
    );
  return (
    `<ListVersionsResult xmlns="${XMLNS}"><Prefix>${escapeXml(prefix)}</Prefix>` +
    `<IsTruncated>false</IsTruncated>${entries.join('')}</ListVersionsResult>`
  );
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  );
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendXml(res: ServerResponse, body: string): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(200, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
