import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

const SECRET = 'api-token-0f9a8b7c';

/** A logger writing into an array; pino flushes synchronously to a plain `write` object. */
function capture(secrets: string[]) {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    name: 'test',
    secrets,
    destination: { write: (line: string) => void lines.push(line) },
  });
  return { logger, lines };
}

describe('createLogger', () => {
  it('scrubs a configured secret from messages, fields and error texts', () => {
    const { logger, lines } = capture([SECRET]);
    logger.info(`calling /waInstance1101/downloadFile/${SECRET}`);
    logger.warn({ url: `https://api/${SECRET}` }, 'request failed');
    logger.error({ err: new Error(`404 for /getSettings/${SECRET}`) }, 'boom');

    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toContain(SECRET);
      expect(line).toContain('[redacted]');
    }
  });

  it('blanks secret-bearing fields by name, whatever their value', () => {
    const { logger, lines } = capture([]);
    logger.info({ instance: { apiTokenInstance: 'short', webhookToken: 'w' } }, 'config');

    const logged = JSON.parse(lines[0] ?? '{}') as { instance: Record<string, string> };
    expect(logged.instance).toEqual({
      apiTokenInstance: '[redacted]',
      webhookToken: '[redacted]',
    });
  });

  it('leaves lines without secrets as they are', () => {
    const { logger, lines } = capture([SECRET]);
    logger.info({ idInstance: '1101000001' }, 'archived');

    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      idInstance: '1101000001',
      msg: 'archived',
    });
  });
});
