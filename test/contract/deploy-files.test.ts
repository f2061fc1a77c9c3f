import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { envSchema } from '../../packages/core/src/config.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const schemaNames = new Set(Object.keys(envSchema.shape));
/** Read by the AWS SDK, Node or OpenTelemetry themselves, not by the archiver's schema. */
const FOREIGN = new Set([
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
  'AWS_PROFILE',
  'NODE_ENV',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
]);
const APP_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

type Unknown = Record<string, unknown>;

function walk(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? walk(path) : [path];
  });
}

/**
 * Every environment name an archiver container gets: its `env` entries and the keys of the
 * ConfigMaps and Secrets it loads with `envFrom`; and every HTTP probe.
 */
function kubernetesFacts() {
  const docs = walk('infra/kubernetes')
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((file) =>
      parseAllDocuments(read(file)).map((d) => ({ file, obj: d.toJS() as Unknown | null })),
    )
    .filter((d): d is { file: string; obj: Unknown } => d.obj !== null);
  const names = new Map<string, string>();
  const probes: { file: string; path: string; port: unknown; ports: unknown[] }[] = [];
  const envSources = new Set<string>();
  for (const { file, obj } of docs) {
    const containers = (((obj.spec as Unknown)?.template as Unknown)?.spec as Unknown)
      ?.containers as Unknown[] | undefined;
    for (const c of containers ?? []) {
      for (const e of (c.env as Unknown[] | undefined) ?? []) names.set(String(e.name), file);
      for (const from of (c.envFrom as Unknown[] | undefined) ?? []) {
        const ref = (from.configMapRef ?? from.secretRef) as Unknown | undefined;
        if (ref?.name) envSources.add(String(ref.name));
      }
      const ports = ((c.ports as Unknown[] | undefined) ?? []).flatMap((p) => [
        p.name,
        p.containerPort,
      ]);
      for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        const probe = (c[kind] as Unknown | undefined)?.httpGet as Unknown | undefined;
        if (probe) probes.push({ file, path: String(probe.path), port: probe.port, ports });
      }
    }
  }
  for (const { file, obj } of docs) {
    if (
      (obj.kind === 'ConfigMap' || obj.kind === 'Secret') &&
      envSources.has(String((obj.metadata as Unknown)?.name))
    ) {
      for (const key of Object.keys({ ...(obj.data as Unknown), ...(obj.stringData as Unknown) })) {
        names.set(key, file);
      }
    }
  }
  return { names, probes, envSources };
}

describe('deployment files speak the configuration contract', () => {
  it('docker-compose.yml uses only names the config schema accepts', () => {
    const compose = parse(read('docker-compose.yml')) as {
      services: Record<string, { environment?: Record<string, unknown> | string[] }>;
    };
    const used: string[] = [];
    for (const name of ['receiver', 'worker', 'poller']) {
      const env = compose.services[name]?.environment;
      if (!env) continue;
      used.push(
        ...(Array.isArray(env) ? env.map((e) => e.split('=')[0] as string) : Object.keys(env)),
      );
    }
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((n) => !schemaNames.has(n) && !FOREIGN.has(n))).toEqual([]);
  });

  it('the Kubernetes manifests use only schema names, and probe real routes on declared ports', () => {
    const { names, probes, envSources } = kubernetesFacts();
    expect(envSources.size).toBeGreaterThan(0);
    expect(names.size).toBeGreaterThan(10);
    expect([...names.keys()].filter((n) => !schemaNames.has(n) && !FOREIGN.has(n))).toEqual([]);
    expect(probes.length).toBeGreaterThanOrEqual(4);
    for (const probe of probes) {
      expect(APP_PATHS, `${probe.file}: ${probe.path}`).toContain(probe.path);
      expect(probe.ports, `${probe.file}: probe port ${String(probe.port)}`).toContain(probe.port);
    }
  });

  it('the README documents every variable of the schema, and no other', () => {
    const readme = read('README.md');
    const table = readme.split('\n').filter((line) => /^\| `[A-Z][A-Z0-9_]+`/.test(line));
    const documented = new Set(
      table.flatMap((line) =>
        [...(line.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1] as string),
      ),
    );
    expect([...schemaNames].filter((n) => !documented.has(n))).toEqual([]);
    expect([...documented].filter((n) => !schemaNames.has(n) && !FOREIGN.has(n))).toEqual([]);
  });

  it("compose health checks of the archiver's services and the image's probe real routes", () => {
    const compose = parse(read('docker-compose.yml')) as {
      services: Record<string, { healthcheck?: unknown }>;
    };
    const checks = ['receiver', 'worker', 'poller'].map((name) =>
      JSON.stringify(compose.services[name]?.healthcheck ?? ''),
    );
    const text = `${checks.join('\n')}\n${read('Dockerfile')}\n${read('infra/docker/healthcheck.mjs')}`;
    const paths = [...text.matchAll(/\/(healthz|readyz|livez|health|ready)\b/g)].map(
      (m) => `/${m[1]}`,
    );
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => !APP_PATHS.has(p))).toEqual([]);
  });

  it('declares the supported Node versions, which include the one running this suite', () => {
    const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe('>=20.19.0 <25');
    const [major] = process.versions.node.split('.').map(Number);
    expect(major).toBeGreaterThanOrEqual(20);
    expect(read('Dockerfile')).toMatch(/node:24/);
  });

  const terraform = spawnSync('terraform', ['version'], { encoding: 'utf8' }).status === 0;
  it.runIf(terraform)('terraform fmt -check passes', () => {
    const out = execFileSync('terraform', ['fmt', '-check', '-recursive', 'infra/terraform'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(out).toBe('');
    expect(
      walk('infra/terraform')
        .filter((f) => f.endsWith('.tf'))
        .map((f) => relative('infra/terraform', f)),
    ).toContain('main.tf');
  });
});
