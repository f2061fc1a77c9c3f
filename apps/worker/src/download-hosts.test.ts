import { describe, expect, it } from 'vitest';
import { loadConfig } from '@archiver/core';
import { createHostGuard, parseHostEntry } from './download-hosts.js';
import { HostNotAllowedError } from './errors.js';

const allowed = (patterns: string[], url: string) => {
  try {
    createHostGuard(patterns)(url);
    return true;
  } catch (err) {
    expect(err).toBeInstanceOf(HostNotAllowedError);
    return false;
  }
};

describe('createHostGuard', () => {
  it('an entry with a port matches that port only', () => {
    const hosts = ['minio.internal:9000', '*.storage.example.com:8443'];
    expect(allowed(hosts, 'http://minio.internal:9000/b/k')).toBe(true);
    expect(allowed(hosts, 'http://minio.internal:9001/b/k')).toBe(false);
    expect(allowed(hosts, 'https://minio.internal/b/k')).toBe(false);
    expect(allowed(hosts, 'https://a.storage.example.com:8443/f')).toBe(true);
    expect(allowed(hosts, 'https://a.storage.example.com/f')).toBe(false);
  });

  it('an entry without a port matches any port, and a default port is the scheme’s', () => {
    expect(allowed(['files.example.com'], 'https://files.example.com:8443/f')).toBe(true);
    expect(allowed(['files.example.com:443'], 'https://files.example.com/f')).toBe(true);
    expect(allowed(['files.example.com:443'], 'https://files.example.com:443/f')).toBe(true);
    expect(allowed(['[::1]:8080'], 'http://[::1]:8080/f')).toBe(true);
    expect(allowed(['[::1]:8080'], 'http://[::1]:8081/f')).toBe(false);
  });

  it('trusts an instance’s apiUrl host on its own port only', () => {
    const config = loadConfig(
      {
        S3_BUCKET: 'archive',
        GREEN_API_INSTANCES: JSON.stringify([
          {
            idInstance: '1101000001',
            apiTokenInstance: 'api-token-instance-secret',
            apiUrl: 'https://1101.api.green-api.com',
            mediaUrl: 'http://127.0.0.1:3100',
          },
        ]),
      },
      'worker',
    );
    const guard = (url: string) => allowed(config.downloadHosts, url);
    expect(guard('https://1101.api.green-api.com/file')).toBe(true);
    expect(guard('https://1101.api.green-api.com:8443/file')).toBe(false);
    expect(guard('http://127.0.0.1:3100/file')).toBe(true);
    expect(guard('http://127.0.0.1:6379/')).toBe(false);
    expect(guard('https://sw-media-1101.storage.yandexcloud.net/f')).toBe(true);
  });

  it('ignores an entry it cannot read', () => {
    expect(parseHostEntry('host:port')).toBeUndefined();
    expect(parseHostEntry(' ')).toBeUndefined();
    expect(allowed(['host:abc'], 'https://host/f')).toBe(false);
  });
});
