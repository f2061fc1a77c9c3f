import { objectKeys } from '@archiver/core';
import { describe, expect, it } from 'vitest';
import { parseSidecarKey, sidecarPrefixes } from './sidecars.js';

describe('sidecar keys', () => {
  it('lists both kinds, narrowed to an instance when given', () => {
    expect(sidecarPrefixes('arch/')).toEqual(['arch/whatsapp/', 'arch/max/']);
    expect(sidecarPrefixes('', '1101')).toEqual(['whatsapp/1101/', 'max/1101/']);
  });

  it('reads kind, instance and day from a key built by core', () => {
    const { sidecarKey, fileKey } = objectKeys({
      prefix: 'p/',
      kind: 'max',
      idInstance: '3100000001',
      chatId: 'weird/chat,"id"',
      idMessage: 'm1',
      timestamp: Date.UTC(2025, 2, 3, 23, 59, 59) / 1000,
      fileName: 'a.jpg',
    });
    expect(parseSidecarKey('p/', sidecarKey)).toEqual({
      key: sidecarKey,
      kind: 'max',
      idInstance: '3100000001',
      day: '2025-03-03',
    });
    expect(parseSidecarKey('p/', fileKey)).toBeUndefined();
    expect(parseSidecarKey('other/', sidecarKey)).toBeUndefined();
    expect(parseSidecarKey('', 'p/whatsapp/1/c/2025/03/03/m/message.json')).toBeUndefined();
    expect(parseSidecarKey('', 'telegram/1/c/2025/03/03/m/message.json')).toBeUndefined();
  });
});
