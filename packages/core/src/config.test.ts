import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const worker = {
  S3_BUCKET: 'archive',
  GREEN_API_ID_INSTANCE: '1101000001',
  GREEN_API_TOKEN: 'tok-secret',
};

function problems(env: Record<string, string>, role: Parameters<typeof loadConfig>[1]): string[] {
  try {
    loadConfig(env, role);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(worker, 'worker');
    expect(config).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'archiver',
      port: 3000,
      metricsPort: 9464,
      pollerMetricsPort: 9465,
      workerConcurrency: 16,
      retentionDays: 15,
      retry: { baseDelayMs: 5000, maxDelayMs: 3_600_000 },
      quarantineMax: 10_000,
      quarantineMaxBytes: 64 * 1024 * 1024,
      backfill: { intervalMinutes: 30, windowMinutes: 1440 },
      logLevel: 'info',
      s3: {
        bucket: 'archive',
        prefix: '',
        region: 'us-east-1',
        forcePathStyle: false,
        holdRefreshMs: 30_000,
      },
    });
    expect(config.instances).toEqual([
      {
        idInstance: '1101000001',
        apiTokenInstance: 'tok-secret',
        apiUrl: 'https://api.green-api.com',
        delivery: 'webhook',
        webhookToken: undefined,
      },
    ]);
    expect(config.downloadHosts).toEqual([
      '*.storage.yandexcloud.net',
      'i.oneme.ru',
      'api.green-api.com:443',
    ]);
  });

  it('gives a worker and a poller started from one env file different ports', () => {
    const env = { ...worker };
    const workerPort = loadConfig(env, 'worker').metricsPort;
    const pollerPort = loadConfig(env, 'poller').pollerMetricsPort;
    expect([workerPort, pollerPort]).toEqual([9464, 9465]);
    const moved = { ...env, METRICS_PORT: '9100', POLLER_METRICS_PORT: '9101' };
    expect(loadConfig(moved, 'worker').metricsPort).toBe(9100);
    expect(loadConfig(moved, 'poller').pollerMetricsPort).toBe(9101);
  });

  it('makes the dashboard read-only unless ADMIN_READ_ONLY=false', () => {
    const admin = { ...worker, ADMIN_USER: 'ops', ADMIN_PASSWORD: 'dashboard-password-1f2e' };
    expect(loadConfig(admin, 'worker').admin?.readOnly).toBe(true);
    expect(loadConfig({ ...admin, ADMIN_READ_ONLY: 'false' }, 'worker').admin?.readOnly).toBe(
      false,
    );
  });

  it('refuses a receiver without a token unless explicitly allowed', () => {
    expect(problems({}, 'receiver')[0]).toMatch(/^WEBHOOK_TOKEN: required/);
    expect(
      loadConfig({ ALLOW_UNAUTHENTICATED_WEBHOOKS: 'true' }, 'receiver')
        .allowUnauthenticatedWebhooks,
    ).toBe(true);
    const token = 'webhook-token-5f0c9e2b';
    expect(loadConfig({ WEBHOOK_TOKEN: token }, 'receiver').webhookToken).toBe(token);
  });

  it('refuses a Green-API URL that is not https, unless it is loopback or allowed', () => {
    const instances = (apiUrl: string, mediaUrl?: string) => ({
      ...worker,
      GREEN_API_ID_INSTANCE: '',
      GREEN_API_TOKEN: '',
      GREEN_API_INSTANCES: JSON.stringify([
        { idInstance: '1101000001', apiTokenInstance: 'api-token-x', apiUrl, mediaUrl },
      ]),
    });
    expect(problems(instances('http://1101.api.green-api.com'), 'worker')).toEqual([
      expect.stringMatching(/^GREEN_API_INSTANCES\[0\]\.apiUrl: must be https:\/\//),
    ]);
    expect(
      problems(instances('https://1101.api.green-api.com', 'http://media.example'), 'worker'),
    ).toEqual([expect.stringMatching(/^GREEN_API_INSTANCES\[0\]\.mediaUrl: must be https/)]);
    expect(problems({ ...worker, GREEN_API_URL: 'http://10.0.0.5:8080' }, 'worker')).toEqual([
      expect.stringMatching(/^GREEN_API_URL: must be https/),
    ]);
    for (const loopback of ['http://127.0.0.1:3100', 'http://localhost:1', 'http://[::1]:2']) {
      expect(problems(instances(loopback), 'worker')).toEqual([]);
    }
    expect(
      problems({ ...instances('http://green-api.lan'), ALLOW_INSECURE_API_URL: 'true' }, 'worker'),
    ).toEqual([]);
  });

  it('refuses short webhook tokens and dashboard passwords in the receiver', () => {
    expect(problems({ WEBHOOK_TOKEN: 'hook' }, 'receiver')).toEqual([
      'WEBHOOK_TOKEN: must be at least 16 characters (e.g. openssl rand -hex 24)',
    ]);
    const list = JSON.stringify([
      {
        idInstance: '1101000001',
        apiTokenInstance: 'api-token-x',
        apiUrl: 'https://1101.api.green-api.com',
        webhookToken: 'short',
      },
    ]);
    const found = problems(
      {
        GREEN_API_INSTANCES: list,
        ADMIN_USER: 'ops',
        ADMIN_PASSWORD: 'hunter2',
        REVIEW_USER: 'officer',
        REVIEW_PASSWORD: 'letmein',
      },
      'receiver',
    );
    expect(found).toEqual([
      expect.stringMatching(/^GREEN_API_INSTANCES\[0\]\.webhookToken: must be at least 16/),
      expect.stringMatching(/^ADMIN_PASSWORD: must be at least 16/),
      expect.stringMatching(/^REVIEW_PASSWORD: must be at least 16/),
    ]);
    expect(found.join('\n')).not.toMatch(/short|hunter2|letmein/);
    // Without authentication the token does not matter; the dashboard password still does.
    expect(
      problems({ ALLOW_UNAUTHENTICATED_WEBHOOKS: 'true', WEBHOOK_TOKEN: 'hook' }, 'receiver'),
    ).toEqual([]);
    // The worker never checks a webhook token.
    expect(problems({ ...worker, WEBHOOK_TOKEN: 'hook' }, 'worker')).toEqual([]);
  });

  it('refuses the demo credentials outside npm run dev', () => {
    const demo = {
      WEBHOOK_TOKEN: 'demo-webhook-token',
      ADMIN_USER: 'admin',
      ADMIN_PASSWORD: 'demo-password',
      REVIEW_USER: 'officer',
      REVIEW_PASSWORD: 'demo-review-password',
      GREEN_API_ID_INSTANCE: '1101000001',
      GREEN_API_TOKEN: 'demo-api-token',
    };
    expect(problems(demo, 'receiver')).toEqual([
      "GREEN_API_TOKEN: is a demo value; set the instance's real token",
      'WEBHOOK_TOKEN: is a demo value (npm run dev prints it); set your own secret',
      'ADMIN_PASSWORD: is a demo value (npm run dev prints it); set your own secret',
      'REVIEW_PASSWORD: is a demo value (npm run dev prints it); set your own secret',
    ]);
    expect(problems({ ...demo, S3_BUCKET: 'archive' }, 'worker')).toEqual([
      "GREEN_API_TOKEN: is a demo value; set the instance's real token",
    ]);
    expect(loadConfig(demo, 'receiver', { dev: true }).admin?.password).toBe('demo-password');
  });

  it('reads GREEN_API_INSTANCES from JSON or a file, sharing WEBHOOK_TOKEN as the default', () => {
    const list = [
      {
        idInstance: 1101000001,
        apiTokenInstance: 'a',
        apiUrl: 'https://1101.api.green-api.com',
        webhookToken: 'w1',
      },
      {
        idInstance: '3100000000',
        apiTokenInstance: 'b',
        apiUrl: 'https://3100.api.green-api.com',
        kind: 'max',
        downloadRps: 0.5,
      },
    ];
    const env = {
      GREEN_API_INSTANCES: '@/etc/instances.json',
      WEBHOOK_TOKEN: 'shared',
      S3_BUCKET: 'bkt',
    };
    const config = loadConfig(env, 'worker', { readFile: () => JSON.stringify(list) });
    expect(
      config.instances.map((i) => [i.idInstance, i.kind, i.webhookToken, i.downloadRps]),
    ).toEqual([
      ['1101000001', undefined, 'w1', undefined],
      ['3100000000', 'max', 'shared', 0.5],
    ]);
    expect(config.downloadHosts).toContain('3100.api.green-api.com:443');
  });

  it('lists every problem, one line each, without echoing secrets', () => {
    const found = problems(
      {
        PORT: 'eighty',
        LOG_LEVEL: 'loud',
        S3_FORCE_PATH_STYLE: 'maybe',
      },
      'worker',
    );
    expect(found).toEqual([
      expect.stringMatching(/^PORT: /),
      expect.stringMatching(/^S3_FORCE_PATH_STYLE: /),
      expect.stringMatching(/^LOG_LEVEL: /),
    ]);
    const json = problems(
      { GREEN_API_INSTANCES: '[{"apiTokenInstance":"very-secret-token"', S3_BUCKET: 'bkt' },
      'worker',
    );
    expect(json.join('\n')).not.toContain('very-secret-token');
    expect(json[0]).toBe('GREEN_API_INSTANCES: not valid JSON');
    const fields = problems(
      {
        GREEN_API_INSTANCES:
          '[{"idInstance":"x","apiTokenInstance":"very-secret-token","apiUrl":"nope"}]',
      },
      'worker',
    );
    expect(fields).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^GREEN_API_INSTANCES\[0\.idInstance\]/),
        expect.stringMatching(/^GREEN_API_INSTANCES\[0\.apiUrl\]/),
        'S3_BUCKET: required',
      ]),
    );
    expect(fields.join('\n')).not.toContain('very-secret-token');
  });

  it('checks cross-field rules', () => {
    expect(problems({ ...worker, ADMIN_USER: 'ops' }, 'worker')).toEqual([
      expect.stringMatching(/^ADMIN_USER and ADMIN_PASSWORD/),
    ]);
    const halves: Array<Record<string, string>> = [
      { REVIEW_USER: 'officer' },
      { REVIEW_PASSWORD: 'review-password-1' },
    ];
    for (const one of halves) {
      expect(problems({ ...worker, ...one }, 'worker')).toEqual([
        expect.stringMatching(/^REVIEW_USER and REVIEW_PASSWORD: set both/),
      ]);
    }
    expect(problems({ ...worker, S3_OBJECT_LOCK_MODE: 'COMPLIANCE' }, 'worker')).toEqual([
      expect.stringMatching(/^S3_OBJECT_LOCK_DAYS/),
    ]);
    expect(
      problems({ ...worker, GREEN_API_TOKEN: '', GREEN_API_ID_INSTANCE: '1' }, 'worker'),
    ).toEqual(
      expect.arrayContaining([expect.stringMatching(/^GREEN_API_ID_INSTANCE and GREEN_API_TOKEN/)]),
    );
    expect(
      problems({ ...worker, RETRY_BASE_DELAY_MS: '10', RETRY_MAX_DELAY_MS: '5' }, 'worker'),
    ).toEqual([expect.stringMatching(/^RETRY_BASE_DELAY_MS/)]);
  });

  it('on Redis Cluster, insists on a hash-tagged QUEUE_PREFIX', () => {
    expect(problems({ ...worker, REDIS_CLUSTER: 'true' }, 'worker')).toEqual([
      expect.stringMatching(/^QUEUE_PREFIX: must contain a hash tag/),
    ]);
    expect(
      problems({ ...worker, REDIS_CLUSTER: 'true', QUEUE_PREFIX: '{}x' }, 'worker'),
    ).toHaveLength(1);
    const config = loadConfig(
      { ...worker, REDIS_CLUSTER: 'true', QUEUE_PREFIX: '{archiver}' },
      'worker',
    );
    expect(config).toMatchObject({ redisCluster: true, queuePrefix: '{archiver}' });
    expect(loadConfig(worker, 'worker').redisCluster).toBe(false);
  });

  it('reads booleans strictly and treats empty strings as unset', () => {
    expect(
      loadConfig({ ...worker, S3_ENDPOINT: 'http://127.0.0.1:9000' }, 'worker').s3?.forcePathStyle,
    ).toBe(true);
    expect(
      loadConfig(
        { ...worker, S3_ENDPOINT: 'http://127.0.0.1:9000', S3_FORCE_PATH_STYLE: 'false' },
        'worker',
      ).s3?.forcePathStyle,
    ).toBe(false);
    expect(
      loadConfig({ ...worker, WEBHOOK_TOKEN: '', S3_PREFIX: '' }, 'worker').webhookToken,
    ).toBeUndefined();
  });
});
