// Property tests of the S3 key builder (docs/storage.md §1): whatever Unicode a webhook
// carries in chatId, idMessage or fileName, the keys stay under the prefix, every segment is a
// safe, bounded path segment, and two different messages or names never share a key.
// FUZZ_RUNS raises the number of generated cases (default 1000 here: these are pure and fast).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { objectKeys, safeSegment, type KeyParts } from '../../packages/core/src/index.js';
import { ID_INSTANCE_PATTERN } from '../../packages/greenapi/src/index.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const MAX_SEGMENT_BYTES = 200;
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\\]/;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

// Names as they come: any code point, long ones, path tricks, bidi overrides and controls.
const tricky = fc.constantFrom(
  '',
  '.',
  '..',
  '/',
  '\\',
  '../..',
  'a/b',
  'message.json',
  '\u202e',
  '\u0000',
  ' ',
  '~',
);
const anyText = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 150, maxLength: 400 }) },
  { weight: 1, arbitrary: tricky },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 5 })), { maxLength: 8 })
      .map((a) => a.join('')),
  },
);

const parts = fc.record({
  prefix: fc.constantFrom('', 'archive/', 'tenant-1/archiver/'),
  kind: fc.constantFrom('whatsapp' as const, 'max' as const),
  idInstance: fc.stringMatching(ID_INSTANCE_PATTERN),
  chatId: anyText,
  idMessage: anyText,
  timestamp: fc.integer({ min: 0, max: 4_102_444_800 }),
  fileName: fc.option(anyText, { nil: undefined }),
  mimeType: fc.option(
    fc.constantFrom('image/jpeg', 'application/pdf', 'video/mp4', 'x/unknown', ''),
    { nil: undefined },
  ),
});

function segmentsAfterPrefix(key: string, prefix: string): string[] {
  expect(key.startsWith(prefix)).toBe(true);
  return key.slice(prefix.length).split('/');
}

function checkSegment(segment: string) {
  expect(segment).not.toBe('');
  expect(segment).not.toBe('.');
  expect(segment).not.toBe('..');
  expect(utf8(segment)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
  expect(FORBIDDEN.test(segment)).toBe(false);
}

describe('objectKeys / safeSegment properties', () => {
  it('keys stay under the prefix, in 8 safe segments of at most 200 UTF-8 bytes', () => {
    fc.assert(
      fc.property(parts, (p: KeyParts) => {
        const { fileKey, sidecarKey } = objectKeys(p);
        const file = segmentsAfterPrefix(fileKey, p.prefix);
        const sidecar = segmentsAfterPrefix(sidecarKey, p.prefix);
        // kind / idInstance / chatId / YYYY / MM / DD / idMessage / name: a '/' inside a
        // segment would show up as a ninth one.
        expect(file).toHaveLength(8);
        expect(sidecar).toHaveLength(8);
        expect(sidecar[7]).toBe('message.json');
        expect(file[7]).not.toBe('message.json');
        expect(file.slice(0, 7)).toEqual(sidecar.slice(0, 7));
        file.forEach(checkSegment);
        expect(utf8(fileKey)).toBeLessThanOrEqual(1024);
      }),
      { numRuns: RUNS },
    );
  });

  it('two different messages never share a folder (compared as the UTF-8 bytes S3 stores)', () => {
    fc.assert(
      fc.property(parts, anyText, anyText, (p, chatId, idMessage) => {
        fc.pre(chatId !== p.chatId || idMessage !== p.idMessage);
        const a = objectKeys(p).sidecarKey;
        const b = objectKeys({ ...p, chatId, idMessage }).sidecarKey;
        expect(Buffer.from(a, 'utf8').equals(Buffer.from(b, 'utf8'))).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('two different file names of one message never share a key, nor the sidecar\u2019s', () => {
    fc.assert(
      fc.property(parts, anyText, anyText, (p, n1, n2) => {
        fc.pre(n1 !== n2 && n1.trim() !== '' && n2.trim() !== '');
        const a = objectKeys({ ...p, fileName: n1 });
        const b = objectKeys({ ...p, fileName: n2 });
        expect(Buffer.from(a.fileKey).equals(Buffer.from(b.fileKey))).toBe(false);
        expect(a.fileKey).not.toBe(a.sidecarKey);
      }),
      { numRuns: RUNS },
    );
  });

  it('safeSegment is stable: the same name always gives the same segment, and safe names are kept', () => {
    fc.assert(
      fc.property(anyText, (name) => {
        expect(safeSegment(name)).toBe(safeSegment(name));
        checkSegment(safeSegment(name));
        if (
          name !== '' &&
          name !== '.' &&
          name !== '..' &&
          !/[/\\]/.test(name) &&
          !FORBIDDEN.test(name) &&
          utf8(name) <= MAX_SEGMENT_BYTES
        ) {
          expect(safeSegment(name)).toBe(name);
        }
      }),
      { numRuns: RUNS },
    );
  });

  // A JSON body may carry lone surrogates ("\ud83d": an emoji cut in half); UTF-8 turns each
  // into U+FFFD, so without care two such names would share a key.
  it('distinct names with lone surrogates map to distinct keys', () => {
    const loneSurrogate = fc
      .integer({ min: 0xd800, max: 0xdfff })
      .map((c) => String.fromCharCode(c));
    const withSurrogate = fc
      .tuple(fc.string({ maxLength: 5 }), loneSurrogate)
      .map(([a, b]) => a + b);
    fc.assert(
      fc.property(parts, withSurrogate, withSurrogate, (p, c1, c2) => {
        fc.pre(c1 !== c2);
        const a = objectKeys({ ...p, chatId: c1 }).sidecarKey;
        const b = objectKeys({ ...p, chatId: c2 }).sidecarKey;
        expect(Buffer.from(a, 'utf8').equals(Buffer.from(b, 'utf8'))).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });
});
