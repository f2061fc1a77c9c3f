import type { InstanceConfig } from './instances.js';

/** The shortest webhook token, dashboard or review password start-up accepts. */
export const MIN_SECRET_LENGTH = 16;

/**
 * Credentials printed by `npm run dev` and shipped as examples: public, so never a real
 * deployment's. `apps/dev` uses only values from this list (its test checks), and outside
 * dev start-up refuses every one of them.
 */
export const DEMO_SECRETS: ReadonlySet<string> = new Set([
  'demo-webhook-token',
  'demo-password',
  'demo-review-password',
  'demo-whatsapp-api-token',
  'demo-max-api-token',
  'demo-api-token',
  'admin',
]);

/** The secrets start-up looks at, each with the variable an operator sets it with. */
export type NamedSecrets = {
  webhookToken?: string;
  adminPassword?: string;
  reviewPassword?: string;
  instances: InstanceConfig[];
  /** Where the instances came from: `GREEN_API_INSTANCES`, else the single-instance form. */
  fromInstancesJson: Set<string>;
};

export type RefusalOptions = {
  role: 'receiver' | 'worker' | 'poller' | 'cli';
  /** `npm run dev` only (apps/dev): the demo credentials and short secrets are fine. */
  dev: boolean;
  allowUnauthenticatedWebhooks: boolean;
  allowInsecureApiUrl: boolean;
};

/**
 * What start-up refuses beyond the schema: Green-API URLs that are not https (the
 * apiTokenInstance travels in their path), short or demo secrets. One line per problem,
 * naming the variable and never quoting a secret.
 */
export function securityProblems(secrets: NamedSecrets, opts: RefusalOptions): string[] {
  const problems: string[] = [];
  secrets.instances.forEach((instance, index) => {
    const name = (field: string) =>
      secrets.fromInstancesJson.has(instance.idInstance)
        ? `GREEN_API_INSTANCES[${index}].${field}`
        : field === 'apiUrl'
          ? 'GREEN_API_URL'
          : 'GREEN_API_TOKEN';
    for (const field of ['apiUrl', 'mediaUrl'] as const) {
      const url = instance[field];
      if (url !== undefined && !opts.allowInsecureApiUrl && !isSafeUrl(url)) {
        problems.push(
          `${name(field)}: must be https:// (plain http only to a loopback address, or set ALLOW_INSECURE_API_URL=true): the apiTokenInstance is sent in the path`,
        );
      }
    }
    if (!opts.dev && DEMO_SECRETS.has(instance.apiTokenInstance)) {
      problems.push(`${name('apiTokenInstance')}: is a demo value; set the instance's real token`);
    }
  });
  if (opts.role !== 'receiver') return problems;

  const webhookTokens: Array<[string, string | undefined]> = [
    ['WEBHOOK_TOKEN', secrets.webhookToken],
    ...secrets.instances
      .map((instance, index) => [instance, index] as const)
      .filter(
        ([instance]) =>
          secrets.fromInstancesJson.has(instance.idInstance) &&
          instance.webhookToken !== secrets.webhookToken,
      )
      .map(
        ([instance, index]) =>
          [`GREEN_API_INSTANCES[${index}].webhookToken`, instance.webhookToken] as [
            string,
            string | undefined,
          ],
      ),
  ];
  const checked: Array<[string, string | undefined]> = [
    ...(opts.allowUnauthenticatedWebhooks ? [] : webhookTokens),
    ['ADMIN_PASSWORD', secrets.adminPassword],
    ['REVIEW_PASSWORD', secrets.reviewPassword],
  ];
  for (const [name, value] of checked) {
    if (value === undefined || opts.dev) continue;
    if (DEMO_SECRETS.has(value)) {
      problems.push(`${name}: is a demo value (npm run dev prints it); set your own secret`);
    } else if (value.length < MIN_SECRET_LENGTH) {
      problems.push(
        `${name}: must be at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -hex 24)`,
      );
    }
  }
  return problems;
}

/** https, or plain http to this machine (a local simulator, a test server). */
function isSafeUrl(raw: string): boolean {
  const url = new URL(raw);
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && isLoopback(url.hostname);
}

export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}
