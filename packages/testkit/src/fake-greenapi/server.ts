import { createServer } from 'node:http';
import { handleApi, type ApiDeps, type Instance } from './api.js';
import { effectiveState } from './settings.js';
import { createFaultScripts, createFileStore, serveFile } from './files.js';
import { createReply } from './http-util.js';
import { createJournal, journalItemForFile } from './journal.js';
import { createNotificationQueues } from './notifications.js';
import { createRateLimiter } from './rate-limit.js';
import { initialSettings, type SettingsTiming, type SettingsValues } from './settings.js';
import { createStatuses, type StatusItem } from './statuses.js';
import type {
  AddFileOptions,
  AddInstanceOptions,
  AddedFile,
  CallRecord,
  FaultStep,
  InstanceState,
  JournalItem,
  MessageRef,
} from './types.js';

export type FakeGreenApiOptions = {
  /** Default 0 (any free port); the dev simulator may want a fixed one. */
  port?: number;
  /** Add `Retry-After: 1` to 429s. Off by default: unconfirmed that Green-API sends it. */
  retryAfter?: boolean;
  /** Upper bound on a receiveNotification long poll, so tests need not wait 5 s for `null`. */
  maxReceiveTimeoutMs?: number;
  /** Clock in ms, for rate-limit windows, journal ages and the call log. */
  now?: () => number;
  /**
   * SetSettings' reboot and delayed apply (docs/greenapi.md §7.4: a reboot, values applied
   * within 5 minutes); default 200 ms and 400 ms so tests see both without waiting long.
   */
  settingsTiming?: Partial<SettingsTiming>;
};

export type FakeGreenApi = {
  /** Use as the instance's apiUrl and mediaUrl. */
  url: string;
  addInstance(opts: AddInstanceOptions): void;
  setInstanceState(idInstance: string, state: InstanceState): void;
  /** The settings as GetSettings would show them now (applied values only). */
  settingsOf(idInstance: string): SettingsValues;
  /** Sets settings at once, without a reboot (an instance configured earlier). */
  presetSettings(idInstance: string, values: SettingsValues): void;
  /** Changes SetSettings' reboot and apply delays from now on. */
  setSettingsTiming(timing: Partial<SettingsTiming>): void;
  /** Changes the instance's downloadFile budget (requests per second) from now on. */
  throttleInstance(idInstance: string, rps: number): void;
  addFile(opts: AddFileOptions): AddedFile;
  /** The file is gone: downloadFile answers 500 "Internal error …", its URL 404. */
  removeFile(ref: MessageRef): void;
  /** Steps consumed one per downloadFile call for this idMessage, then normal behaviour. */
  scriptDownloadFile(idMessage: string, steps: FaultStep[]): void;
  /** Steps consumed one per GET of this message's file URL. */
  scriptFile(idMessage: string, steps: FaultStep[]): void;
  /** Fail this share of unscripted downloadFile calls (default status 500), from a seeded PRNG. */
  setFailureRate(rate: number, opts?: { seed?: number; status?: number }): void;
  addJournalMessage(idInstance: string, item: JournalItem): void;
  /**
   * Lists a status under getIncoming/OutgoingStatuses. With `file`, a media status: its
   * `downloadUrl` serves these bytes, and downloadFile knows it by (item.chatId, idMessage)
   * unless `downloadFile: false` (whether Green-API's does is not documented).
   */
  addStatus(
    idInstance: string,
    item: StatusItem,
    opts?: {
      file?: { bytes?: Buffer; size?: number; fileName?: string; mimeType?: string };
      downloadFile?: boolean;
    },
  ): AddedFile | undefined;
  updateStatus(idInstance: string, idMessage: string, patch: Partial<StatusItem>): void;
  /** Queues a notification for receiveNotification; returns its receiptId. */
  pushNotification(idInstance: string, body: unknown): number;
  pendingNotifications(idInstance: string): number;
  /** Every request in arrival order; never holds a token. */
  readonly calls: readonly CallRecord[];
  count(method: string, filter?: { idInstance?: string; status?: number }): number;
  clearCalls(): void;
  close(): Promise<void>;
};

const DEFAULT_WIDS = { whatsapp: '11001234567@c.us', max: '79991234567@c.us' } as const;

export async function startFakeGreenApi(opts: FakeGreenApiOptions = {}): Promise<FakeGreenApi> {
  const now = opts.now ?? Date.now;
  const closing = new AbortController();
  const calls: CallRecord[] = [];
  let url = '';
  let failure = { rate: 0, status: 500, next: mulberry32(1) };

  const deps: ApiDeps = {
    instances: new Map<string, Instance>(),
    files: createFileStore(() => url),
    scripts: createFaultScripts(),
    journal: createJournal(now),
    statuses: createStatuses(now),
    notifications: createNotificationQueues(),
    limiter: createRateLimiter(now),
    retryAfter: opts.retryAfter ?? false,
    maxReceiveWaitMs: opts.maxReceiveTimeoutMs ?? 60_000,
    settingsTiming: { rebootMs: 200, applyDelayMs: 400, ...opts.settingsTiming },
    now,
    randomFailure: () =>
      failure.rate > 0 && failure.next() < failure.rate ? failure.status : undefined,
  };

  const server = createServer((req, res) => {
    const record: CallRecord = { at: now(), idInstance: '', method: 'unknown', status: 0 };
    calls.push(record);
    const reply = createReply(req, res, record, closing.signal);
    const pathname = new URL(req.url ?? '/', 'http://fake').pathname;
    const opaque = /^\/files\/([0-9a-f]+)\/[^/]*$/.exec(pathname)?.[1];
    const work = opaque
      ? serveFile(reply, deps.files, deps.scripts, opaque)
      : handleApi(reply, deps, pathname).then((handled) => {
          if (!handled) reply.text(404, 'Not Found');
        });
    work.catch((err: unknown) => {
      // A bug in the fake must show up as a 500 in the test, not as a hung request.
      if (!res.headersSent) reply.text(500, `fake Green-API error: ${String(err)}`);
      else res.destroy();
    });
  });
  server.listen(opts.port ?? 0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('fake Green-API has no port');
  url = `http://127.0.0.1:${address.port}`;

  const instanceOf = (idInstance: string) => {
    const instance = deps.instances.get(idInstance);
    if (!instance) throw new Error(`fake Green-API: unknown instance ${idInstance}`);
    return instance;
  };

  return {
    url,
    addInstance(o) {
      deps.instances.set(o.idInstance, {
        idInstance: o.idInstance,
        apiTokenInstance: o.apiTokenInstance,
        kind: o.kind,
        rps: o.rps ?? (o.kind === 'max' ? 1 : 5),
        settings: {
          kind: o.kind,
          values: { ...initialSettings(o.kind), ...o.settings },
          rebootUntil: 0,
          baseState: o.state ?? 'authorized',
        },
        wid: o.wid ?? DEFAULT_WIDS[o.kind],
      });
    },
    setInstanceState: (idInstance, state) =>
      void (instanceOf(idInstance).settings.baseState = state),
    settingsOf(idInstance) {
      const { settings } = instanceOf(idInstance);
      effectiveState(settings, now());
      return { ...settings.values };
    },
    presetSettings(idInstance, values) {
      const { settings } = instanceOf(idInstance);
      settings.values = { ...settings.values, ...values };
    },
    setSettingsTiming(timing) {
      Object.assign(deps.settingsTiming, timing);
    },
    throttleInstance: (idInstance, rps) => void (instanceOf(idInstance).rps = rps),
    addFile(o) {
      instanceOf(o.idInstance);
      const added = deps.files.add(o);
      if (o.direction) {
        deps.journal.add(
          o.idInstance,
          journalItemForFile({ ...o, direction: o.direction }, added, now()),
        );
      }
      return added;
    },
    removeFile: (ref) => deps.files.remove(ref),
    scriptDownloadFile: (idMessage, steps) => deps.scripts.set('downloadFile', idMessage, steps),
    scriptFile: (idMessage, steps) => deps.scripts.set('file', idMessage, steps),
    setFailureRate(rate, o = {}) {
      failure = { rate, status: o.status ?? 500, next: mulberry32(o.seed ?? 1) };
    },
    addJournalMessage: (idInstance, item) =>
      deps.journal.add(instanceOf(idInstance).idInstance, item),
    addStatus(idInstance, item, o = {}) {
      instanceOf(idInstance);
      if (!o.file) {
        deps.statuses.add(idInstance, item);
        return undefined;
      }
      // A chat id no downloadFile call names hides the file from it; its link still works.
      const chatId = o.downloadFile === false ? `\u0000status:${item.chatId}` : item.chatId;
      const added = deps.files.add({ idInstance, chatId, idMessage: item.idMessage, ...o.file });
      deps.statuses.add(idInstance, {
        ...item,
        downloadUrl: added.downloadUrl,
        fileName: added.fileName,
        mimeType: added.mimeType,
      });
      return added;
    },
    updateStatus: (idInstance, idMessage, patch) =>
      deps.statuses.update(idInstance, idMessage, patch),
    pushNotification: (idInstance, body) =>
      deps.notifications.push(instanceOf(idInstance).idInstance, body),
    pendingNotifications: (idInstance) => deps.notifications.pending(idInstance),
    calls,
    count: (method, filter = {}) =>
      calls.filter(
        (c) =>
          c.method === method &&
          (filter.idInstance === undefined || c.idInstance === filter.idInstance) &&
          (filter.status === undefined || c.status === filter.status),
      ).length,
    clearCalls: () => void calls.splice(0),
    async close() {
      closing.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Small seedable PRNG (uniform in [0, 1)), so a failure pattern replays identically. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
