import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDACTED, createScrubber } from './scrub.js';

// Neither contains a character of `[redacted]`, so the censor can never spell a secret.
const secretChars = fc.constantFrom(...'0123456789fghijk-_'.split(''));
const noiseChars = fc.constantFrom(...'0123456789fghijk-_ /:"{}=?'.split(''));

describe('createScrubber', () => {
  it('leaves no secret in any text, and changes a text without one not at all', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: secretChars, minLength: 4, maxLength: 40 }), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.array(fc.oneof(fc.nat(), fc.string({ unit: noiseChars, maxLength: 30 })), {
          maxLength: 20,
        }),
        (secrets, pieces) => {
          const text = pieces
            .map((p) => (typeof p === 'number' ? (secrets[p % secrets.length] as string) : p))
            .join('');
          const out = createScrubber(secrets)(text);
          for (const secret of secrets) expect(out).not.toContain(secret);
          if (!secrets.some((s) => text.includes(s))) expect(out).toBe(text);
        },
      ),
    );
  });

  it('finds each of 10,000 tokens as one pass over the line', () => {
    const secrets = Array.from(
      { length: 10_000 },
      (_, k) => `api-${k}-${'0123456789abcdef'.repeat(3)}`,
    );
    const scrub = createScrubber(secrets);
    const line = `{"msg":"GET /waInstance1/downloadFile/${secrets[7]} failed","url":"x/${secrets[9999]}"}`;
    expect(scrub(line)).toBe(
      `{"msg":"GET /waInstance1/downloadFile/${REDACTED} failed","url":"x/${REDACTED}"}`,
    );
    expect(scrub('{"msg":"archived","idInstance":"1101000001"}')).toBe(
      '{"msg":"archived","idInstance":"1101000001"}',
    );
  });

  // A few secrets are split natively, many go through the one pass: both ways alike.
  it.each([0, 20])(
    'takes the longest secret where two start at the same place (%i others)',
    (others) => {
      const more = Array.from({ length: others }, (_, k) => `other-secret-${k}`);
      const scrub = createScrubber(['abcd', 'abcd1234', '', ...more]);
      expect(scrub('xabcd1234y abcdz')).toBe(`x${REDACTED}y ${REDACTED}z`);
      expect(scrub('abc')).toBe('abc');
      expect(scrub('abcd')).toBe(REDACTED);
      expect(createScrubber([])('abcd')).toBe('abcd');
    },
  );
});
