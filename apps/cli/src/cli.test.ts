import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli, type DepsFactory } from './cli.js';
import type { CliDeps } from './deps.js';

function io() {
  const text = { out: '', err: '' };
  const sink = (key: 'out' | 'err') =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        text[key] += chunk.toString();
        cb();
      },
    });
  return { io: { out: sink('out'), err: sink('err') }, text };
}

const ENV = {
  S3_BUCKET: 'archive-bucket',
  GREEN_API_ID_INSTANCE: '1101000001',
  GREEN_API_TOKEN: 'secret-token-value',
  REDIS_URL: 'redis://:hunter2pass@127.0.0.1:6390',
};

/** A factory that must never be reached: arguments and config are checked first. */
const noDeps: DepsFactory = () => {
  throw new Error('connections must not be opened');
};

describe('runCli', () => {
  it('prints the command list on --help (exit 0) and on no arguments (exit 2)', async () => {
    const a = io();
    expect(await runCli(['--help'], {}, a.io, noDeps)).toBe(0);
    for (const name of ['status', 'retry-failed', 'quarantine', 'verify', 'report', 'backfill']) {
      expect(a.text.out).toContain(name);
    }
    const b = io();
    expect(await runCli([], {}, b.io, noDeps)).toBe(2);
    expect(b.text.err).toContain('Usage: archiver <command>');
  });

  it('prints a command help with --help, -h or help <command>, without config', async () => {
    for (const argv of [
      ['verify', '--help'],
      ['verify', '-h'],
      ['help', 'verify'],
    ]) {
      const c = io();
      expect(await runCli(argv, {}, c.io, noDeps)).toBe(0);
      expect(c.text.out).toContain('Usage: archiver verify');
    }
    const q = io();
    expect(await runCli(['quarantine', 'replay', '--help'], {}, q.io, noDeps)).toBe(0);
    expect(q.text.out).toContain('quarantine replay');
  });

  it('exits 2 on an unknown command, an unknown flag or a bad value', async () => {
    const cases: string[][] = [
      ['nope'],
      ['status', '--verbose'],
      ['retry-failed', '--grace-minutes', 'soon'],
      ['retry-failed', '--instance', 'abc'],
      ['retry-failed', '--queue', 'files'],
      ['report', '--since', '2025-03-01'],
      ['report', '--since', '2025-03-02', '--until', '2025-03-01'],
      ['report', '--since', '2025-03-01', '--until', '2025-03-02', '--format', 'xml'],
      ['verify', '--since', '2025-02-30'],
      ['quarantine'],
      ['quarantine', 'replay'],
      ['quarantine', 'replay', '--all', '--id', 'x'],
      ['quarantine', 'list', '--all'],
      ['backfill'],
      ['backfill', '--instance', '1', '--count', '5'],
      ['backfill', '--instance', '1', '--chat', 'c@c.us', '--minutes', '5'],
    ];
    for (const argv of cases) {
      const c = io();
      expect(await runCli(argv, ENV, c.io, noDeps), argv.join(' ')).toBe(2);
      expect(c.text.err, argv.join(' ')).not.toBe('');
    }
  });

  it('exits 2 with the configuration problems, never echoing a secret', async () => {
    const c = io();
    expect(
      await runCli(
        ['status'],
        { GREEN_API_ID_INSTANCE: '1101000001', GREEN_API_TOKEN: 'secret-token-value' },
        c.io,
        noDeps,
      ),
    ).toBe(2);
    expect(c.text.err).toContain('S3_BUCKET');
    expect(c.text.err).not.toContain('secret-token-value');
  });

  it('exits 3 when a connection fails or a command breaks, scrubbing secrets', async () => {
    const unreachable = io();
    const failing: DepsFactory = () =>
      Promise.reject(new Error('cannot reach Redis: token secret-token-value'));
    expect(await runCli(['status'], ENV, unreachable.io, failing)).toBe(3);
    expect(unreachable.text.err).toContain('cannot reach Redis');
    expect(unreachable.text.err).not.toContain('secret-token-value');

    const broken = io();
    let closed = false;
    const deps = {
      queue: {
        getJobCounts: () =>
          Promise.reject(new Error("READONLY You can't write against a read only replica")),
      },
    } as unknown as CliDeps;
    const factory: DepsFactory = () =>
      Promise.resolve({ deps, close: async () => void (closed = true) });
    expect(await runCli(['status'], ENV, broken.io, factory)).toBe(3);
    expect(broken.text.err).toContain('archiver status failed');
    expect(closed).toBe(true);
  });
});
