import { z } from 'zod';
import { idInstanceSchema, instanceKindSchema, type InstanceKind } from '@archiver/greenapi';
import type { Env } from './config.js';
import { retentionDaysOf } from './deadline.js';

/** One entry of GREEN_API_INSTANCES (README.md, Configuration). */
export const instanceSchema = z.object({
  idInstance: idInstanceSchema,
  apiTokenInstance: z.string().min(1),
  apiUrl: z.url(),
  mediaUrl: z.url().optional(),
  webhookToken: z.string().min(1).optional(),
  /** When given, wins over the webhook's typeInstance. */
  kind: instanceKindSchema.optional(),
  downloadRps: z.number().positive().optional(),
  retentionDays: z.number().positive().optional(),
  delivery: z.enum(['webhook', 'poll']).default('webhook'),
});

export type InstanceConfig = z.output<typeof instanceSchema>;

/**
 * GREEN_API_INSTANCES (JSON or `@file`) or the single-instance variables. Problems are
 * appended to `problems` without ever quoting a token.
 */
export function parseInstances(
  e: Env,
  readFile: (path: string) => string,
  problems: string[],
): InstanceConfig[] {
  const instances: InstanceConfig[] = [];
  if (e.GREEN_API_INSTANCES) {
    const raw = readInstancesSource(e.GREEN_API_INSTANCES, readFile, problems);
    if (raw !== undefined) {
      const parsed = z.array(instanceSchema).safeParse(raw);
      if (parsed.success) instances.push(...parsed.data);
      else {
        for (const issue of parsed.error.issues) {
          problems.push(`GREEN_API_INSTANCES[${issue.path.join('.')}]: ${issue.message}`);
        }
      }
    }
  }
  if (e.GREEN_API_ID_INSTANCE || e.GREEN_API_TOKEN) {
    if (!e.GREEN_API_ID_INSTANCE || !e.GREEN_API_TOKEN) {
      problems.push(
        'GREEN_API_ID_INSTANCE and GREEN_API_TOKEN: set both for the single-instance form',
      );
    } else {
      instances.push({
        idInstance: e.GREEN_API_ID_INSTANCE,
        apiTokenInstance: e.GREEN_API_TOKEN,
        apiUrl: e.GREEN_API_URL,
        webhookToken: e.WEBHOOK_TOKEN,
        delivery: 'webhook',
      });
    }
  }
  const seen = new Set<string>();
  for (const instance of instances) {
    if (seen.has(instance.idInstance)) {
      problems.push(`GREEN_API_INSTANCES: idInstance ${instance.idInstance} appears twice`);
    }
    seen.add(instance.idInstance);
    instance.webhookToken ??= e.WEBHOOK_TOKEN;
  }
  return instances;
}

function readInstancesSource(
  value: string,
  readFile: (path: string) => string,
  problems: string[],
): unknown {
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFile(value.slice(1));
    } catch (err) {
      problems.push(
        `GREEN_API_INSTANCES: cannot read ${value.slice(1)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
      return undefined;
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The text holds tokens: never echo it.
    problems.push('GREEN_API_INSTANCES: not valid JSON');
    return undefined;
  }
}

/** Per-instance downloadFile budget: its own setting, else DOWNLOAD_RPS, else by kind. */
export function downloadRpsFor(
  instance: Pick<InstanceConfig, 'downloadRps'>,
  kind: InstanceKind,
  fallback?: number,
): number {
  return instance.downloadRps ?? fallback ?? (kind === 'max' ? 1 : 5);
}

export function instanceMap(instances: InstanceConfig[]): Map<string, InstanceConfig> {
  return new Map(instances.map((i) => [i.idInstance, i]));
}

/** The retention window of a job's instance (retentionDaysOf), looked up by its idInstance. */
export function retentionResolver(instances: Map<string, InstanceConfig>, fallbackDays: number) {
  return (job: { idInstance: string }): number =>
    retentionDaysOf(instances.get(job.idInstance), fallbackDays);
}
