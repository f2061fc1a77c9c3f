import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { buildReport, CSV_HEADER, type ReportRow } from '../src/commands/report.js';
import {
  createContext,
  envOf,
  MAX,
  parseCsv,
  putArchived,
  putFailure,
  putText,
  seconds,
  WA,
  type MessageRef,
  putRecorded,
  type TestContext,
} from './helpers.js';

const ANN = '79001234567@c.us';
// Chat ids are kept as they come (only `/`, `\` and control characters are changed in keys):
// this one exercises CSV quoting.
const ODD = 'group, "quoted"@g.us';
const GROUP = '-100200300';

function msg(idInstance: string, chatId: string, idMessage: string, iso: string): MessageRef {
  return {
    idInstance,
    kind: idInstance === MAX ? 'max' : 'whatsapp',
    chatId,
    idMessage,
    timestamp: seconds(iso),
  };
}

describe('archiver report', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = createContext('report');
    // In range [2025-03-01, 2025-03-03], both ends to the second.
    await putArchived(ctx, msg(WA, ANN, 'a1', '2025-03-01T00:00:00Z'), Buffer.alloc(100, 1));
    await putArchived(ctx, msg(WA, ANN, 'a2', '2025-03-03T23:59:59Z'), Buffer.alloc(250, 2));
    await putFailure(
      ctx,
      msg(WA, ANN, 'a3', '2025-03-02T10:00:00Z'),
      'permanent_failure',
      'no_file',
    );
    await putFailure(
      ctx,
      msg(WA, ANN, 'a4', '2025-03-02T11:00:00Z'),
      'permanent_failure',
      'no_file',
    );
    await putFailure(
      ctx,
      msg(WA, ANN, 'a5', '2025-03-02T12:00:00Z'),
      'permanent_failure',
      'too_large',
    );
    await putFailure(ctx, msg(WA, ANN, 'a6', '2025-03-02T13:00:00Z'), 'expired', 'deadline_passed');
    await putArchived(ctx, msg(WA, ODD, 'b1', '2025-03-02T00:00:00Z'), Buffer.alloc(7, 3));
    await putArchived(ctx, msg(MAX, GROUP, 'c1', '2025-03-02T05:00:00Z'), Buffer.alloc(1000, 4));
    await putFailure(
      ctx,
      msg(MAX, GROUP, 'c2', '2025-03-03T05:00:00Z'),
      'permanent_failure',
      'bad_request',
    );
    await putRecorded(ctx, msg(WA, ANN, 't1', '2025-03-01T09:00:00Z'), 'textMessage');
    await putRecorded(ctx, msg(WA, ANN, 't2', '2025-03-01T09:01:00Z'), 'editedMessage');
    await putRecorded(ctx, msg(WA, ANN, 't3', '2025-03-01T09:02:00Z'), 'textMessage');
    await putRecorded(ctx, msg(MAX, GROUP, 't4', '2025-03-02T09:00:00Z'), 'deletedMessage');
    // Out of range by one second at each end.
    await putArchived(ctx, msg(WA, ANN, 'x1', '2025-02-28T23:59:59Z'), Buffer.alloc(5000, 5));
    await putArchived(ctx, msg(MAX, GROUP, 'x2', '2025-03-04T00:00:00Z'), Buffer.alloc(5000, 6));
    await putFailure(
      ctx,
      msg(WA, ANN, 'x3', '2025-03-04T00:00:00Z'),
      'permanent_failure',
      'no_file',
    );
  });

  afterAll(async () => {
    await ctx.close();
  });

  const EXPECTED_TOTAL = {
    messages: 9 + 4,
    archivedFiles: 4,
    archivedBytes: 100 + 250 + 7 + 1000,
    permanentFailures: 4,
    failureReasons: { no_file: 2, too_large: 1, bad_request: 1 },
    expired: 1,
  };

  it('counts files, bytes, failure reasons and expiries per instance and chat, both ends inclusive', async () => {
    const { rows, unreadable } = await buildReport(ctx.deps, {
      since: '2025-03-01',
      until: '2025-03-03',
    });
    expect(unreadable).toEqual([]);
    const row = (scope: ReportRow['scope'], idInstance: string, chatId: string) =>
      rows.find((r) => r.scope === scope && r.idInstance === idInstance && r.chatId === chatId);
    expect(rows.map((r) => [r.scope, r.idInstance, r.chatId])).toEqual([
      ['chat', WA, ANN],
      ['chat', WA, ODD],
      ['instance', WA, ''],
      ['chat', MAX, GROUP],
      ['instance', MAX, ''],
      ['total', '', ''],
    ]);
    expect(row('chat', WA, ANN)).toMatchObject({
      kind: 'whatsapp',
      messages: 6 + 3,
      // Each record by its typeMessage: the files' records are documentMessage.
      messageTypes: { documentMessage: 6, textMessage: 2, editedMessage: 1 },
      archivedFiles: 2,
      archivedBytes: 350,
      permanentFailures: 3,
      failureReasons: { no_file: 2, too_large: 1 },
      expired: 1,
    });
    expect(row('chat', WA, ODD)).toMatchObject({
      archivedFiles: 1,
      archivedBytes: 7,
      permanentFailures: 0,
      expired: 0,
    });
    expect(row('instance', WA, '')).toMatchObject({
      archivedFiles: 3,
      archivedBytes: 357,
      permanentFailures: 3,
      expired: 1,
    });
    expect(row('chat', MAX, GROUP)).toMatchObject({
      kind: 'max',
      messageTypes: { documentMessage: 2, deletedMessage: 1 },
      archivedFiles: 1,
      archivedBytes: 1000,
      permanentFailures: 1,
      failureReasons: { bad_request: 1 },
    });
    expect(row('total', '', '')).toMatchObject(EXPECTED_TOTAL);
  });

  it('writes CSV that parses back to the same numbers', async () => {
    const code = await runCli(
      ['report', '--since', '2025-03-01', '--until', '2025-03-03'],
      envOf(ctx),
      ctx.io,
      ctx.factory,
    );
    expect(code).toBe(0);
    const [header, ...lines] = parseCsv(ctx.io.text.out);
    expect(header).toEqual([...CSV_HEADER]);
    const records = lines.map((fields) =>
      Object.fromEntries(CSV_HEADER.map((h, i) => [h, fields[i]])),
    );
    expect(records).toHaveLength(6);
    expect(records.find((r) => r.chatId === ODD)).toMatchObject({
      scope: 'chat',
      idInstance: WA,
      archivedFiles: '1',
      archivedBytes: '7',
    });
    expect(records.find((r) => r.scope === 'chat' && r.chatId === ANN)).toMatchObject({
      failureReasons: 'no_file=2;too_large=1',
      expired: '1',
    });
    expect(records.at(-1)).toMatchObject({
      scope: 'total',
      archivedFiles: '4',
      archivedBytes: '1357',
      permanentFailures: '4',
      failureReasons: 'bad_request=1;no_file=2;too_large=1',
      expired: '1',
    });
  });

  it('writes JSON as an array of rows, narrowed to one instance', async () => {
    const io = ctx.resetIo();
    const code = await runCli(
      [
        'report',
        '--since',
        '2025-03-02',
        '--until',
        '2025-03-04',
        '--format',
        'json',
        '--instance',
        MAX,
      ],
      envOf(ctx),
      io,
      ctx.factory,
    );
    expect(code).toBe(0);
    const rows = JSON.parse(io.text.out) as ReportRow[];
    expect(Array.isArray(rows)).toBe(true);
    expect(rows.map((r) => r.scope)).toEqual(['chat', 'instance', 'total']);
    expect(rows.at(-1)).toMatchObject({
      archivedFiles: 2,
      archivedBytes: 6000,
      permanentFailures: 1,
      failureReasons: { bad_request: 1 },
    });
  });

  it('a single day is a range; a day without messages is an empty report', async () => {
    const day = await buildReport(ctx.deps, { since: '2025-02-28', until: '2025-02-28' });
    expect(day.rows.at(-1)).toMatchObject({ archivedFiles: 1, archivedBytes: 5000 });
    const empty = await buildReport(ctx.deps, { since: '2024-01-01', until: '2024-01-31' });
    expect(empty.rows).toEqual([
      expect.objectContaining({ scope: 'total', archivedFiles: 0, permanentFailures: 0 }),
    ]);
  });

  it('says so (exit 1) when a sidecar cannot be read', async () => {
    const other = createContext('report-bad');
    try {
      await putArchived(other, msg(WA, ANN, 'ok', '2025-03-01T10:00:00Z'), Buffer.alloc(10));
      await putText(
        other,
        `${other.s3Prefix}whatsapp/${WA}/${ANN}/2025/03/01/broken/message.json`,
        'not json',
      );
      expect(
        await runCli(
          ['report', '--since', '2025-03-01', '--until', '2025-03-01'],
          envOf(other),
          other.io,
          other.factory,
        ),
      ).toBe(1);
      expect(other.io.text.err).toContain('broken/message.json: not valid JSON');
      expect(parseCsv(other.io.text.out).at(-1)?.[4]).toBe('1');
    } finally {
      await other.close();
    }
  });
});
