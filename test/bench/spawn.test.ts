import { describe, expect, it } from 'vitest';
import { spawnSource } from '../../bench/src/lib/spawn.js';

describe('spawnSource output', () => {
  it('keeps only the tail of a chatty process, whole to its last line, and still finds later lines', async () => {
    const proc = spawnSource('test/bench/fixtures/chatty.ts', {});
    await expect.poll(() => proc.output().includes('line 1999'), { timeout: 20_000 }).toBe(true);
    // Registered after the flood: only lines that arrive from now on are looked at.
    const line = proc.waitForLine('after the flood', 20_000);
    proc.child.kill('SIGUSR2');
    expect(await line).toBe('after the flood');
    await proc.exited;

    const output = proc.output();
    expect(output.length).toBeLessThanOrEqual(64 * 1024);
    expect(output.length).toBeGreaterThan(60 * 1024);
    expect(output.endsWith('line 1999 ' + 'x'.repeat(89) + '\nafter the flood\n')).toBe(true);
    expect(output).not.toContain('line 0000');
  });
});
