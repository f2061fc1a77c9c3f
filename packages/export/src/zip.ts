import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, Readable, Transform, type Writable } from 'node:stream';
import { crc32, createDeflateRaw } from 'node:zlib';

/**
 * A streaming zip writer (STORE or deflate, data descriptors, ZIP64 where a size, an offset
 * or the number of entries needs it), written to `out` one entry at a time: each `add`
 * resolves once its bytes have passed, so one source is open at a time. The central
 * directory, which a zip keeps to its end, is spilled to a file in `tmpDir` as each entry
 * finishes (46 bytes and the name an entry) and copied out by `end`: memory holds no list of
 * entries, however many there are. The layout is yazl's (APPNOTE 6.3), so any unzip reads it.
 *
 * Every entry's time is 2000-01-01 00:00 as DOS date and time, with no UTC extra field, so the
 * same entries give the same bytes in any time zone.
 */
const DOS_DATE = ((2000 - 1980) << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
const FLAGS = (1 << 11) | (1 << 3); // UTF-8 names; CRC and sizes in a data descriptor
const VERSION_MADE_BY = (3 << 8) | 63; // unix, APPNOTE 6.3
const VERSION_UTF8 = 20;
const VERSION_ZIP64 = 45;
const FILE_MODE = 0o100644;
const MAX32 = 0xffffffff;

export type ZipEntryDigest = { path: string; sha256: string; size: number };

export function createZipWriter(out: Writable, opts: { tmpDir: string }) {
  const cdFile = join(opts.tmpDir, `central-directory-${process.hrtime.bigint()}.bin`);
  const cd = createWriteStream(cdFile);
  let offset = 0;
  let entries = 0;
  let cdSize = 0;
  let ended = false;
  let failure: unknown;
  let fail: (err: unknown) => void = () => {};
  const broken = new Promise<never>((_, reject) => {
    fail = (err) => {
      failure ??= err;
      reject(failure as Error);
    };
  });
  broken.catch(() => {});
  const onError = (err: unknown) => fail(err);
  const onClose = () => {
    if (!ended) fail(new Error('zip output closed before the zip was complete'));
  };
  out.on('error', onError);
  out.on('close', onClose);
  cd.on('error', onError);

  async function write(bytes: Buffer): Promise<void> {
    if (failure) throw failure;
    offset += bytes.length;
    if (!out.write(bytes)) await Promise.race([once(out, 'drain'), broken]);
  }

  return {
    /** Adds `source` as `path`; resolves with the SHA-256 and size of the bytes it gave. */
    async add(
      path: string,
      source: Readable | Buffer | string,
      o: { compress: boolean; size?: number },
    ): Promise<ZipEntryDigest> {
      if (failure) throw failure;
      const name = Buffer.from(path, 'utf8');
      const method = o.compress ? 8 : 0;
      const headerOffset = offset;
      await write(localHeader(name, method));
      const hash = createHash('sha256');
      let crc = 0;
      let size = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          crc = crc32(chunk, crc);
          size += chunk.length;
          cb(null, chunk);
        },
      });
      const input =
        typeof source === 'string' || Buffer.isBuffer(source)
          ? Readable.from([Buffer.from(source)])
          : source;
      const noop = () => {};
      const body = o.compress
        ? pipeline(input, meter, createDeflateRaw(), noop)
        : pipeline(input, meter, noop);
      let compressed = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        compressed += chunk.length;
        await write(chunk);
      }
      if (o.size !== undefined && o.size !== size) {
        throw new Error(`zip entry ${path}: expected ${o.size} bytes, the source gave ${size}`);
      }
      const entry = { name, method, crc, size, compressed, offset: headerOffset };
      await write(dataDescriptor(entry));
      const record = centralRecord(entry);
      entries += 1;
      cdSize += record.length;
      if (!cd.write(record)) await Promise.race([once(cd, 'drain'), broken]);
      return { path, sha256: hash.digest('hex'), size };
    },

    /** Writes the central directory and its end records, ends `out` and waits for it. */
    async end(): Promise<void> {
      if (failure) throw failure;
      cd.end();
      await Promise.race([once(cd, 'close'), broken]);
      const cdOffset = offset;
      try {
        for await (const chunk of createReadStream(cdFile) as AsyncIterable<Buffer>) {
          await write(chunk);
        }
      } finally {
        await rm(cdFile, { force: true });
      }
      await write(endRecords(entries, cdOffset, cdSize, offset));
      ended = true;
      out.end();
      await Promise.race([once(out, 'finish'), broken]);
      out.off('error', onError);
      out.off('close', onClose);
    },

    /** Drops the spilled central directory (after a failure; `end` removes it itself). */
    async abort(): Promise<void> {
      cd.destroy();
      await rm(cdFile, { force: true });
    },
  };
}

export type ZipWriter = ReturnType<typeof createZipWriter>;

type Entry = {
  name: Buffer;
  method: number;
  crc: number;
  size: number;
  compressed: number;
  offset: number;
};

const zip64 = (e: Entry) => e.size >= MAX32 || e.compressed >= MAX32 || e.offset >= MAX32;

function localHeader(name: Buffer, method: number): Buffer {
  const b = Buffer.alloc(30);
  b.writeUInt32LE(0x04034b50, 0);
  b.writeUInt16LE(VERSION_UTF8, 4);
  b.writeUInt16LE(FLAGS, 6);
  b.writeUInt16LE(method, 8);
  b.writeUInt16LE(DOS_TIME, 10);
  b.writeUInt16LE(DOS_DATE, 12);
  // CRC-32 and sizes are 0 here: they follow the data, in the data descriptor.
  b.writeUInt16LE(name.length, 26);
  return Buffer.concat([b, name]);
}

function dataDescriptor(e: Entry): Buffer {
  if (!zip64(e)) {
    const b = Buffer.alloc(16);
    b.writeUInt32LE(0x08074b50, 0);
    b.writeUInt32LE(e.crc, 4);
    b.writeUInt32LE(e.compressed, 8);
    b.writeUInt32LE(e.size, 12);
    return b;
  }
  const b = Buffer.alloc(24);
  b.writeUInt32LE(0x08074b50, 0);
  b.writeUInt32LE(e.crc, 4);
  b.writeBigUInt64LE(BigInt(e.compressed), 8);
  b.writeBigUInt64LE(BigInt(e.size), 16);
  return b;
}

function centralRecord(e: Entry): Buffer {
  const big = zip64(e);
  const b = Buffer.alloc(46);
  b.writeUInt32LE(0x02014b50, 0);
  b.writeUInt16LE(VERSION_MADE_BY, 4);
  b.writeUInt16LE(big ? VERSION_ZIP64 : VERSION_UTF8, 6);
  b.writeUInt16LE(FLAGS, 8);
  b.writeUInt16LE(e.method, 10);
  b.writeUInt16LE(DOS_TIME, 12);
  b.writeUInt16LE(DOS_DATE, 14);
  b.writeUInt32LE(e.crc, 16);
  b.writeUInt32LE(big ? MAX32 : e.compressed, 20);
  b.writeUInt32LE(big ? MAX32 : e.size, 24);
  b.writeUInt16LE(e.name.length, 28);
  b.writeUInt16LE(big ? 28 : 0, 30);
  // comment length, disk number, internal attributes: 0
  b.writeUInt32LE((FILE_MODE << 16) >>> 0, 38);
  b.writeUInt32LE(big ? MAX32 : e.offset, 42);
  if (!big) return Buffer.concat([b, e.name]);
  // ZIP64 extended information: all three values, as yazl writes it.
  const x = Buffer.alloc(28);
  x.writeUInt16LE(0x0001, 0);
  x.writeUInt16LE(24, 2);
  x.writeBigUInt64LE(BigInt(e.size), 4);
  x.writeBigUInt64LE(BigInt(e.compressed), 12);
  x.writeBigUInt64LE(BigInt(e.offset), 20);
  return Buffer.concat([b, e.name, x]);
}

/** End of central directory, preceded by the ZIP64 record and locator where needed. */
function endRecords(entries: number, cdOffset: number, cdSize: number, at: number): Buffer {
  const big = entries >= 0xffff || cdSize >= MAX32 || cdOffset >= MAX32;
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(big ? 0xffff : entries, 8);
  eocd.writeUInt16LE(big ? 0xffff : entries, 10);
  eocd.writeUInt32LE(big ? MAX32 : cdSize, 12);
  eocd.writeUInt32LE(big ? MAX32 : cdOffset, 16);
  if (!big) return eocd;
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(VERSION_MADE_BY, 12);
  record.writeUInt16LE(VERSION_ZIP64, 14);
  record.writeBigUInt64LE(BigInt(entries), 24);
  record.writeBigUInt64LE(BigInt(entries), 32);
  record.writeBigUInt64LE(BigInt(cdSize), 40);
  record.writeBigUInt64LE(BigInt(cdOffset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(at), 8);
  locator.writeUInt32LE(1, 16);
  return Buffer.concat([record, locator, eocd]);
}
