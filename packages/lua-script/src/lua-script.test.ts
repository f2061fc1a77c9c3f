import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { luaScript } from './lua-script.js';

/** A connection on which the script is "defined": records what the command was sent. */
function recording(name: string, reply: unknown = 1) {
  const sent: unknown[][] = [];
  const redis = {
    [name]: (...values: unknown[]) => {
      sent.push(values);
      return Promise.resolve(reply);
    },
  } as unknown as Redis;
  return { redis, sent };
}

describe('luaScript', () => {
  const script = luaScript({
    name: 'testAcquire',
    keys: ['slot', 'penalty'],
    args: { intervalMs: 'number', member: 'string' },
    body: 'return intervalMs',
    reply: Number,
  });

  it('binds every key and argument to a Lua local of its name, numbers through tonumber', () => {
    expect(script.lua).toContain('local slot = KEYS[1]\nlocal penalty = KEYS[2]');
    expect(script.lua).toContain('local intervalMs = tonumber(ARGV[1])\nlocal member = ARGV[2]');
    expect(script.lua.endsWith('return intervalMs')).toBe(true);
  });

  it('sends KEYS then ARGV in the declared order, whatever order the call names them in', async () => {
    const { redis, sent } = recording('testAcquire', '7');
    const reply = await script.run(redis, {
      args: { member: 'm-1', intervalMs: 206 },
      keys: { penalty: 'p', slot: 's' },
    });
    expect(sent).toEqual([['s', 'p', 206, 'm-1']]);
    expect(reply).toBe(7);
  });

  it('sends a repeated tail item by item, after the fixed values, with its key count', async () => {
    const batch = luaScript({
      name: 'testBatch',
      keys: ['index'],
      args: { now: 'number' },
      each: { keys: ['jobHash'], args: { jobId: 'string' } },
      body: 'return itemCount',
      reply: Number,
    });
    expect(batch.lua).toContain('local itemCount = (#ARGV - 1) / 1');
    expect(batch.lua).toContain('local function jobHash(i) return KEYS[1 + 1 * (i - 1) + 1] end');
    expect(batch.lua).toContain('local function jobId(i) return ARGV[1 + 1 * (i - 1) + 1] end');
    const { redis, sent } = recording('testBatch');
    await batch.run(redis, {
      keys: { index: 'i' },
      args: { now: 5 },
      items: [
        { jobHash: 'h1', jobId: 'a' },
        { jobHash: 'h2', jobId: 'b' },
      ],
    });
    expect(sent).toEqual([[3, 'i', 'h1', 'h2', 5, 'a', 'b']]);
  });

  it('refuses a name Lua cannot take as a local', () => {
    expect(() =>
      luaScript({ name: 'bad', keys: ['end'], args: {}, body: '', reply: Number }),
    ).toThrow(/"end" cannot be a Lua local/);
  });
});
