import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddFileOptions, FakeGreenApi, FaultStep, MessageRef } from '@archiver/testkit';

/**
 * The simulator's control API (dev only): what tests do by calling the fake Green-API's
 * methods, over HTTP, so `npm run demo` or curl can drive the simulator inside `dev`.
 *
 *   GET  /_sim                 instances and routes
 *   POST /_sim/files           {idInstance, chatId, idMessage, size | base64, fileName?, mimeType?,
 *                               direction?, typeMessage?, timestamp?, caption?,
 *                               faults?: {downloadFile?: FaultStep[], file?: FaultStep[]}}
 *                              → 201 {downloadUrl, sha256, size, fileName, mimeType}
 *   POST /_sim/files/remove    {idInstance, chatId, idMessage}: the file is gone (downloadFile 500)
 *   GET  /_sim/calls           request counts by method and status
 *
 * A FaultStep is "ok", {status, body?}, {truncateAfter}, {stallAfter} or {delayMs}, consumed
 * one per call (testkit's FaultStep).
 */
export const CONTROL_PATH = '/_sim';

const MAX_BODY_BYTES = 64 * 1024 * 1024;

type Instance = { idInstance: string; kind: string };
type Answer = { status: number; body: unknown };

class BadRequest extends Error {
  override name = 'BadRequest';
}

export function createControlHandler(fake: FakeGreenApi, instances: readonly Instance[]) {
  const known = new Set(instances.map((i) => i.idInstance));

  async function route(req: IncomingMessage): Promise<Answer> {
    const path = new URL(req.url ?? '/', 'http://control').pathname.replace(/\/$/, '');
    const key = `${req.method ?? 'GET'} ${path}`;
    switch (key) {
      case `GET ${CONTROL_PATH}`:
        return { status: 200, body: { simulator: fake.url, instances, routes: ROUTES } };
      case `POST ${CONTROL_PATH}/files`:
        return addFile(await readJson(req));
      case `POST ${CONTROL_PATH}/files/remove`:
        return removeFile(await readJson(req));
      case `GET ${CONTROL_PATH}/calls`:
        return { status: 200, body: { calls: callCounts(fake) } };
      default:
        return { status: 404, body: { error: `no route ${key}`, routes: ROUTES } };
    }
  }

  function addFile(body: Record<string, unknown>): Answer {
    const ref = messageRef(body);
    if (!known.has(ref.idInstance)) {
      return { status: 404, body: { error: `unknown instance ${ref.idInstance}` } };
    }
    const base64 = optionalString(body, 'base64');
    const options: AddFileOptions = {
      ...ref,
      ...(base64 !== undefined
        ? { bytes: Buffer.from(base64, 'base64') }
        : { size: optionalInt(body, 'size') ?? 1024 }),
      fileName: optionalString(body, 'fileName'),
      mimeType: optionalString(body, 'mimeType'),
      caption: optionalString(body, 'caption'),
      timestamp: optionalInt(body, 'timestamp'),
      direction: oneOf(body, 'direction', ['incoming', 'outgoing'] as const),
      typeMessage: oneOf(body, 'typeMessage', [
        'imageMessage',
        'videoMessage',
        'documentMessage',
        'audioMessage',
        'stickerMessage',
      ] as const),
    };
    const faults = body.faults === undefined ? {} : object(body.faults, 'faults');
    const downloadFile =
      faults.downloadFile === undefined
        ? undefined
        : faultSteps(faults.downloadFile, 'faults.downloadFile');
    const file = faults.file === undefined ? undefined : faultSteps(faults.file, 'faults.file');
    const added = fake.addFile(options);
    if (downloadFile) fake.scriptDownloadFile(ref.idMessage, downloadFile);
    if (file) fake.scriptFile(ref.idMessage, file);
    return { status: 201, body: added };
  }

  function removeFile(body: Record<string, unknown>): Answer {
    const ref = messageRef(body);
    try {
      fake.removeFile(ref);
    } catch (err) {
      return { status: 404, body: { error: err instanceof Error ? err.message : String(err) } };
    }
    return { status: 200, body: { ok: true } };
  }

  return function handle(req: IncomingMessage, res: ServerResponse): void {
    route(req).then(
      (answer) => send(res, answer),
      (err: unknown) =>
        err instanceof BadRequest
          ? send(res, { status: 400, body: { error: err.message } })
          : send(res, { status: 500, body: { error: String(err) } }),
    );
  };
}

const ROUTES = [
  `GET ${CONTROL_PATH}`,
  `POST ${CONTROL_PATH}/files`,
  `POST ${CONTROL_PATH}/files/remove`,
  `GET ${CONTROL_PATH}/calls`,
];

function send(res: ServerResponse, answer: Answer): void {
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new BadRequest(`body over ${MAX_BODY_BYTES} bytes: use "size" for big files`);
    }
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequest('body is not JSON');
  }
  return object(value, 'body');
}

/** Requests per method and status, e.g. `{ method: 'downloadFile', status: 500, count: 1 }`. */
function callCounts(fake: FakeGreenApi) {
  const counts = new Map<string, { method: string; status: number; count: number }>();
  for (const call of fake.calls) {
    const key = `${call.method} ${call.status}`;
    const entry = counts.get(key) ?? { method: call.method, status: call.status, count: 0 };
    entry.count += 1;
    counts.set(key, entry);
  }
  return [...counts.values()];
}

function messageRef(body: Record<string, unknown>): MessageRef {
  return {
    idInstance: required(body, 'idInstance'),
    chatId: required(body, 'chatId'),
    idMessage: required(body, 'idMessage'),
  };
}

function object(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequest(`${name}: must be an object`);
  }
  return value as Record<string, unknown>;
}

function required(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') throw new BadRequest(`${name}: required string`);
  return value;
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new BadRequest(`${name}: must be a string`);
  return value;
}

function optionalInt(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new BadRequest(`${name}: must be a whole number ≥ 0`);
  }
  return value as number;
}

function oneOf<T extends string>(
  body: Record<string, unknown>,
  name: string,
  values: readonly T[],
): T | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (!values.includes(value as T)) throw new BadRequest(`${name}: one of ${values.join(', ')}`);
  return value as T;
}

function faultSteps(value: unknown, name: string): FaultStep[] {
  if (!Array.isArray(value)) throw new BadRequest(`${name}: must be an array of steps`);
  return value.map((step: unknown, index) => faultStep(step, `${name}[${index}]`));
}

function faultStep(step: unknown, name: string): FaultStep {
  if (step === 'ok') return 'ok';
  const o = object(step, name);
  if (
    typeof o.status === 'number' &&
    Number.isInteger(o.status) &&
    o.status >= 100 &&
    o.status <= 599
  ) {
    return typeof o.body === 'string' ? { status: o.status, body: o.body } : { status: o.status };
  }
  for (const key of ['truncateAfter', 'stallAfter', 'delayMs'] as const) {
    const n = o[key];
    if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) {
      return { [key]: n } as FaultStep;
    }
  }
  throw new BadRequest(
    `${name}: "ok", {status, body?}, {truncateAfter}, {stallAfter} or {delayMs}`,
  );
}
