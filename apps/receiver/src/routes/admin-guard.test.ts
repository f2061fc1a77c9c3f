import { describe, expect, it } from 'vitest';
import { refusalFor } from './admin-guard.js';

const req = (method: string, path: string, headers: Record<string, string> = {}) => ({
  method,
  path,
  headers,
});
const ADMIN = { 'x-archiver-admin': '1' };

describe('refusalFor', () => {
  it('lets reads through in both modes', () => {
    for (const readOnly of [true, false]) {
      expect(refusalFor(req('GET', '/api/queues'), readOnly)).toBeUndefined();
      expect(refusalFor(req('HEAD', '/'), readOnly)).toBeUndefined();
    }
  });

  it.each([
    '/api/queues/archive/empty',
    '/api/queues/archive/obliterate',
    '/api/queues/archive/clean/failed',
    '/API/QUEUES/archive/Clean/completed/',
    '/api/queues/archive/%65mpty',
    '/api/queues/a%2Fb/obliterate',
  ])('refuses %s whatever the mode', (path) => {
    for (const readOnly of [true, false]) {
      expect(refusalFor(req('PUT', path, ADMIN), readOnly)?.status).toBe(403);
    }
  });

  it('refuses every change in read-only mode', () => {
    expect(refusalFor(req('PUT', '/api/queues/archive/j1/retry', ADMIN), true)?.status).toBe(405);
  });

  it('needs the header and JSON for a change', () => {
    const retry = '/api/queues/archive/j1/retry';
    expect(refusalFor(req('PUT', retry), false)?.status).toBe(403);
    expect(refusalFor(req('PUT', retry, { 'x-archiver-admin': 'yes' }), false)?.status).toBe(403);
    expect(refusalFor(req('PUT', retry, ADMIN), false)).toBeUndefined();
    const form = { ...ADMIN, 'content-length': '5', 'content-type': 'text/plain' };
    expect(refusalFor(req('PATCH', retry, form), false)?.status).toBe(415);
    const json = {
      ...ADMIN,
      'content-length': '2',
      'content-type': 'application/json; charset=utf-8',
    };
    expect(refusalFor(req('PATCH', retry, json), false)).toBeUndefined();
  });

  it('refuses a path that does not decode', () => {
    expect(refusalFor(req('PUT', '/api/queues/%E0%A4%A/retry', ADMIN), false)?.status).toBe(400);
  });
});
