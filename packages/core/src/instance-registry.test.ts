import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { loadConfig } from './config.js';
import { createInstanceRegistry } from './instance-registry.js';

const entry = (id: string, extra: Record<string, unknown> = {}) => ({
  idInstance: id,
  apiTokenInstance: `tok-${id}`,
  apiUrl: 'https://1101.api.green-api.com',
  ...extra,
});

function setup(initial: unknown[]) {
  let content = JSON.stringify(initial);
  const env = { GREEN_API_INSTANCES: '@/instances.json', S3_BUCKET: 'archive' };
  const load = () => loadConfig(env, 'worker', { readFile: () => content });
  const lines: string[] = [];
  const logger = createLogger({
    level: 'info',
    name: 't',
    destination: { write: (l: string) => void lines.push(l) },
  });
  const registry = createInstanceRegistry({ config: load(), load, logger });
  return { registry, lines, set: (value: string) => (content = value) };
}

describe('instance registry', () => {
  it('applies a new file in place and keeps removed instances for their queued jobs', async () => {
    const { registry, set } = setup([entry('1'), entry('2')]);
    const seenBy = registry.current;
    const changes: unknown[] = [];
    registry.onChange((change) => void changes.push(change));
    set(JSON.stringify([entry('2', { retentionDays: 3 }), entry('3')]));
    const result = await registry.reload();
    expect(result).toEqual({ ok: true, change: { added: ['3'], removed: ['1'], changed: ['2'] } });
    expect([...seenBy.keys()]).toEqual(['2', '3']);
    expect(registry.current.has('1')).toBe(false);
    expect(registry.lookup.get('1')?.apiTokenInstance).toBe('tok-1');
    expect(changes).toHaveLength(1);
  });

  it('keeps everything on bad content and logs one line per problem, no token', async () => {
    const { registry, lines, set } = setup([entry('1')]);
    set(
      JSON.stringify([entry('1'), entry('1'), { idInstance: 'x', apiTokenInstance: 'sekret-9' }]),
    );
    const result = await registry.reload();
    expect(result.ok).toBe(false);
    expect([...registry.current.keys()]).toEqual(['1']);
    const logged = lines.filter((l) => l.includes('instances not reloaded'));
    expect(logged.length).toBe(result.ok ? 0 : result.problems.length);
    expect(logged.length).toBeGreaterThanOrEqual(2);
    expect(lines.join('')).not.toContain('sekret-9');
  });
});
