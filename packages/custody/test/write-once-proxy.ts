import type { IncomingHttpHeaders } from 'node:http';
import { startS3Proxy, type S3Proxy } from '@archiver/testkit';

export type SeenRequest = {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  status?: number;
};

/**
 * s3rver ignores `If-None-Match`; this recording proxy in front of it answers such a PUT to
 * a key already PUT through it with 412 PreconditionFailed, as S3 does, and records every
 * request's headers.
 */
export async function startWriteOnceProxy(
  target: string,
): Promise<S3Proxy & { seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  const written = new Set<string>();
  const proxy = await startS3Proxy(target, (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const record: SeenRequest = { method: req.method ?? '', path, headers: req.headers };
    seen.push(record);
    if (req.method !== 'PUT') return false;
    if (req.headers['if-none-match'] === '*' && written.has(path)) {
      record.status = 412;
      req.resume();
      res.writeHead(412, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>',
      );
      return true;
    }
    written.add(path);
    return false;
  });
  return { ...proxy, seen };
}
