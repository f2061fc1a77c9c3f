import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

/**
 * Every entry's time in the zip: a fixed date, so the same export gives the same bytes.
 * DOS timestamps are local time; `forceDosTimestamp` leaves out the UTC extra field, so the
 * bytes do not depend on the time zone either (the DOS fields are built from this date's
 * local reading, which is the same everywhere for a date built from local fields).
 */
const ZIP_TIME = new Date(2000, 0, 1, 0, 0, 0);

export type ZipEntryDigest = { path: string; sha256: string; size: number };

/**
 * A streaming zip (yazl: STORE or deflate, data descriptors, ZIP64 past 4 GiB), written to
 * `out` one entry at a time: each `add` resolves once its bytes have passed, so exactly one
 * source is open at a time and memory holds only the central directory's few bytes a file.
 */
export function createZipWriter(out: Writable) {
  const zip = new yazl.ZipFile();
  const done = pipeline(zip.outputStream as Readable, out);
  let failed: unknown;
  zip.on('error', (err: unknown) => (failed = err));
  done.catch((err: unknown) => (failed ??= err));

  return {
    /** Adds `source` as `path`; resolves with the SHA-256 and size of the bytes it gave. */
    async add(
      path: string,
      source: Readable | Buffer | string,
      opts: { compress: boolean; size?: number },
    ): Promise<ZipEntryDigest> {
      if (failed) throw failed;
      const hash = createHash('sha256');
      let size = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      });
      const input =
        typeof source === 'string' || Buffer.isBuffer(source)
          ? bufferStream(Buffer.from(source))
          : source;
      input.on('error', (err) => meter.destroy(err));
      zip.addReadStream(input.pipe(meter), path, {
        mtime: ZIP_TIME,
        mode: 0o100644,
        compress: opts.compress,
        forceDosTimestamp: true,
        ...(opts.size !== undefined ? { size: opts.size } : {}),
      });
      await Promise.race([
        once(meter, 'end'),
        done.then(() => {
          throw new Error('zip output ended early');
        }),
      ]);
      if (failed) throw failed;
      return { path, sha256: hash.digest('hex'), size };
    },
    async end(): Promise<void> {
      zip.end();
      await done;
      if (failed) throw failed;
    },
  };
}

export type ZipWriter = ReturnType<typeof createZipWriter>;

function bufferStream(bytes: Buffer): Readable {
  const s = new PassThrough();
  s.end(bytes);
  return s;
}
