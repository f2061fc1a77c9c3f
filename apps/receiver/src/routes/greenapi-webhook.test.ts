import { describe, expect, it } from 'vitest';
import { IngestTimeoutError, withTimeout } from './greenapi-webhook.js';

describe('withTimeout', () => {
  it('passes a result through', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000)).resolves.toBe(7);
  });

  it('passes a rejection through', async () => {
    await expect(withTimeout(Promise.reject(new Error('redis down')), 1000)).rejects.toThrow(
      'redis down',
    );
  });

  it('rejects with IngestTimeoutError when the promise does not settle in time', async () => {
    await expect(withTimeout(new Promise(() => undefined), 10)).rejects.toBeInstanceOf(
      IngestTimeoutError,
    );
  });
});
