import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { createCustodyStore, parseAuditRecord } from '@archiver/custody';
import { writeExport } from '@archiver/export';
import { conversationCorpus, unzip } from '@archiver/testkit';
import { runCli } from '../src/cli.js';
import {
  captureIo,
  createContext,
  envOf,
  putArchived,
  putRecords,
  seconds,
  WA,
  type TestContext,
} from './helpers.js';

const CHAT = '71234567890@c.us';
const pem = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const schema = JSON.parse(
  readFileSync(
    new URL('../../../packages/export/test/rsmf-manifest.schema.json', import.meta.url),
    'utf8',
  ),
) as object;

let ctx: TestContext;
let dir: string;
let keyFile: string;
const image = Buffer.alloc(2048, 9);

async function run(...argv: string[]) {
  const io = captureIo();
  const code = await runCli(argv, { ...envOf(ctx), SEAL_SIGNING_KEY: pem }, io, ctx.factory);
  return { code, ...io.text };
}

async function rezip(entries: Map<string, Buffer>, file: string) {
  const zip = new yazl.ZipFile();
  for (const [name, bytes] of entries) zip.addBuffer(bytes, name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  writeFileSync(file, Buffer.concat(chunks));
}

beforeAll(async () => {
  ctx = createContext('export', { SEAL_SIGNING_KEY: pem });
  dir = mkdtempSync(join(tmpdir(), 'export-cli-'));
  const t0 = seconds('2026-11-30T23:58:00Z');
  await putArchived(
    ctx,
    { idInstance: WA, kind: 'whatsapp', chatId: CHAT, idMessage: 'WAFILE1', timestamp: t0 },
    Buffer.alloc(300, 7),
  );
  await putArchived(
    ctx,
    {
      idInstance: WA,
      kind: 'whatsapp',
      chatId: CHAT,
      idMessage: 'WAIMG1',
      timestamp: t0 + 30,
      fileName: 'photo.jpg',
    },
    image,
  );
  await putArchived(
    ctx,
    { idInstance: WA, kind: 'whatsapp', chatId: '7999@c.us', idMessage: 'OTHER1', timestamp: t0 },
    Buffer.from('other chat'),
  );
  const corpus = conversationCorpus(
    { kind: 'whatsapp', idInstance: WA },
    { chatId: CHAT, timestamp: t0, tag: 'WA', fileId: 'WAFILE1' },
  );
  await putRecords(
    ctx,
    corpus.map((e) => e.body),
  );
  // Everything written above is entered and sealed, as the worker and sealer would.
  expect((await run('seal', '--rescan')).code).toBe(0);
  keyFile = join(dir, 'seal-public.pem');
  writeFileSync(keyFile, (await run('seal', '--public-key')).out);
});
afterAll(async () => {
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('archiver export', () => {
  let zipFile: string;
  let entries: Map<string, Buffer>;

  it('writes one zip: files, transcript, RSMF, proofs and a manifest, and audits it', async () => {
    zipFile = join(dir, 'chat.zip');
    const res = await run(
      'export',
      '--instance',
      WA,
      '--chat',
      CHAT,
      '--out',
      zipFile,
      '--actor',
      'alice',
    );
    expect(res).toMatchObject({ code: 0 });
    expect(res.err).toMatch(/export: done \d+/);
    entries = await unzip(readFileSync(zipFile));
    const names = [...entries.keys()];
    expect(names.at(-1)).toBe('manifest.json');
    expect(names.some((n) => n.includes('7999@c.us'))).toBe(false);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString()) as {
      files: { path: string; sha256: string; size: number }[];
      objects: { key: string; path: string; proof: string | null }[];
    };
    // Every entry but the manifest is listed with its SHA-256, and every object has a proof.
    expect(manifest.files.map((f) => f.path).sort()).toEqual(names.slice(0, -1).sort());
    for (const f of manifest.files) {
      expect(createHash('sha256').update(entries.get(f.path)!).digest('hex')).toBe(f.sha256);
    }
    expect(manifest.objects.length).toBeGreaterThan(10);
    expect(manifest.objects.every((o) => o.proof && entries.has(o.proof))).toBe(true);
    const img = manifest.objects.find((o) => o.key.endsWith('photo.jpg'))!;
    expect(entries.get(img.path)!.equals(image)).toBe(true);

    const audit = await ctx.deps.s3.send(
      new ListObjectsV2Command({ Bucket: ctx.bucket, Prefix: `${ctx.s3Prefix}_audit/` }),
    );
    const auditKey = audit.Contents?.find((c) => c.Key?.includes('-export-'))?.Key;
    const bytes = await createCustodyStore(ctx.deps.s3, {
      bucket: ctx.bucket,
      prefix: ctx.s3Prefix,
    }).get(auditKey!);
    expect(parseAuditRecord(bytes!)).toMatchObject({
      action: 'export',
      actor: 'alice',
      selection: { idInstance: WA, chatId: CHAT },
      result: { sha256: createHash('sha256').update(entries.get('manifest.json')!).digest('hex') },
    });
  });

  it('the HTML transcript reads offline: edits against the original, deletions, inline images from the zip', () => {
    const html = entries.get(`chats/${CHAT}/transcript.html`)!.toString();
    // The review page's renderer (packages/timeline html.ts): each edit against the text it
    // replaced, the deletion with the text deleted, the original marked, the reaction shown.
    const edit = (was: string, now: string) =>
      new RegExp(
        `<div class="was">Original: <del><bdi>${was}</bdi></del></div>\\s*<div class="now">Edited to: <ins><bdi>${now}</bdi></ins>`,
      );
    expect(html).toMatch(edit('Price is 100', 'Price is 120'));
    expect(html).toMatch(edit('Price is 120', 'Price is 150'));
    expect(html).toMatch(
      /<div class="delete"><span class="label">Deleted<\/span>[^]*?Deleted text: <del><bdi>I never said that<\/bdi><\/del>/,
    );
    expect(html).toMatch(/id="m-WAD0"[^]*?<span class="mark deleted">/);
    expect(html).toContain('Reaction <bdi>👍</bdi>');
    expect(html).toMatch(/<img src="\.\.\/\.\.\/files\/whatsapp\/[^"]+\/photo\.jpg"/);
    expect(html).not.toMatch(/<script|(src|href)="https?:/);
    expect(html).toContain('<meta http-equiv="Content-Security-Policy" content="default-src');
    // Every file link points at an entry of the zip.
    const links = [...html.matchAll(/(?:src|href)="\.\.\/\.\.\/([^"]+)"/g)];
    expect(links.length).toBeGreaterThan(2);
    for (const [, href] of links) {
      expect(entries.has(decodeURIComponent(href!.replaceAll('&amp;', '&')))).toBe(true);
    }
  });

  it('the RSMF file is an EML with rsmf.zip whose manifest validates against the RSMF 2.0 schema', async () => {
    const eml = entries.get(`chats/${CHAT}/conversation.rsmf`)!.toString();
    expect(eml).toMatch(/^From: /);
    expect(eml).toContain('X-RSMF-Version: 2.0.0');
    const [, b64] = /filename="rsmf\.zip"\r\n\r\n([A-Za-z0-9+/=\r\n]+)\r\n--/.exec(eml) ?? [];
    const inner = await unzip(Buffer.from(b64!.replace(/\r\n/g, ''), 'base64'));
    const manifest = JSON.parse(inner.get('rsmf_manifest.json')!.toString()) as {
      events: {
        id: string;
        deleted: boolean;
        edits?: { previous: string; new: string }[];
        attachments?: { id: string; size: number }[];
        reactions?: { value: string }[];
      }[];
    };
    const ajv = new Ajv({ allErrors: true, strict: true });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    expect(validate(manifest), JSON.stringify(validate.errors)).toBe(true);
    const edited = manifest.events.find((e) => e.id === 'WAE0')!;
    expect(edited.edits?.map((e) => e.new)).toEqual(['Price is 120', 'Price is 150']);
    expect(manifest.events.find((e) => e.id === 'WAD0')).toMatchObject({
      deleted: true,
      reactions: [{ value: '👍' }],
    });
    for (const e of manifest.events) {
      for (const a of e.attachments ?? []) expect(inner.get(a.id)?.length).toBe(a.size);
    }
    // A schema that rejects: the validator is really applied.
    expect(validate({ ...manifest, version: '1.0.0' })).toBe(false);
  });

  it('verify --export: OK without the bucket; names a changed file and a foreign key', async () => {
    const ok = await runCli(
      ['verify', '--export', zipFile, '--public-key', keyFile],
      {},
      captureIo(),
    );
    expect(ok).toBe(0);

    const changed = new Map(entries);
    const img = [...changed.keys()].find((k) => k.endsWith('photo.jpg'))!;
    changed.set(img, Buffer.alloc(2048, 1));
    const bad = join(dir, 'changed.zip');
    await rezip(changed, bad);
    const io = captureIo();
    expect(await runCli(['verify', '--export', bad, '--public-key', keyFile], {}, io)).toBe(1);
    expect(io.text.out).toContain(`FILE CHANGED ${img}`);
    expect(io.text.out).toMatch(
      /PROOF INVALID \S+photo\.jpg: the sealed entry does not name these bytes/,
    );

    const other = join(dir, 'other.pem');
    writeFileSync(
      other,
      generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const io2 = captureIo();
    expect(await runCli(['verify', '--export', zipFile, '--public-key', other], {}, io2)).toBe(1);
    expect(io2.text.out).toMatch(/SEAL SIGNATURE .*is not signed by this key/);
  });

  it('the same export twice gives the same bytes, apart from the manifest created time', async () => {
    const deps = {
      s3: ctx.deps.s3,
      bucket: ctx.bucket,
      prefix: ctx.s3Prefix,
      store: createCustodyStore(ctx.deps.s3, { bucket: ctx.bucket, prefix: ctx.s3Prefix }),
    };
    const a = await writeExportAt(deps, '2026-12-02T10:00:00.000Z');
    const b = await writeExportAt(deps, '2026-12-02T10:00:00.000Z');
    expect(a.equals(b)).toBe(true);
    const c = await writeExportAt(deps, '2026-12-03T11:00:00.000Z');
    expect(c.equals(a)).toBe(false);
    const ea = await unzip(a);
    const ec = await unzip(c);
    for (const [name, bytes] of ea) {
      if (name !== 'manifest.json') expect(ec.get(name)?.equals(bytes)).toBe(true);
    }
    expect(
      ea
        .get('manifest.json')!
        .toString()
        .replace('2026-12-02T10:00:00.000Z', '2026-12-03T11:00:00.000Z'),
    ).toBe(ec.get('manifest.json')!.toString());
  });
});

async function writeExportAt(deps: Parameters<typeof writeExport>[0], at: string) {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeExport({ ...deps, now: () => new Date(at) }, { idInstance: WA }, out);
  return Buffer.concat(chunks);
}
