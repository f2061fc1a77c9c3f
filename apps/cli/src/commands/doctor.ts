import {
  INSTANCE_CHECKS,
  checkInstance,
  createLastSeen,
  createRateLimiter,
  forEachLimit,
  problemsOf,
  type InstanceReport,
} from '@archiver/core';
import { createGreenApiClient } from '@archiver/greenapi';
import { HELP_OPTION, instanceId, parseCommandArgs, positiveInt, UsageError } from '../args.js';
import { keysOf, type CliDeps } from '../deps.js';
import { formatTable } from '../format.js';
import { EXIT, writeJson, type Command } from './command.js';

const DEFAULT_PARALLEL = 16;

const HELP = `Usage: archiver doctor [--instance ID] [--url URL] [--parallel N] [--json]

Checks each configured instance (or one) and prints one table:
  authorized     getStateInstance says authorized
  webhook_url    its webhook URL is this archiver's (--url, default WEBHOOK_URL; without
                 either only "set at all" is checked); empty for an instance that is polled
  webhook_token  it sends the instance's webhook token
  settings       every webhook the archive needs is on (see archiver instances connect)
  journals       lastIncomingMessages and lastOutgoingMessages answer (backfill needs them)
  webhooks       no message of the last hour's journals arrived without its webhook
Every failed check is listed below the table with what to run or do. Calls share each
instance's rate budget (1 request/s per method) with the workers.

Options:
  --instance ID  one configured instance
  --url URL      the webhook URL the instances should have (default WEBHOOK_URL)
  --parallel N   instances checked at once (default ${DEFAULT_PARALLEL})
  --json         the reports as JSON
  -h, --help     this help

Exit codes: 0 every check passed; 1 some check failed; 2 usage or configuration error.
`;

export async function runDoctor(
  deps: CliDeps,
  opts: { only?: string; webhookUrl?: string; parallel: number },
): Promise<InstanceReport[]> {
  const instances =
    opts.only === undefined
      ? deps.config.instances
      : deps.config.instances.filter((i) => i.idInstance === opts.only);
  if (instances.length === 0) throw new UsageError(`--instance: ${opts.only} is not configured`);
  const keys = keysOf(deps.config);
  const limiter = createRateLimiter(deps.redis, keys);
  const seen = await createLastSeen(deps.redis, keys).read(instances.map((i) => i.idInstance));
  const reports: InstanceReport[] = [];
  await forEachLimit(instances.entries(), opts.parallel, async ([index, instance]) => {
    reports[index] = await checkInstance(instance, {
      client: createGreenApiClient({ ...instance, kind: instance.kind ?? 'whatsapp' }),
      limiter,
      lastSeenAt: seen.get(instance.idInstance),
      webhookUrl: opts.webhookUrl,
    });
  });
  return reports;
}

export function formatDoctor(reports: InstanceReport[]): string {
  const rows = reports.map((r) => [
    r.idInstance,
    ...INSTANCE_CHECKS.map((check) =>
      r.results.find((x) => x.check === check)?.ok ? 'ok' : 'FAIL',
    ),
  ]);
  const lines = [formatTable([['instance', ...INSTANCE_CHECKS], ...rows])];
  const failed = reports.flatMap((r) => problemsOf(r).map((p) => ({ id: r.idInstance, ...p })));
  if (failed.length === 0) {
    lines.push('', `All ${reports.length} instance(s) ready.`);
  } else {
    lines.push('', 'Problems:');
    for (const p of failed) {
      lines.push(`  ${p.id} ${p.check}: ${p.detail}`, `      fix: ${p.fix ?? '—'}`);
    }
    const bad = new Set(failed.map((p) => p.id)).size;
    lines.push('', `${bad} of ${reports.length} instance(s) not ready.`);
  }
  return `${lines.join('\n')}\n`;
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check each instance: authorised, webhooks aimed here, settings on, webhooks arriving',
  help: HELP,
  parse(argv) {
    const { values } = parseCommandArgs(argv, {
      ...HELP_OPTION,
      instance: { type: 'string' },
      url: { type: 'string' },
      parallel: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) return 'help';
    const only = instanceId('instance', values.instance);
    const parallel = positiveInt('parallel', values.parallel) ?? DEFAULT_PARALLEL;
    return async (deps) => {
      const webhookUrl = values.url ?? deps.config.webhookUrl;
      const reports = await runDoctor(deps, { only, webhookUrl, parallel });
      if (values.json) writeJson(deps, reports);
      else deps.out.write(formatDoctor(reports));
      return reports.some((r) => problemsOf(r).length > 0) ? EXIT.findings : EXIT.ok;
    };
  },
};
