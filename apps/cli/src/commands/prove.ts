import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { custodyKeys, proveKey, type CustodyProof } from '@archiver/custody';
import { HELP_OPTION, UsageError, parseCommandArgs } from '../args.js';
import { custodyStoreOf } from '../custody-deps.js';
import { EXIT, writeJson, type Command } from './command.js';

const HELP = `Usage: archiver prove KEY [--out DIR]

Prints, as JSON, the custody proof of the object at KEY (its full S3 key): its latest
entry, the entry's Merkle path to the root of the seal that lists it, and that seal's signed
statement and signature. docs/custody.md shows how to check it by hand with sha256sum and
openssl and the public key alone. Exit code 1 when the object is not sealed (yet).

Options:
  --out DIR    also write the proof as files for that check: entry.json, path.txt,
               statement.json, signature.bin, root.txt and the whole seal, seal.json
  -h, --help   this help
`;

export function writeProofFiles(dir: string, proof: CustodyProof, sealBytes: Buffer): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'entry.json'), proof.entry);
  writeFileSync(join(dir, 'path.txt'), proof.path.map((s) => `${s.side} ${s.hash}\n`).join(''));
  writeFileSync(join(dir, 'statement.json'), proof.seal.statement);
  writeFileSync(join(dir, 'signature.bin'), Buffer.from(proof.seal.signature, 'base64'));
  writeFileSync(join(dir, 'root.txt'), `${proof.root}\n`);
  writeFileSync(join(dir, 'seal.json'), sealBytes);
}

export const proveCommand: Command = {
  name: 'prove',
  summary: "print an object's custody entry, its Merkle path and its seal",
  help: HELP,
  parse(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { ...HELP_OPTION, out: { type: 'string' } },
      true,
    );
    if (values.help) return 'help';
    const [key, ...extra] = positionals;
    if (!key || extra.length > 0) throw new UsageError('expected exactly one KEY');
    return async (deps) => {
      const result = await proveKey({
        store: custodyStoreOf(deps),
        redis: deps.redis,
        keys: custodyKeys(deps.config.queuePrefix),
        key,
      });
      if (result.status === 'pending') {
        deps.err.write(`${key}: recorded ${result.entry.time}, not sealed yet\n`);
        return EXIT.findings;
      }
      if (result.status === 'unknown') {
        deps.err.write(`${key}: in no seal and not waiting to be sealed\n`);
        return EXIT.findings;
      }
      writeJson(deps, result.proof);
      if (values.out) writeProofFiles(values.out, result.proof, result.sealBytes);
      return EXIT.ok;
    };
  },
};
