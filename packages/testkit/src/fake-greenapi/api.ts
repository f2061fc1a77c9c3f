import { applyLeadingStep, cutOf, type FaultScripts, type FileStore } from './files.js';
import { readJson, streamBody, type Reply } from './http-util.js';
import { handleChatHistory, handleLastMessages, type Journal } from './journal.js';
import { handleDelete, handleReceive, type NotificationQueues } from './notifications.js';
import type { RateLimiter } from './rate-limit.js';
import {
  effectiveState,
  handleGetSettings,
  handleSetSettings,
  type SettingsState,
  type SettingsTiming,
} from './settings.js';
import { handleStatuses, type Statuses } from './statuses.js';
import type { InstanceKind, InstanceState } from './types.js';

export type Instance = {
  idInstance: string;
  apiTokenInstance: string;
  kind: InstanceKind;
  rps: number;
  /** Its settings and reboot; `settings.baseState` is the state outside a reboot. */
  settings: SettingsState;
  wid: string;
};

export type ApiDeps = {
  instances: Map<string, Instance>;
  files: FileStore;
  scripts: FaultScripts;
  journal: Journal;
  statuses: Statuses;
  notifications: NotificationQueues;
  limiter: RateLimiter;
  retryAfter: boolean;
  maxReceiveWaitMs: number;
  settingsTiming: SettingsTiming;
  now: () => number;
  /** A status to fail an unscripted downloadFile with, or undefined (setFailureRate). */
  randomFailure(): number | undefined;
};

type Call = { reply: Reply; deps: ApiDeps; instance: Instance; arg: string | undefined };

type MethodSpec = {
  verb: 'GET' | 'POST' | 'DELETE';
  rps(instance: Instance): number;
  /** Answers 400 unless the instance is authorized (common-errors table, docs/greenapi.md §6.3). */
  needsAuthorized: boolean;
  /** Answers 400 "starting" during the reboot SetSettings causes (what the docs imply). */
  refusedWhileStarting?: boolean;
  handle(call: Call): Promise<void> | void;
};

const fixed = (rps: number) => () => rps;

/** Implemented methods by canonical name, with their per-instance limits (docs/greenapi.md §6.1). */
const METHODS: Record<string, MethodSpec> = {
  downloadFile: { verb: 'POST', rps: (i) => i.rps, needsAuthorized: true, handle: downloadFile },
  lastIncomingMessages: {
    verb: 'GET',
    rps: fixed(1),
    needsAuthorized: true,
    handle: (c) => handleLastMessages(c.reply, c.deps.journal, c.instance.idInstance, 'incoming'),
  },
  lastOutgoingMessages: {
    verb: 'GET',
    rps: fixed(1),
    needsAuthorized: true,
    handle: (c) => handleLastMessages(c.reply, c.deps.journal, c.instance.idInstance, 'outgoing'),
  },
  getChatHistory: {
    verb: 'POST',
    rps: fixed(1),
    needsAuthorized: true,
    handle: (c) => handleChatHistory(c.reply, c.deps.journal, c.instance.idInstance),
  },
  // No published limit for the beta status methods: the journals' 1 request/s.
  getIncomingStatuses: {
    verb: 'GET',
    rps: fixed(1),
    needsAuthorized: true,
    handle: (c) => handleStatuses(c.reply, c.deps.statuses, c.instance.idInstance, 'incoming'),
  },
  getOutgoingStatuses: {
    verb: 'GET',
    rps: fixed(1),
    needsAuthorized: true,
    handle: (c) => handleStatuses(c.reply, c.deps.statuses, c.instance.idInstance, 'outgoing'),
  },
  // The notification queue keeps working while unauthorized: state changes arrive through it.
  receiveNotification: {
    verb: 'GET',
    rps: fixed(100),
    needsAuthorized: false,
    handle: (c) =>
      handleReceive(c.reply, c.deps.notifications, c.instance.idInstance, c.deps.maxReceiveWaitMs),
  },
  deleteNotification: {
    verb: 'DELETE',
    rps: fixed(100),
    needsAuthorized: false,
    handle: (c) => handleDelete(c.reply, c.deps.notifications, c.instance.idInstance, c.arg),
  },
  getStateInstance: {
    verb: 'GET',
    rps: fixed(1),
    needsAuthorized: false,
    handle: (c) =>
      c.reply.json(200, { stateInstance: effectiveState(c.instance.settings, c.deps.now()) }),
  },
  // An instance is configured before its QR code is scanned: no authorisation needed.
  getSettings: {
    verb: 'GET',
    rps: fixed(1),
    needsAuthorized: false,
    refusedWhileStarting: true,
    handle: (c) => handleGetSettings(c.reply, c.instance.settings, c.instance.wid, c.deps.now()),
  },
  setSettings: {
    verb: 'POST',
    rps: fixed(1),
    needsAuthorized: false,
    refusedWhileStarting: true,
    handle: (c) =>
      handleSetSettings(c.reply, c.instance.settings, c.deps.settingsTiming, c.deps.now),
  },
};

const CANONICAL = new Map(Object.keys(METHODS).map((name) => [name.toLowerCase(), name]));

const STATE_ERRORS: Partial<Record<InstanceState, string>> = {
  notAuthorized: 'instance account not authorized',
  blocked: 'instance account not authorized',
  starting: 'instance in starting process try later',
};

// {apiUrl}[/v3]/waInstance{id}/{method}/{token}[/{arg}]
const API_PATH = /^\/(?:(v3)\/)?waInstance(\d+)\/([A-Za-z]+)\/([^/]+)(?:\/([^/]+))?\/?$/;

/** Returns false when the path is not an API path (the caller answers 404). */
export async function handleApi(reply: Reply, deps: ApiDeps, pathname: string): Promise<boolean> {
  const match = API_PATH.exec(pathname);
  if (!match) return false;
  const [, v3, idInstance = '', rawMethod = '', token, arg] = match;
  const { record } = reply;
  record.idInstance = idInstance;
  const name = CANONICAL.get(rawMethod.toLowerCase());
  // Only known names are logged: an unknown path segment could be anything, even a token.
  if (name) record.method = name;

  const instance = deps.instances.get(idInstance);
  if (!instance) return send(reply, 403, 'Forbidden');
  // WhatsApp has no /v3 prefix; for MAX it is optional (docs/greenapi.md §1).
  if (v3 && instance.kind !== 'max') return send(reply, 404, 'Not Found');
  if (token !== instance.apiTokenInstance) return send(reply, 401, 'Unauthorized');
  const spec = name ? METHODS[name] : undefined;
  // The docs list 404 for a wrong HTTP method.
  if (!name || !spec || reply.req.method !== spec.verb) return send(reply, 404, 'Not Found');
  if (!deps.limiter.tryAcquire(`${idInstance}:${name}`, spec.rps(instance))) {
    // Whether Green-API sends Retry-After is unconfirmed (docs/greenapi.md §10.4), hence opt-in.
    return send(reply, 429, 'Too Many Requests', deps.retryAfter ? { 'Retry-After': '1' } : {});
  }
  const state = effectiveState(instance.settings, deps.now());
  const stateError = spec.needsAuthorized
    ? STATE_ERRORS[state]
    : spec.refusedWhileStarting && state === 'starting'
      ? STATE_ERRORS.starting
      : undefined;
  if (stateError) return send(reply, 400, stateError);
  await spec.handle({ reply, deps, instance, arg });
  return true;
}

function send(
  reply: Reply,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): true {
  reply.text(status, text, headers);
  return true;
}

async function downloadFile({ reply, deps, instance }: Call): Promise<void> {
  const body = await readJson(reply.req);
  if (!body.ok) return reply.text(400, body.message);
  const value: unknown = body.value;
  if (
    typeof value !== 'object' ||
    value === null ||
    !('chatId' in value) ||
    !('idMessage' in value)
  ) {
    return reply.text(400, "Validation failed. Details: 'value' must have at least 2 keys");
  }
  const { chatId, idMessage } = value;
  if (typeof chatId !== 'string') {
    return reply.text(400, "Validation failed. Details: 'chatId' must be a string");
  }
  if (typeof idMessage !== 'string') {
    return reply.text(400, "Validation failed. Details: 'idMessage' must be a string");
  }

  const step = deps.scripts.take('downloadFile', idMessage);
  if (step && (await applyLeadingStep(reply, step))) return;
  // Random failures only hit unscripted calls, so a script always plays out as written.
  const failure = step ? undefined : deps.randomFailure();
  if (failure) return reply.text(failure, 'Internal Server Error');

  const file = deps.files.get({ idInstance: instance.idInstance, chatId, idMessage });
  if (!file) {
    const text = `File message encrypted url not found by chatId ${chatId} and idMessage ${idMessage}`;
    // MAX documents this 400 body as a bare JSON string.
    return instance.kind === 'max' ? reply.json(400, text) : reply.text(400, text);
  }
  if (file.removed) {
    return reply.text(
      500,
      `Internal error when downloading file by chatId ${chatId} and idMessage ${idMessage}`,
    );
  }
  const answer = { downloadUrl: deps.files.urlOf(file) };
  const cut = step ? cutOf(step) : undefined;
  if (!cut) return reply.json(200, answer);
  const payload = Buffer.from(JSON.stringify(answer));
  reply.head(200, { 'Content-Type': 'application/json', 'Content-Length': payload.length });
  await streamBody(reply, [payload], cut);
}
