import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { ConfigError, configSecrets, type Config } from './config.js';
import { updateLoggerSecrets } from './logger.js';
import type { InstanceConfig } from './instances.js';

export type InstanceChange = { added: string[]; removed: string[]; changed: string[] };
export type ReloadResult = { ok: true; change: InstanceChange } | { ok: false; problems: string[] };
type Listener = (change: InstanceChange, config: Config) => void | Promise<void>;

export type InstanceRegistry = {
  /** The configured instances by id: one Map, replaced in place (in one tick) on reload. */
  readonly current: Map<string, InstanceConfig>;
  /**
   * The current instances, then those removed since start-up: a removed instance's jobs
   * already queued still run (or end recorded) with the settings they were queued under.
   */
  readonly lookup: Pick<Map<string, InstanceConfig>, 'get' | 'has'>;
  /** The latest configuration that loaded (instances and what derives from them). */
  config(): Config;
  /** Loads again; bad content keeps everything as it was and says why, one line per problem. */
  reload(): Promise<ReloadResult>;
  onChange(listener: Listener): void;
};

/**
 * The instances of a running process, reloadable (GREEN_API_INSTANCES=@path): receivers,
 * workers and the poller hold `current` (or `lookup`) instead of a copy, and subscribe with
 * `onChange` for what they derive (tokens, schedulers, poll loops). `load` is the process's
 * own loadConfig, so a reload passes exactly the checks start-up does.
 */
export function createInstanceRegistry(opts: {
  config: Config;
  load: () => Config;
  logger: Logger;
}): InstanceRegistry {
  const log = opts.logger.child({ component: 'instances' });
  let latest = opts.config;
  const current = new Map(latest.instances.map((i) => [i.idInstance, i]));
  const retired = new Map<string, InstanceConfig>();
  const listeners: Listener[] = [];
  let running: Promise<ReloadResult> | undefined;

  async function apply(next: Config): Promise<InstanceChange> {
    const fresh = new Map(next.instances.map((i) => [i.idInstance, i]));
    const change: InstanceChange = { added: [], removed: [], changed: [] };
    for (const [id, instance] of fresh) {
      const before = current.get(id);
      if (!before) change.added.push(id);
      else if (JSON.stringify(before) !== JSON.stringify(instance)) change.changed.push(id);
    }
    for (const [id, instance] of current) {
      if (!fresh.has(id)) {
        change.removed.push(id);
        retired.set(id, instance);
      }
    }
    // All in one tick: a webhook sees the old set or the new one, never half of each.
    current.clear();
    for (const [id, instance] of fresh) {
      current.set(id, instance);
      retired.delete(id);
    }
    latest = next;
    updateLoggerSecrets(opts.logger, configSecrets(next));
    for (const listener of listeners) {
      try {
        await listener(change, next);
      } catch (err) {
        log.error({ err }, 'applying the reloaded instances failed in part');
      }
    }
    return change;
  }

  async function reload(): Promise<ReloadResult> {
    let next: Config;
    try {
      next = opts.load();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // ConfigError lines never quote a token (config.ts).
      for (const problem of err.problems) log.error({ problem }, 'instances not reloaded');
      return { ok: false, problems: err.problems };
    }
    const change = await apply(next);
    const { added, removed, changed } = change;
    if (added.length + removed.length + changed.length > 0) {
      log.info(
        {
          instances: current.size,
          added: added.length,
          removed: removed.length,
          changed: changed.length,
          ids: { added: added.slice(0, 20), removed: removed.slice(0, 20) },
        },
        'instances reloaded',
      );
    }
    return { ok: true, change };
  }

  return {
    current,
    lookup: {
      get: (id) => current.get(id) ?? retired.get(id),
      has: (id) => current.has(id) || retired.has(id),
    },
    config: () => latest,
    // One at a time: a watch event and a SIGHUP together load once, then once more.
    reload() {
      const next = (running ?? Promise.resolve()).then(() => reload());
      running = next.catch(() => ({ ok: false, problems: [] }) as ReloadResult);
      return next;
    },
    onChange: (listener) => void listeners.push(listener),
  };
}

/** The file of GREEN_API_INSTANCES=@path, or undefined when instances come inline. */
export function instancesFile(env: Record<string, string | undefined>): string | undefined {
  const value = env['GREEN_API_INSTANCES'];
  return value?.startsWith('@') ? resolve(value.slice(1)) : undefined;
}

/**
 * Reloads on SIGHUP and, for an instances file, when it changes. The directory is watched,
 * not the file: editors and Kubernetes ConfigMaps replace the file (a rename, a `..data`
 * symlink swap), which a watch on the old file would miss. Events are debounced and a reload
 * happens only when the file's bytes changed.
 */
export function watchInstances(
  registry: InstanceRegistry,
  opts: { file?: string; logger: Logger; debounceMs?: number; readFile: (path: string) => string },
): { close(): void } {
  const log = opts.logger.child({ component: 'instances' });
  const onHup = () => {
    log.info('SIGHUP: reloading instances');
    void registry.reload();
  };
  process.on('SIGHUP', onHup);
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (opts.file) {
    const file = opts.file;
    const digest = () => {
      try {
        return createHash('sha256').update(opts.readFile(file)).digest('hex');
      } catch {
        return 'unreadable';
      }
    };
    let seen = digest();
    const check = () => {
      const now = digest();
      if (now === seen) return;
      seen = now;
      void registry.reload();
    };
    try {
      watcher = watch(dirname(file), { persistent: false }, () => {
        clearTimeout(timer);
        timer = setTimeout(check, opts.debounceMs ?? 200);
      });
      watcher.on('error', (err) =>
        log.warn({ err }, 'cannot watch the instances file; SIGHUP still reloads'),
      );
      log.info({ file: basename(file) }, 'watching the instances file');
    } catch (err) {
      log.warn({ err }, 'cannot watch the instances file; SIGHUP still reloads');
    }
  }
  return {
    close() {
      process.off('SIGHUP', onHup);
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
