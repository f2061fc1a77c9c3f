import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { unzip } from '@archiver/testkit';
import { createZipWriter } from './zip.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zip-test-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('zip writer', () => {
  it('writes stored and deflated entries any unzip reads, with their SHA-256', async () => {
    const file = join(dir, 'a.zip');
    const zip = createZipWriter(createWriteStream(file), { tmpDir: dir });
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const a = await zip.add('files/ä b.bin', Readable.from([big.subarray(0, 1000), big]), {
      compress: false,
      size: 1000 + big.length,
    });
    await zip.add('chats/x/transcript.html', '<p>hello</p>'.repeat(1000), { compress: true });
    await zip.add('empty', Buffer.alloc(0), { compress: true });
    await zip.end();
    expect(a.size).toBe(1000 + big.length);
    const entries = await unzip(file);
    expect([...entries.keys()]).toEqual(['files/ä b.bin', 'chats/x/transcript.html', 'empty']);
    expect(entries.get('files/ä b.bin')!.length).toBe(a.size);
    expect(entries.get('chats/x/transcript.html')!.toString()).toBe('<p>hello</p>'.repeat(1000));
    expect(entries.get('empty')!.length).toBe(0);
    // The central directory went through a file of its own, removed at the end.
    expect((await readdir(dir)).filter((f) => f.startsWith('central-'))).toEqual([]);
  });

  it('switches to ZIP64 end records past 65,535 entries', async () => {
    const file = join(dir, 'many.zip');
    const zip = createZipWriter(createWriteStream(file), { tmpDir: dir });
    const n = 70_000;
    for (let i = 0; i < n; i += 1) await zip.add(`e/${i}`, String(i), { compress: false });
    await zip.end();
    const z = await yauzl.openPromise(file, { lazyEntries: true });
    expect(z.entryCount).toBe(n);
    z.close();
  }, 60_000);

  it('refuses a source that gives another size than announced', async () => {
    const zip = createZipWriter(createWriteStream(join(dir, 'bad.zip')), { tmpDir: dir });
    await expect(zip.add('x', Buffer.alloc(10), { compress: false, size: 11 })).rejects.toThrow(
      /expected 11 bytes, the source gave 10/,
    );
    await zip.abort();
  });
});
