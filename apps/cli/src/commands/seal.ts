import { sleep } from '@archiver/core';
import { rescanBucket, sealPending, type SealRun } from '@archiver/custody';
import { HELP_OPTION, parseCommandArgs, positiveInt } from '../args.js';
import { sealerDepsOf, signerOf } from '../custody-deps.js';
import type { CliDeps } from '../deps.js';
import { createProgress } from '../progress.js';
import { EXIT, type Command } from './command.js';

const BUSY_WAIT_MS = 120_000;
const BUSY_POLL_MS = 500;

const HELP = `Usage: archiver seal [--rescan [--concurrency N]] | --public-key

Seals the custody entries waiting in Redis now (the worker does it every half
SEAL_INTERVAL_MINUTES): a signed seal under {S3_PREFIX}_custody/seals/ listing them, their
Merkle root and the SHA-256 of the previous seal. Needs SEAL_SIGNING_KEY.

Options:
  --public-key       print the public key of SEAL_SIGNING_KEY (PEM) to publish, and exit
  --rescan           first enter again every object in the bucket that is in no seal and
                     not waiting in Redis (after Redis lost entries); the seal states it
  --concurrency N    objects hashed in parallel by --rescan (default 8)
  -h, --help         this help
`;

/** Waits out another sealer (a worker's periodic seal) rather than failing. */
async function sealWhenFree(deps: CliDeps): Promise<Extract<SealRun, { status: 'done' }>> {
  const sealer = sealerDepsOf(deps);
  const until = Date.now() + BUSY_WAIT_MS;
  for (;;) {
    const run = await sealPending(sealer);
    if (run.status === 'done') return run;
    if (Date.now() > until) throw new Error('another sealer has held the seal lock for 2 minutes');
    await sleep(BUSY_POLL_MS);
  }
}

export const sealCommand: Command = {
  name: 'seal',
  summary: 'seal the custody log now; --public-key prints the key to publish; --rescan',
  help: HELP,
  parse(argv) {
    const { values } = parseCommandArgs(argv, {
      ...HELP_OPTION,
      'public-key': { type: 'boolean' },
      rescan: { type: 'boolean' },
      concurrency: { type: 'string' },
    });
    if (values.help) return 'help';
    const concurrency = positiveInt('concurrency', values.concurrency) ?? 8;
    return async (deps) => {
      if (values['public-key']) {
        deps.out.write(signerOf(deps).publicKeyPem);
        return EXIT.ok;
      }
      if (values.rescan) {
        const sealer = sealerDepsOf(deps);
        const progress = createProgress(deps.err, 'rescanning');
        const note = await rescanBucket({
          s3: deps.s3,
          store: sealer.store,
          redis: deps.redis,
          keys: sealer.keys,
          signer: sealer.signer,
          concurrency,
          progress: (p) => progress.update({ done: p.done, note: p.phase }),
        });
        progress.finish();
        deps.out.write(
          `Rescan: ${note.objectsListed} objects in the bucket, ${note.entries} in no seal entered again\n`,
        );
      }
      const run = await sealWhenFree(deps);
      for (const seq of run.adopted) {
        deps.out.write(`Took over seal ${seq} (stored by a sealer that stopped)\n`);
      }
      for (const s of run.sealed) {
        const notes = [
          s.rescan ? `states a rescan: ${s.rescan.entries} entries rebuilt` : '',
          s.headFromBucket ? 'states that the chain head was taken from the bucket' : '',
        ].filter(Boolean);
        deps.out.write(
          `Sealed seal ${s.seq}: ${s.count} entries, root ${s.root}${notes.length ? `; ${notes.join('; ')}` : ''}\n`,
        );
      }
      for (const seq of run.timestamped) deps.out.write(`Timestamped seal ${seq}\n`);
      if (run.sealed.length === 0) deps.out.write('Nothing to seal\n');
      return EXIT.ok;
    };
  },
};
