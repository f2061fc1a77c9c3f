// Short versions of `pnpm chaos` for the CI suite: Redis restarted mid-run (AOF on), S3
// unreachable for a few seconds, Green-API answering 500 to 30% of calls. Webhooks go through
// the real receiver over HTTP; the audit checks 0 lost, 0 duplicates, 0 partial objects, 0
// dangling multipart uploads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SHORT,
  runScenario,
  startChaosEnv,
  type ChaosEnv,
  type ScenarioName,
} from '../../chaos/src/index.js';

let env: ChaosEnv;
beforeAll(async () => {
  env = await startChaosEnv();
});
afterAll(async () => {
  await env?.close();
});

const TEST_TIMEOUT_MS = SHORT.timeoutMs + 15_000;

const cases: Array<[ScenarioName, string]> = [
  ['redis-restart', 'Redis restarted mid-run'],
  ['s3-outage', 'S3 unreachable for a while'],
  ['greenapi-500', 'Green-API answering 500 to 30% of calls'],
];

describe('chaos (short): service faults', () => {
  it.each(cases)(
    '%s: %s loses, duplicates and corrupts nothing',
    async (name) => {
      const verdict = await runScenario(env, name, SHORT);
      expect(verdict.problems).toEqual([]);
      expect(verdict.audit?.archived).toBe(SHORT.files);
    },
    TEST_TIMEOUT_MS,
  );
});
