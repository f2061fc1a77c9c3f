import { describe, expect, it } from 'vitest';
import { csvField, csvLine } from './csv.js';

describe('csv', () => {
  it('leaves plain fields alone', () => {
    expect(csvField('79001234567@c.us')).toBe('79001234567@c.us');
    expect(csvField(42)).toBe('42');
    expect(csvField(undefined)).toBe('');
    expect(csvField(null)).toBe('');
  });

  it('quotes commas, quotes, line breaks and edge spaces; doubles quotes', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField('no_file=2;too_large=1')).toBe('no_file=2;too_large=1');
  });

  it('joins a line with CRLF', () => {
    expect(csvLine(['a', 1, 'b,c', undefined])).toBe('a,1,"b,c",\r\n');
  });
});
