import { describe, expect, it } from 'vitest';
import { formatReasons, reportCsv, withTotals, type ReportRow } from './report.js';

function chat(idInstance: string, chatId: string, over: Partial<ReportRow> = {}): ReportRow {
  return {
    scope: 'chat',
    idInstance,
    kind: 'whatsapp',
    chatId,
    messages: 0,
    messageTypes: {},
    archivedFiles: 0,
    archivedBytes: 0,
    permanentFailures: 0,
    failureReasons: {},
    expired: 0,
    ...over,
  };
}

describe('report rows', () => {
  it('sorts chats, adds a subtotal per instance and a grand total', () => {
    const rows = withTotals([
      chat('20', 'b', {
        archivedFiles: 1,
        archivedBytes: 10,
        messages: 3,
        messageTypes: { imageMessage: 1, textMessage: 2 },
      }),
      chat('3', 'z', { permanentFailures: 2, failureReasons: { no_file: 2 } }),
      chat('20', 'a', {
        messages: 4,
        messageTypes: { textMessage: 1, editedMessage: 1, documentMessage: 2 },
        archivedFiles: 2,
        archivedBytes: 5,
        permanentFailures: 1,
        failureReasons: { no_file: 1 },
        expired: 1,
      }),
    ]);
    expect(rows.map((r) => `${r.scope}:${r.idInstance}:${r.chatId}`)).toEqual([
      'chat:3:z',
      'instance:3:',
      'chat:20:a',
      'chat:20:b',
      'instance:20:',
      'total::',
    ]);
    expect(rows[4]).toMatchObject({
      messages: 7,
      messageTypes: { textMessage: 3, editedMessage: 1, imageMessage: 1, documentMessage: 2 },
      archivedFiles: 3,
      archivedBytes: 15,
      permanentFailures: 1,
      expired: 1,
    });
    expect(rows[5]).toMatchObject({
      archivedFiles: 3,
      archivedBytes: 15,
      permanentFailures: 3,
      failureReasons: { no_file: 3 },
      expired: 1,
    });
  });

  it('an empty report is just the total', () => {
    expect(withTotals([])).toEqual([expect.objectContaining({ scope: 'total', archivedFiles: 0 })]);
  });

  it('CSV has a header and escapes fields', () => {
    const csv = reportCsv([
      chat('1', 'a,"b"', {
        failureReasons: { too_large: 1, no_file: 2 },
        permanentFailures: 3,
        messages: 4,
        messageTypes: { textMessage: 1, documentMessage: 3 },
      }),
    ]);
    expect(csv.split('\r\n')).toEqual([
      'scope,idInstance,kind,chatId,messages,messageTypes,archivedFiles,archivedBytes,permanentFailures,failureReasons,expired',
      'chat,1,whatsapp,"a,""b""",4,documentMessage=3;textMessage=1,0,0,3,no_file=2;too_large=1,0',
      '',
    ]);
    expect(formatReasons({})).toBe('');
  });
});
