import {
  createRateLimiter,
  forEachLimit,
  type InstanceConfig,
  type SettingsPlan,
} from '@archiver/core';
import { createGreenApiClient } from '@archiver/greenapi';
import { HELP_OPTION, instanceId, parseCommandArgs, positiveInt, UsageError } from '../args.js';
import { connectInstance, type ConnectResult } from '../connect.js';
import { keysOf, type CliDeps } from '../deps.js';
import { formatTable } from '../format.js';
import { EXIT, writeJson, type Command } from './command.js';

const DEFAULT_WAIT_SECONDS = 420;
const DEFAULT_PARALLEL = 8;
// The state and settings methods allow 1 request/s each: looking more often only earns 429s.
const POLL_MS = 1000;

const HELP = `Usage: archiver instances connect (--instance ID | --all) [--url URL] [--dry-run]
                                 [--wait SECONDS] [--parallel N] [--json]

Points Green-API instances at this archiver through SetSettings: the webhook URL, the
instance's webhook token (webhookUrlToken) and every webhook the archive needs (incoming,
outgoing, outgoing API, statuses of sent messages, edits, deletions, polls, incoming and
outgoing calls, authorisation changes). Every other setting is left as it was. An instance
whose delivery is "poll" gets an empty webhook URL instead (Green-API serves polling or
webhooks, never both).

It reads GetSettings first and prints what will change (tokens masked). SetSettings REBOOTS
the instance: for a while it neither sends nor receives, and the settings apply within about
5 minutes. The command waits for getStateInstance to say "authorized" again and confirms
with GetSettings. An instance with nothing to change is not touched, so running it twice
changes nothing the second time.

Options:
  --instance ID   one configured instance
  --all           every configured instance
  --url URL       the receiver's webhook URL, e.g. https://archiver.example.com/webhooks/green-api
                  (default: WEBHOOK_URL)
  --dry-run       show what would change; change nothing
  --wait SECONDS  longest wait per instance for the reboot and the apply (default ${DEFAULT_WAIT_SECONDS})
  --parallel N    instances handled at once with --all (default ${DEFAULT_PARALLEL})
  --json          print the results as JSON
  -h, --help      this help

Exit codes: 0 every instance connected (or, with --dry-run, shown); 1 some instance could
not be connected or confirmed (see its line); 2 usage or configuration error.
`;

/** The webhook URL to set: http(s), no credentials in it. */
function webhookUrlOf(value: string | undefined): string {
  if (value === undefined) {
    throw new UsageError("--url is required (or set WEBHOOK_URL): the receiver's webhook URL");
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--url: not a URL: "${value}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError('--url: must be an https:// URL');
  }
  if (url.username || url.password) {
    throw new UsageError('--url: must not carry credentials; the webhook token authenticates');
  }
  return value;
}

export const instancesCommand: Command = {
  name: 'instances',
  summary: 'instances connect: point Green-API instances at this archiver (SetSettings)',
  help: HELP,
  parse(argv) {
    const [sub, ...rest] = argv;
    if (sub === '--help' || sub === '-h' || sub === undefined) return 'help';
    if (sub !== 'connect') throw new UsageError(`unknown subcommand "${sub}" (expected connect)`);
    const { values } = parseCommandArgs(rest, {
      ...HELP_OPTION,
      instance: { type: 'string' },
      all: { type: 'boolean' },
      url: { type: 'string' },
      'dry-run': { type: 'boolean' },
      wait: { type: 'string' },
      parallel: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) return 'help';
    const only = instanceId('instance', values.instance);
    if ((only === undefined) === (values.all !== true)) {
      throw new UsageError('give either --instance ID or --all');
    }
    const waitMs = (positiveInt('wait', values.wait) ?? DEFAULT_WAIT_SECONDS) * 1000;
    const parallel = positiveInt('parallel', values.parallel) ?? DEFAULT_PARALLEL;
    const dryRun = values['dry-run'] === true;
    return async (deps) => {
      const webhookUrl = webhookUrlOf(values.url ?? deps.config.webhookUrl);
      const instances = selectInstances(deps, only);
      if (!dryRun) {
        deps.err.write(
          'SetSettings reboots each instance it changes: for a while it neither sends nor\n' +
            'receives, and the settings apply within about 5 minutes.\n',
        );
      }
      const results = await connectAll(deps, instances, { webhookUrl, dryRun, waitMs, parallel });
      if (values.json) writeJson(deps, results);
      else deps.out.write(formatSummary(results, dryRun));
      return results.some((r) => r.outcome === 'failed') ? EXIT.findings : EXIT.ok;
    };
  },
};

function selectInstances(deps: CliDeps, only: string | undefined): InstanceConfig[] {
  if (only === undefined) return deps.config.instances;
  const instance = deps.config.instances.find((i) => i.idInstance === only);
  if (!instance) throw new UsageError(`--instance: ${only} is not a configured instance`);
  return [instance];
}

async function connectAll(
  deps: CliDeps,
  instances: InstanceConfig[],
  opts: { webhookUrl: string; dryRun: boolean; waitMs: number; parallel: number },
): Promise<ConnectResult[]> {
  const limiter = createRateLimiter(deps.redis, keysOf(deps.config));
  const results: ConnectResult[] = [];
  await forEachLimit(instances.entries(), opts.parallel, async ([index, instance]) => {
    const client = createGreenApiClient({ ...instance, kind: instance.kind ?? 'whatsapp' });
    const result = await connectInstance(
      instance,
      { ...opts, pollMs: POLL_MS },
      { client, limiter, say: (line) => deps.err.write(`${line}\n`) },
    );
    results[index] = result;
    // Each instance's block in one write, so parallel instances do not interleave.
    deps.out.write(formatResult(result, opts.dryRun));
  });
  return results;
}

export function formatPlan(plan: SettingsPlan): string {
  return formatTable(
    plan.changes.map((c) => [c.field, c.from, '→', c.to]),
    '    ',
  );
}

export function formatResult(r: ConnectResult, dryRun: boolean): string {
  const head = `instance ${r.idInstance}: `;
  switch (r.outcome) {
    case 'unchanged':
      return `${head}connected already; nothing to change\n`;
    case 'planned':
      return `${head}would change (dry run):\n${formatPlan(r.plan)}\n`;
    case 'connected':
      return `${head}changed, rebooted and confirmed by getSettings (${Math.round(r.waitedMs / 1000)} s):\n${formatPlan(r.plan)}\n`;
    case 'failed':
      return `${head}NOT connected (${r.reason}): ${r.detail}${dryRun ? '' : ''}\n${r.plan ? `${formatPlan(r.plan)}\n` : ''}`;
  }
}

function formatSummary(results: ConnectResult[], dryRun: boolean): string {
  const count = (o: ConnectResult['outcome']) => results.filter((r) => r.outcome === o).length;
  const parts = dryRun
    ? [`${count('planned')} to change`, `${count('unchanged')} connected already`]
    : [`${count('connected')} connected now`, `${count('unchanged')} connected already`];
  parts.push(`${count('failed')} failed`);
  return `\n${results.length} instance(s): ${parts.join(', ')}\n`;
}
