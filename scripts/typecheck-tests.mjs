// Type-checks the top-level test folders, each of which has its own tsconfig.json.
import { readdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from './dev.mjs';

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
let failed = false;
for (const dir of readdirSync(join(root, 'test'))) {
  const config = join(root, 'test', dir, 'tsconfig.json');
  if (!existsSync(config)) continue;
  const result = spawnSync(process.execPath, [tsc, '-p', config], { cwd: root, stdio: 'inherit' });
  failed ||= result.status !== 0;
}
process.exit(failed ? 1 : 0);
