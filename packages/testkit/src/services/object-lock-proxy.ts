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
  /** Each key's legal hold as AWS would hold it now: set by a write's header or PutObjectLegalHold. */
  legalHolds: Map<string, 'ON' | 'OFF'>;
  /** The PutObjectLegalHold calls, in order. */
  legalHoldPuts: Array<{ key: string; status: string; versionId?: string }>;
};

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/**
 * s3rver has no Object Lock: it answers GetObjectLockConfiguration as a listing and would
 * store a PutObjectLegalHold body as the object. This recording proxy in front of it answers
 * those two (and GetObjectLegalHold) as AWS does for a bucket created with Object Lock,
 * forwards everything else, and keeps what a legal hold would be on each key.
 */
export async function startObjectLockProxy(target: string): Promise<ObjectLockProxy> {
  const seen: RecordedRequest[] = [];
  const legalHolds = new Map<string, 'ON' | 'OFF'>();
  const legalHoldPuts: ObjectLockProxy['legalHoldPuts'] = [];
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
    if (key && url.searchParams.has('legal-hold')) {
      if (r.method === 'PUT') {
        void readBody(req).then((body) => {
          const status = /<Status>([^<]*)<\/Status>/.exec(body)?.[1] ?? '';
          const versionId = url.searchParams.get('versionId') ?? undefined;
          legalHoldPuts.push({ key, status, versionId });
          if (status === 'ON' || status === 'OFF') legalHolds.set(key, status);
          res.writeHead(200).end();
        });
        return true;
      }
      const status = legalHolds.get(key);
      req.resume();
      if (!status) {
        res.writeHead(404, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchObjectLockConfiguration</Code><Message>The specified object does not have a ObjectLock configuration</Message></Error>',
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
      const header = req.headers['x-amz-object-lock-legal-hold'];
      legalHolds.set(key, header === 'ON' ? 'ON' : 'OFF');
    }
    return false;
  });
  return { ...proxy, seen, legalHolds, legalHoldPuts };
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
