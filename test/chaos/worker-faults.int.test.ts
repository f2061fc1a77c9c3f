// Short versions of `pnpm chaos` for the CI suite: worker processes killed with SIGKILL, and two
// worker processes sharing a queue. Webhooks go through the real receiver over HTTP; the audit
// checks 0 lost, 0 duplicates, 0 partial objects, 0 dangling multipart uploads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHORT, runScenario, startChaosEnv, type ChaosEnv } from '../../chaos/src/index.js';

let env: ChaosEnv;
beforeAll(async () => {
  env = await startChaosEnv();
});
afterAll(async () => {
  await env?.close();
});

// The scenario bounds itself at SHORT.timeoutMs and always returns a verdict.
const TEST_TIMEOUT_MS = SHORT.timeoutMs + 15_000;

describe('chaos (short): worker faults', () => {
  it(
    'a worker killed with SIGKILL mid-run loses, duplicates and corrupts nothing',
    async () => {
      const verdict = await runScenario(env, 'worker-sigkill', SHORT);
      expect(verdict.problems).toEqual([]);
      expect(verdict.audit?.archived).toBe(SHORT.files);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'two worker processes on one queue archive each file exactly once',
    async () => {
      const verdict = await runScenario(env, 'two-workers', SHORT);
      expect(verdict.problems).toEqual([]);
      expect(verdict.audit?.archived).toBe(SHORT.files);
    },
    TEST_TIMEOUT_MS,
  );
});
