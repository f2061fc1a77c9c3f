import { describe, expect, it } from 'vitest';
import {
  createHoldCache,
  HOLD_FORMAT,
  holdBytes,
  holdCovers,
  holdKey,
  holdPrefixes,
  holdRecordSchema,
  type ActiveHold,
} from './legal-hold.js';
import { objectKeys, eventKey } from './object-keys.js';

const chat = { idInstance: '1101000001', chatId: '71234567890@c.us' };
const ts = Date.parse('2026-11-03T10:00:00Z') / 1000;

function hold(selection: { idInstance: string; chatId?: string }): ActiveHold {
  return {
    key: 'p/_holds/x.json',
    record: {
      format: HOLD_FORMAT,
      action: 'set',
      time: '2026-12-02T18:40:05.123Z',
      actor: 'alice',
      reason: 'matter 114',
      selection,
    },
    prefixes: holdPrefixes('p/', selection),
  };
}

describe('holdPrefixes / holdCovers', () => {
  it('a chat hold covers that chat’s files, records and events, of either kind, and no other chat', () => {
    const h = hold(chat);
    const mine = objectKeys({
      prefix: 'p/',
      kind: 'whatsapp',
      ...chat,
      idMessage: 'M1',
      timestamp: ts,
    });
    const maxMine = objectKeys({
      prefix: 'p/',
      kind: 'max',
      ...chat,
      idMessage: 'M1',
      timestamp: ts,
    });
    const event = eventKey({
      prefix: 'p/',
      kind: 'whatsapp',
      ...chat,
      timestamp: ts,
      typeWebhook: 'incomingCall',
      digest: 'ab'.repeat(32),
    });
    for (const key of [mine.fileKey, mine.sidecarKey, maxMine.sidecarKey, event]) {
      expect(holdCovers(h, key), key).toBe(true);
    }
    const other = objectKeys({
      prefix: 'p/',
      kind: 'whatsapp',
      idInstance: chat.idInstance,
      chatId: '71234567890@c.usX',
      idMessage: 'M1',
      timestamp: ts,
    });
    expect(holdCovers(h, other.sidecarKey)).toBe(false);
    expect(holdCovers(h, `p/whatsapp/11010000010/${chat.chatId}/x`)).toBe(false);
  });

  it('an instance hold covers all its chats and its instance events, not a longer id', () => {
    const h = hold({ idInstance: chat.idInstance });
    expect(holdCovers(h, `p/max/${chat.idInstance}/_instance/2026/11/03/x.json`)).toBe(true);
    expect(holdCovers(h, `p/whatsapp/${chat.idInstance}/a@c.us/2026/11/03/M/message.json`)).toBe(
      true,
    );
    expect(holdCovers(h, `p/whatsapp/${chat.idInstance}9/a@c.us/x`)).toBe(false);
    expect(holdCovers(h, `p/_audit/2026/11/03/x.json`)).toBe(false);
  });
});

describe('hold records', () => {
  it('a set names no clears, a clear must; the key sorts by time', () => {
    const set = hold(chat).record;
    expect(holdRecordSchema.safeParse(set).success).toBe(true);
    expect(holdRecordSchema.safeParse({ ...set, action: 'clear' }).success).toBe(false);
    expect(holdRecordSchema.safeParse({ ...set, clears: ['k'] }).success).toBe(false);
    expect(holdRecordSchema.safeParse({ ...set, reason: 'a\u202eb' }).success).toBe(false);
    expect(holdRecordSchema.safeParse({ ...set, extra: 1 }).success).toBe(false);
    expect(holdKey('p/', set, holdBytes(set))).toMatch(
      /^p\/_holds\/20261202T184005123Z-set-[0-9a-f]{16}\.json$/,
    );
  });
});

describe('createHoldCache', () => {
  it('reads the registry once per ttl, one read shared by the writes waiting on it', async () => {
    let t = 0;
    let loads = 0;
    let holds: ActiveHold[] = [];
    const cache = createHoldCache({
      load: async () => {
        loads += 1;
        return holds;
      },
      ttlMs: 1000,
      now: () => t,
    });
    const key = `p/whatsapp/${chat.idInstance}/${chat.chatId}/2026/11/03/M/message.json`;
    expect(await Promise.all([cache.covers(key), cache.covers(key)])).toEqual([false, false]);
    expect(loads).toBe(1);
    holds = [hold(chat)];
    t = 999;
    expect(await cache.covers(key)).toBe(false);
    t = 1000;
    expect(await cache.covers(key)).toBe(true);
    expect(loads).toBe(2);
  });

  it('a failed read fails the write that asked, and the next one reads again', async () => {
    let fail = true;
    const cache = createHoldCache({
      load: async () => {
        if (fail) throw new Error('S3 down');
        return [];
      },
      ttlMs: 60_000,
    });
    await expect(cache.covers('k')).rejects.toThrow('S3 down');
    fail = false;
    expect(await cache.covers('k')).toBe(false);
  });
});
