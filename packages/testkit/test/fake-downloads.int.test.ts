import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGreenApi, type FakeGreenApi } from '../src/index.js';

const WA = {
  idInstance: '1101000001',
  apiTokenInstance: 'wa-secret-token',
  kind: 'whatsapp',
} as const;
const MAX = {
  idInstance: '3100000000',
  apiTokenInstance: 'max-secret-token',
  kind: 'max',
} as const;
const CHAT = '71234567890@c.us';

let fake: FakeGreenApi;
let clock: number;

beforeEach(async () => {
  clock = 1_700_000_000_000;
  fake = await startFakeGreenApi({ now: () => clock });
  fake.addInstance(WA);
  fake.addInstance(MAX);
});
afterEach(() => fake.close());

function downloadFile(
  body: unknown,
  inst: { idInstance: string; apiTokenInstance: string } = WA,
  prefix = '',
) {
  return fetch(
    `${fake.url}${prefix}/waInstance${inst.idInstance}/downloadFile/${inst.apiTokenInstance}`,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    },
  );
}

const sha256 = (buf: ArrayBuffer) => createHash('sha256').update(Buffer.from(buf)).digest('hex');

describe('downloadFile', () => {
  it('hands out a link that streams the file with length and type', async () => {
    const bytes = Buffer.from('%PDF-1.4 tiny');
    const added = fake.addFile({
      idInstance: WA.idInstance,
      chatId: CHAT,
      idMessage: 'M1',
      bytes,
      fileName: 'a b.pdf',
      mimeType: 'application/pdf',
    });
    const res = await downloadFile({ chatId: CHAT, idMessage: 'M1' });
    expect(res.status).toBe(200);
    const { downloadUrl } = (await res.json()) as { downloadUrl: string };
    expect(downloadUrl).toBe(added.downloadUrl);
    expect(downloadUrl).toMatch(/\/files\/[0-9a-f]+\/a%20b\.pdf$/);
    const file = await fetch(downloadUrl);
    expect(file.headers.get('content-type')).toBe('application/pdf');
    expect(file.headers.get('content-length')).toBe(String(bytes.length));
    expect(Buffer.from(await file.arrayBuffer())).toEqual(bytes);
  });

  it('generates big deterministic content whose sha256 matches', async () => {
    const ref = { idInstance: WA.idInstance, chatId: CHAT, idMessage: 'BIG' };
    const added = fake.addFile({ ...ref, size: 20 * 1024 * 1024 + 7 });
    const body = await (await fetch(added.downloadUrl)).arrayBuffer();
    expect(body.byteLength).toBe(added.size);
    expect(sha256(body)).toBe(added.sha256);
    const other = await startFakeGreenApi();
    other.addInstance(WA);
    expect(other.addFile({ ...ref, size: added.size }).sha256).toBe(added.sha256);
    await other.close();
  });

  it('answers the documented errors', async () => {
    expect(await (await downloadFile({ chatId: CHAT })).text()).toBe(
      "Validation failed. Details: 'value' must have at least 2 keys",
    );
    const missing = await downloadFile({ chatId: CHAT, idMessage: 'NOPE' });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toBe(
      `File message encrypted url not found by chatId ${CHAT} and idMessage NOPE`,
    );
    expect(
      (await downloadFile({ chatId: CHAT, idMessage: 'x' }, { ...WA, apiTokenInstance: 'wrong' }))
        .status,
    ).toBe(401);
    expect(
      (await downloadFile({ chatId: CHAT, idMessage: 'x' }, { ...WA, idInstance: '42' })).status,
    ).toBe(403);
    const get = await fetch(
      `${fake.url}/waInstance${WA.idInstance}/downloadFile/${WA.apiTokenInstance}`,
    );
    expect(get.status).toBe(404);
    expect((await downloadFile({ chatId: CHAT, idMessage: 'x' }, WA, '/v3')).status).toBe(404);
  });

  it('serves MAX with and without /v3 and answers its 400 as a JSON string', async () => {
    fake.addFile({
      idInstance: MAX.idInstance,
      chatId: '10000000',
      idMessage: '115206687571465794',
    });
    expect(
      (await downloadFile({ chatId: '10000000', idMessage: '115206687571465794' }, MAX, '/v3'))
        .status,
    ).toBe(200);
    clock += 1000; // MAX allows one downloadFile per second
    expect(
      (await downloadFile({ chatId: '10000000', idMessage: '115206687571465794' }, MAX)).status,
    ).toBe(200);
    clock += 1000;
    const missing = await downloadFile({ chatId: '10000000', idMessage: '1' }, MAX);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toBe(
      'File message encrypted url not found by chatId 10000000 and idMessage 1',
    );
  });

  it('reports a removed file as 500 and its link as 404', async () => {
    const ref = { idInstance: WA.idInstance, chatId: CHAT, idMessage: 'GONE' };
    const { downloadUrl } = fake.addFile(ref);
    fake.removeFile(ref);
    const res = await downloadFile({ chatId: CHAT, idMessage: 'GONE' });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe(
      `Internal error when downloading file by chatId ${CHAT} and idMessage GONE`,
    );
    expect((await fetch(downloadUrl)).status).toBe(404);
  });

  it('refuses unauthorized and starting instances with the documented texts', async () => {
    fake.addFile({ idInstance: WA.idInstance, chatId: CHAT, idMessage: 'S' });
    fake.setInstanceState(WA.idInstance, 'notAuthorized');
    expect(await (await downloadFile({ chatId: CHAT, idMessage: 'S' })).text()).toBe(
      'instance account not authorized',
    );
    fake.setInstanceState(WA.idInstance, 'starting');
    expect(await (await downloadFile({ chatId: CHAT, idMessage: 'S' })).text()).toBe(
      'instance in starting process try later',
    );
    const state = await fetch(
      `${fake.url}/waInstance${WA.idInstance}/getStateInstance/${WA.apiTokenInstance}`,
    );
    expect(await state.json()).toEqual({ stateInstance: 'starting' });
  });
});

describe('rate limit', () => {
  beforeEach(() => {
    fake.addFile({ idInstance: WA.idInstance, chatId: CHAT, idMessage: 'R' });
  });
  const burst = async (n: number) =>
    (
      await Promise.all(
        Array.from({ length: n }, () => downloadFile({ chatId: CHAT, idMessage: 'R' })),
      )
    ).map((r) => r.status);

  it('admits rps requests per sliding second per instance and answers 429 to the rest', async () => {
    const statuses = await burst(8);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
    expect(fake.count('downloadFile', { idInstance: WA.idInstance, status: 429 })).toBe(3);
    clock += 999;
    expect(await burst(1)).toEqual([429]);
    clock += 1;
    expect(await burst(6)).toEqual(expect.arrayContaining([200, 200, 200, 200, 200, 429]));
  });

  it('is per instance, changes live with throttleInstance, and can add Retry-After', async () => {
    fake.throttleInstance(WA.idInstance, 0);
    const limited = await downloadFile({ chatId: CHAT, idMessage: 'R' });
    expect(limited.status).toBe(429);
    expect(await limited.text()).toBe('Too Many Requests');
    expect(limited.headers.get('retry-after')).toBeNull();
    fake.addFile({ idInstance: MAX.idInstance, chatId: '1', idMessage: 'R' });
    expect((await downloadFile({ chatId: '1', idMessage: 'R' }, MAX)).status).toBe(200);

    const withHeader = await startFakeGreenApi({ retryAfter: true });
    withHeader.addInstance({ ...WA, rps: 0 });
    const res = await fetch(
      `${withHeader.url}/waInstance${WA.idInstance}/downloadFile/${WA.apiTokenInstance}`,
      { method: 'POST', body: '{}' },
    );
    expect(res.headers.get('retry-after')).toBe('1');
    await withHeader.close();
  });
});

describe('fault injection', () => {
  const ref = { idInstance: WA.idInstance, chatId: CHAT, idMessage: 'F' };

  it('plays scripted downloadFile steps in order, then behaves normally', async () => {
    fake.throttleInstance(WA.idInstance, 100);
    fake.addFile(ref);
    fake.scriptDownloadFile('F', [
      { status: 502 },
      { status: 500, body: 'boom' },
      { delayMs: 30 },
      'ok',
    ]);
    const first = await downloadFile({ chatId: CHAT, idMessage: 'F' });
    expect([first.status, await first.text()]).toEqual([502, 'Bad Gateway']);
    expect(await (await downloadFile({ chatId: CHAT, idMessage: 'F' })).text()).toBe('boom');
    expect((await downloadFile({ chatId: CHAT, idMessage: 'F' })).status).toBe(200);
    expect((await downloadFile({ chatId: CHAT, idMessage: 'F' })).status).toBe(200);
    fake.scriptDownloadFile('F', [{ truncateAfter: 5 }]);
    await expect((await downloadFile({ chatId: CHAT, idMessage: 'F' })).json()).rejects.toThrow();
  });

  it('truncates and stalls file downloads, then serves them whole', async () => {
    const added = fake.addFile({ ...ref, size: 256 * 1024 });
    fake.scriptFile('F', [{ truncateAfter: 1000 }, { stallAfter: 10 }, { status: 503 }]);
    const truncated = await fetch(added.downloadUrl);
    expect(truncated.headers.get('content-length')).toBe(String(added.size));
    await expect(truncated.arrayBuffer()).rejects.toThrow('terminated');
    // Headers and 10 bytes arrive, then nothing: only the client's own timeout ends it.
    const stalled = fetch(added.downloadUrl, { signal: AbortSignal.timeout(500) });
    await expect(stalled.then((r) => r.arrayBuffer())).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect((await fetch(added.downloadUrl)).status).toBe(503);
    expect(sha256(await (await fetch(added.downloadUrl)).arrayBuffer())).toBe(added.sha256);
    expect(fake.count('file', { idInstance: WA.idInstance })).toBe(4);
  });

  it('fails a seeded share of unscripted calls, identically for the same seed', async () => {
    fake.throttleInstance(WA.idInstance, 1000);
    fake.addFile(ref);
    const run = async () => {
      fake.setFailureRate(0.4, { seed: 7 });
      const out: number[] = [];
      for (let i = 0; i < 30; i++) {
        out.push((await downloadFile({ chatId: CHAT, idMessage: 'F' })).status);
      }
      return out;
    };
    const first = await run();
    expect(first.filter((s) => s === 500).length).toBeGreaterThan(3);
    expect(first.filter((s) => s === 200).length).toBeGreaterThan(3);
    expect(await run()).toEqual(first);
  });

  it('logs method, instance and status but never the token', async () => {
    fake.addFile(ref);
    await downloadFile({ chatId: CHAT, idMessage: 'F' });
    await downloadFile(
      { chatId: CHAT, idMessage: 'F' },
      { ...WA, apiTokenInstance: 'wrong-token' },
    );
    expect(fake.calls).toEqual([
      { at: clock, idInstance: WA.idInstance, method: 'downloadFile', status: 200 },
      { at: clock, idInstance: WA.idInstance, method: 'downloadFile', status: 401 },
    ]);
    expect(JSON.stringify(fake.calls)).not.toContain('token');
  });
});
