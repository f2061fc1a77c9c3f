import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, renderProgress } from './progress.js';

function capture() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, chunks };
}

describe('progress', () => {
  it('renders a bar once the total is final', () => {
    expect(renderProgress('verifying', { done: 5, total: 10, final: true, note: '1 KiB' })).toBe(
      `verifying [${'#'.repeat(12)}${'-'.repeat(12)}]  50% 5/10  1 KiB`,
    );
    expect(renderProgress('verifying', { done: 5, total: 10 })).toBe(
      'verifying: 5 of 10+ (still listing)',
    );
    expect(renderProgress('x', { done: 3 })).toBe('x: 3');
    expect(renderProgress('x', { done: 0, total: 0, final: true })).toContain('100% 0/0');
  });

  it('redraws in place with \\r on a terminal, throttled', () => {
    let now = 0;
    const { stream, chunks } = capture();
    const p = createProgress(stream, 'p', { tty: true, now: () => now, intervalMs: 100 });
    p.update({ done: 1 });
    now = 50;
    p.update({ done: 2 });
    now = 150;
    p.update({ done: 3 });
    p.finish();
    expect(chunks).toEqual(['\rp: 3\x1b[K', '\rp: 3\x1b[K\n']);
  });

  it('writes plain lines when not a terminal', () => {
    let now = 0;
    const { stream, chunks } = capture();
    const p = createProgress(stream, 'p', { tty: false, now: () => now, intervalMs: 5000 });
    for (let i = 1; i <= 10; i += 1) {
      now = i * 1000;
      p.update({ done: i });
    }
    p.finish();
    expect(chunks).toEqual(['p: 5\n', 'p: 10\n', 'p: 10\n']);
    expect(chunks.join('')).not.toContain('\r');
  });

  it('stays silent when nothing happened', () => {
    const { stream, chunks } = capture();
    const p = createProgress(stream, 'p', { tty: false });
    p.finish();
    expect(chunks).toEqual([]);
  });
});
