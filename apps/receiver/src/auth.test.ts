import { describe, expect, it } from 'vitest';
import type { InstanceConfig } from '@archiver/core';
import { checkBasicAuth, createWebhookAuth, parseWebhookToken, safeEqual } from './auth.js';

const instance = (idInstance: string, webhookToken?: string): InstanceConfig => ({
  idInstance,
  apiTokenInstance: `api-${idInstance}`,
  apiUrl: 'https://api.green-api.com',
  webhookToken,
  delivery: 'webhook',
});

describe('parseWebhookToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER   abc  ', 'abc'],
    ['abc', 'abc'],
    ['  abc  ', 'abc'],
    ['Bearer a b', 'a b'],
  ])('%j → %j', (header, token) => {
    expect(parseWebhookToken(header)).toBe(token);
  });

  it.each([undefined, '', '   ', 'Bearer', 'Bearer   '])('%j → no token', (header) => {
    expect(parseWebhookToken(header)).toBeUndefined();
  });
});

describe('safeEqual', () => {
  it('compares strings of any length', () => {
    expect(safeEqual('secret', 'secret')).toBe(true);
    expect(safeEqual('secret', 'secret2')).toBe(false);
    expect(safeEqual('', 'x')).toBe(false);
  });
});

describe('createWebhookAuth', () => {
  const auth = createWebhookAuth({
    instances: [
      instance('1', 'tok-one'),
      instance('2', 'tok-shared'),
      instance('3', 'tok-shared'),
      instance('4'),
    ],
    webhookToken: 'tok-global',
  });

  // Both steps, as the webhook route runs them: admit before the body, then the instance.
  const check = (token: string | undefined, idInstance: string | undefined, on = auth) => {
    const admitted = on.admit(token);
    return admitted ? on.forInstance(admitted, idInstance) : 'not admitted';
  };

  it('admits every configured token and nothing else', () => {
    for (const token of ['tok-one', 'tok-shared', 'tok-global']) {
      expect(auth.admit(token)).toBeDefined();
    }
    expect(auth.admit('tok-other')).toBeUndefined();
    expect(auth.admit('')).toBeUndefined();
    expect(auth.admit(undefined)).toBeUndefined();
  });

  it("accepts only the body's own instance token (shared tokens allowed)", () => {
    expect(check('tok-one', '1')).toEqual({ ok: true });
    expect(check('tok-shared', '2')).toEqual({ ok: true });
    expect(check('tok-shared', '3')).toEqual({ ok: true });
    expect(check('tok-shared', '1')).toEqual({ ok: false, reason: 'other_instance' });
    expect(check('tok-global', '1')).toEqual({ ok: false, reason: 'other_instance' });
  });

  it('an instance without its own token falls back to the global token only', () => {
    expect(check('tok-global', '4')).toEqual({ ok: true });
    expect(check('tok-one', '4')).toEqual({ ok: false, reason: 'unknown_instance' });
  });

  it('an unconfigured instance needs the global token', () => {
    expect(check('tok-global', '999')).toEqual({ ok: true });
    expect(check('tok-one', '999')).toEqual({ ok: false, reason: 'unknown_instance' });
  });

  it('a body without idInstance needs some configured token', () => {
    expect(check('tok-one', undefined)).toEqual({ ok: true });
    expect(check('tok-global', undefined)).toEqual({ ok: true });
    expect(check('nope', undefined)).toBe('not admitted');
    expect(check(undefined, undefined)).toBe('not admitted');
  });

  it('without a global token, unconfigured instances are refused', () => {
    const perInstance = createWebhookAuth({ instances: [instance('1', 'tok-one')] });
    expect(check('tok-one', '999', perInstance)).toEqual({ ok: false, reason: 'unknown_instance' });
    expect(check('tok-one', '1', perInstance)).toEqual({ ok: true });
  });
});

describe('checkBasicAuth', () => {
  const credentials = { user: 'admin', password: 'p:ss word' };
  const basic = (value: string) => `Basic ${Buffer.from(value).toString('base64')}`;

  it('accepts the right user and password (password may contain ":")', () => {
    expect(checkBasicAuth(basic('admin:p:ss word'), credentials)).toBe(true);
    expect(checkBasicAuth(basic('admin:p:ss word').replace('Basic', 'basic'), credentials)).toBe(
      true,
    );
  });

  it.each([
    ['no header', undefined],
    ['wrong password', basic('admin:nope')],
    ['wrong user', basic('root:p:ss word')],
    ['no colon', basic('adminp:ss word').replace(/^Basic /, 'Basic ') + '!'],
    ['not basic', 'Bearer abc'],
    ['empty', 'Basic '],
  ])('refuses %s', (_name, header) => {
    expect(checkBasicAuth(header, credentials)).toBe(false);
  });
});
