import { describe, expect, it } from 'vitest';
import { chatDayFolder, eventKey, messageFolder, objectKeys, safeSegment } from './object-keys.js';

const base = {
  prefix: 'archive/',
  kind: 'whatsapp' as const,
  idInstance: '1101000001',
  chatId: '71234567890@c.us',
  idMessage: 'ABC',
  timestamp: 1705473041,
};

describe('objectKeys', () => {
  it('follows the documented layout with the UTC date of the message', () => {
    expect(objectKeys({ ...base, fileName: 'sample-6s.mp3' })).toEqual({
      fileKey: 'archive/whatsapp/1101000001/71234567890@c.us/2024/01/17/ABC/sample-6s.mp3',
      sidecarKey: 'archive/whatsapp/1101000001/71234567890@c.us/2024/01/17/ABC/message.json',
    });
  });

  it('names a file without fileName after the message and its type', () => {
    expect(objectKeys({ ...base, mimeType: 'image/jpeg' }).fileKey).toMatch(/\/ABC\/ABC\.jpg$/);
    expect(objectKeys({ ...base, fileName: '' }).fileKey).toMatch(/\/ABC\/ABC\.bin$/);
  });

  it('never lets a file take the sidecar name', () => {
    const keys = objectKeys({ ...base, fileName: 'message.json' });
    expect(keys.fileKey).not.toBe(keys.sidecarKey);
    expect(keys.fileKey).toMatch(/\/ABC\/message~[0-9a-f]{10}\.json$/);
  });
});

describe('safeSegment', () => {
  it.each([
    ['../../etc/passwd'],
    ['..'],
    ['.'],
    ['a/b\\c'],
    ['evil\u202Egpj.exe'],
    ['tab\there\u0000nul'],
    ['\u2066isolate\u2069'],
  ])('makes %j key-safe', (name) => {
    const safe = safeSegment(name);
    // eslint-disable-next-line no-control-regex -- control characters are what is tested
    expect(safe).not.toMatch(/[/\\\u0000-\u001f\u202a-\u202e\u2066-\u2069]/);
    expect(['.', '..', '']).not.toContain(safe);
  });

  it('keeps ordinary Unicode names as they are', () => {
    expect(safeSegment('Договор №5 — финал.pdf')).toBe('Договор №5 — финал.pdf');
    expect(safeSegment('-10000000000000')).toBe('-10000000000000');
  });

  it('cuts long names to 200 bytes on a character boundary, keeps the extension, never collides', () => {
    const a = `${'я'.repeat(150)}a.pdf`;
    const b = `${'я'.repeat(150)}b.pdf`;
    const sa = safeSegment(a);
    const sb = safeSegment(b);
    expect(Buffer.byteLength(sa)).toBeLessThanOrEqual(200);
    expect(sa.endsWith('.pdf')).toBe(true);
    expect(sa).not.toBe(sb);
    expect(sa).not.toContain('\uFFFD');
  });

  it('distinguishes names that differ only in replaced characters', () => {
    expect(safeSegment('a/b')).not.toBe(safeSegment('a\\b'));
    expect(safeSegment('a/b')).not.toBe('a_b');
  });
});

describe('eventKey', () => {
  const event = {
    prefix: 'archive/',
    kind: 'whatsapp' as const,
    idInstance: '1101000001',
    timestamp: 1705473041,
    typeWebhook: 'outgoingMessageStatus',
    digest: '0123456789abcdef0123456789abcdef',
  };

  it('puts a chat event in the chat day folder, time first', () => {
    expect(eventKey({ ...event, chatId: '71234567890@c.us' })).toBe(
      'archive/whatsapp/1101000001/71234567890@c.us/2024/01/17/_events/063041-outgoingMessageStatus-0123456789abcdef.json',
    );
  });

  it('puts an event that names no chat under the instance', () => {
    expect(eventKey({ ...event, chatId: undefined, typeWebhook: 'stateInstanceChanged' })).toBe(
      'archive/whatsapp/1101000001/_instance/2024/01/17/063041-stateInstanceChanged-0123456789abcdef.json',
    );
  });

  it('never lets a chat or message id take one of the archiver own names', () => {
    const chat = chatDayFolder({ ...base, chatId: '_instance' });
    expect(chat).toMatch(/\/1101000001\/_instance~[0-9a-f]{10}\/2024\//);
    const folder = messageFolder({ ...base, idMessage: '_events' });
    expect(folder).toMatch(/\/17\/_events~[0-9a-f]{10}\/$/);
    // Ids not starting with `_` keep their name.
    expect(messageFolder(base)).toMatch(/\/17\/ABC\/$/);
  });
});
