import yauzl from 'yauzl';

/**
 * Every entry of a zip, read with yauzl (an unzip that is not ours, so a test checks what
 * any reader sees): name → bytes, in the zip's order. `zip` is a file path or the bytes.
 */
export async function unzip(zip: string | Buffer): Promise<Map<string, Buffer>> {
  const file =
    typeof zip === 'string'
      ? await yauzl.openPromise(zip, { lazyEntries: true })
      : await yauzl.fromBufferPromise(zip, { lazyEntries: true });
  const out = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    file.on('entry', (entry: yauzl.Entry) => {
      file.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', reject);
        stream.on('end', () => {
          out.set(entry.fileName, Buffer.concat(chunks));
          file.readEntry();
        });
      });
    });
    file.on('end', () => resolve());
    file.on('error', reject);
    file.readEntry();
  });
  return out;
}
