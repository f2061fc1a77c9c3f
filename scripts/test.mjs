// `npm test` on a machine with nothing but Node and npm: installs the workspace if needed
// (as `npm run dev` does), then runs the whole vitest suite. Extra arguments go to vitest.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { checkNode, ensureInstalled, root } from './dev.mjs';

checkNode();
ensureInstalled();
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const result = spawnSync(process.execPath, [vitest, 'run', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
