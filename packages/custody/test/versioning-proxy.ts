import { startS3Proxy, type S3Proxy } from '@archiver/testkit';

/**
 * s3rver has no versioning; this proxy in front of it answers as a versioned bucket does
 * for what custody looks at: every successful object PUT (or completed multipart upload)
 * gets a new `x-amz-version-id`, and a GET or HEAD of the key names its current version.
 * Older versions are not kept: enough to see which version a seal names and which one the
 * bucket holds now.
 */
export async function startVersioningProxy(
  target: string,
): Promise<S3Proxy & { versionOf(key: string): string | undefined }> {
  const current = new Map<string, string>();
  let next = 0;
  const keyOf = (url: string | undefined) =>
    decodeURIComponent((url ?? '').split('?')[0] ?? '').replace(/^\/[^/]+\//, '');
  const proxy = await startS3Proxy(
    target,
    () => false,
    (req, status): Record<string, string> => {
      const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
      const key = keyOf(req.url);
      // An object PUT carries no sub-resource (the SDK adds only `x-id`); a part, a legal
      // hold or a retention does.
      const objectPut = req.method === 'PUT' && [...query.keys()].every((k) => k === 'x-id');
      const writes = objectPut || (req.method === 'POST' && query.has('uploadId'));
      if (status === 200 && writes) {
        next += 1;
        const version = `v${String(next).padStart(6, '0')}`;
        current.set(key, version);
        return { 'x-amz-version-id': version };
      }
      const version = current.get(key);
      if (status === 200 && (req.method === 'GET' || req.method === 'HEAD') && version) {
        return { 'x-amz-version-id': version };
      }
      return {};
    },
  );
  return { ...proxy, versionOf: (key) => current.get(key) };
}
