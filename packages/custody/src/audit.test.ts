import { describe, expect, it } from 'vitest';
import {
  AUDIT_FORMAT,
  auditBytes,
  auditDayPrefix,
  auditKey,
  parseAuditRecord,
  type AuditRecord,
} from './audit.js';

const record: AuditRecord = {
  format: AUDIT_FORMAT,
  action: 'export',
  time: '2026-12-02T18:40:05.123Z',
  actor: 'alice',
  selection: { idInstance: '1101000001', chatId: '71234567890@c.us' },
};

describe('audit record', () => {
  it('is keyed by day, time and action, and by its own digest', () => {
    const bytes = auditBytes(record);
    const key = auditKey('archive/', record, bytes);
    expect(key).toMatch(/^archive\/_audit\/2026\/12\/02\/184005123-export-[0-9a-f]{16}\.json$/);
    expect(key.startsWith(auditDayPrefix('archive/', new Date(record.time)))).toBe(true);
    expect(auditKey('archive/', record, auditBytes(record))).toBe(key);
    const other = { ...record, actor: 'bob' };
    expect(auditKey('archive/', other, auditBytes(other))).not.toBe(key);
  });

  it('round-trips its bytes and refuses what is not one', () => {
    expect(parseAuditRecord(auditBytes(record))).toEqual(record);
    expect(() => parseAuditRecord('{"format":"x"}')).toThrow(/audit record/);
    expect(() => parseAuditRecord('not json')).toThrow(/not JSON/);
  });

  it('refuses an actor or reason hiding control or bidi characters, and unknown fields', () => {
    expect(() => auditBytes({ ...record, actor: 'ali\u202ece' })).toThrow();
    expect(() => auditBytes({ ...record, reason: 'line\nbreak' })).toThrow();
    expect(() => auditBytes({ ...record, token: 'x' } as AuditRecord)).toThrow();
  });
});
