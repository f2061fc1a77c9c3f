// `pnpm chaos [-- --only worker-sigkill,s3-outage] [--short] [--files N]`
// Bounded fault scenarios against real Redis (AOF on), S3 and the fake Green-API; each ends in
// a `PASS scenario: …` / `FAIL scenario: …` line. Exits non-zero if any scenario fails.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { format } from 'prettier';
import {
  FULL,
  SCENARIO_NAMES,
  SHORT,
  runScenario,
  startChaosEnv,
  type ScenarioName,
  type Verdict,
} from './index.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    only: { type: 'string' },
    short: { type: 'boolean', default: false },
    files: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    `usage: pnpm chaos [-- --only ${SCENARIO_NAMES.join(',')}] [--short] [--files N]\n`,
  );
  process.exit(0);
}
const selected = (
  values.only ? values.only.split(',').map((s) => s.trim()) : SCENARIO_NAMES
) as ScenarioName[];
const unknown = selected.filter((name) => !SCENARIO_NAMES.includes(name));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIO_NAMES.join(', ')}\n`,
  );
  process.exit(2);
}
const size = {
  ...(values.short ? SHORT : FULL),
  ...(values.files ? { files: Number(values.files) } : {}),
};
if (!Number.isInteger(size.files) || size.files <= 0) {
  process.stderr.write('--files must be a positive integer\n');
  process.exit(2);
}

const env = await startChaosEnv();
const verdicts: Verdict[] = [];
try {
  for (const name of selected) {
    process.stderr.write(
      `== ${name} (${size.files} files, bounded at ${size.timeoutMs / 1000} s)\n`,
    );
    const verdict = await runScenario(env, name, size);
    verdicts.push(verdict);
    process.stdout.write(`${verdict.line}\n`);
  }
} finally {
  await env.close();
}
const out = fileURLToPath(new URL('../results.json', import.meta.url));
writeFileSync(
  out,
  await format(JSON.stringify({ date: new Date().toISOString(), size, verdicts }, null, 2), {
    parser: 'json',
  }),
);
const failed = verdicts.filter((v) => !v.pass).length;
process.stdout.write(`${verdicts.length - failed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
