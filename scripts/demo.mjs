// `npm run demo`: sends demo webhooks through the system `npm run dev` is running and prints
// what was archived where. Runs apps/dev/src/demo.ts from source, as dev.mjs runs dev.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkNode, root, runSource } from './dev.mjs';

checkNode();
if (!existsSync(join(root, 'node_modules', 'tsx', 'package.json'))) {
  process.stderr.write(
    'demo: dependencies are not installed; start the system first with `npm run dev`\n',
  );
  process.exit(1);
}
runSource('apps/dev/src/demo.ts', process.argv.slice(2));
