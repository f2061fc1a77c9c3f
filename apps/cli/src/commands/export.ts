import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import {
  createCustodyLog,
  custodyKeys,
  custodyRecorder,
  defaultActor,
  writeAuditRecord,
} from '@archiver/custody';
import { writeExport } from '@archiver/export';
import { HELP_OPTION, parseCommandArgs, required } from '../args.js';
import { CHAT_SELECTION_OPTIONS, chatSelection, type ChatSelection } from '../chat-selection.js';
import { custodyStoreOf } from '../custody-deps.js';
import { s3Of, type CliDeps } from '../deps.js';
import { formatBytes } from '../format.js';
import { EXIT, type Command } from './command.js';

const HELP = `Usage: archiver export --instance ID [--chat CHAT] [--since YYYY-MM-DD] [--until YYYY-MM-DD]
                       --out FILE.zip [--actor NAME]

One self-contained zip for a reviewer or a court (docs/export.md): every archived object of
the instance's chats (or one chat) in the day range, an HTML transcript per chat that opens
offline, an RSMF 2.0 file per chat for e-discovery platforms, the custody proof of every
object, and manifest.json with the SHA-256 of every file. Streamed: memory grows neither
with the files' size nor with their number; progress on stderr. The same export twice gives the same bytes but
for the manifest's "created". Check it with: archiver verify --export FILE.zip --public-key KEY.
Every export is written to the audit log (docs/custody.md §6) with who asked.

Options:
  --instance ID      the idInstance, required
  --chat CHAT        only this chatId
  --since DATE       first UTC day (inclusive)
  --until DATE       last UTC day (inclusive)
  --out FILE         the zip to write, required (written beside, then renamed)
  --actor NAME       who asks, for the audit record (default $USER)
  -h, --help         this help
`;

export const exportCommand: Command = {
  name: 'export',
  summary: 'a self-contained zip of chats: files, HTML and RSMF transcripts, custody proofs',
  help: HELP,
  parse(argv) {
    const { values } = parseCommandArgs(argv, {
      ...HELP_OPTION,
      ...CHAT_SELECTION_OPTIONS,
      out: { type: 'string' },
      actor: { type: 'string' },
    });
    if (values.help) return 'help';
    const selection = chatSelection(values);
    const file = required('out', values.out);
    const actor = defaultActor(values.actor);
    return async (deps) => runExport(deps, { selection, file, actor });
  },
};

async function runExport(
  deps: CliDeps,
  opts: {
    selection: ChatSelection;
    file: string;
    actor: string;
  },
): Promise<number> {
  const { bucket, prefix } = s3Of(deps.config);
  const store = custodyStoreOf(deps);
  const keys = custodyKeys(deps.config.queuePrefix);
  const partial = `${opts.file}.partial`;
  const out = createWriteStream(partial);
  let last = 0;
  try {
    const result = await writeExport(
      { s3: deps.s3, bucket, prefix, store, redis: deps.redis, keys },
      opts.selection,
      out,
      (p) => {
        const now = Date.now();
        if (p.phase !== 'done' && now - last < 1000) return;
        last = now;
        deps.err.write(
          `export: ${p.phase} ${p.done}${p.total ? `/${p.total}` : ''}, ${formatBytes(p.bytes)}\n`,
        );
      },
    );
    await finished(out);
    await rename(partial, opts.file);
    await writeAuditRecord(
      {
        store,
        onWritten: deps.config.custody.signingKey
          ? custodyRecorder(createCustodyLog(deps.redis, keys))
          : undefined,
      },
      {
        action: 'export',
        actor: opts.actor,
        selection: opts.selection,
        result: {
          objects: result.objects,
          bytes: result.bytes,
          sha256: result.manifestSha256,
        },
      },
    );
    deps.err.write(
      `export: ${result.files} files, ${result.objects} objects (${formatBytes(result.bytes)}) in ${result.chats} chats to ${opts.file}\n`,
    );
    const { unsealed } = result;
    if (unsealed.count > 0) {
      deps.err.write(
        `export: ${unsealed.count} objects not sealed yet, without proof (run archiver seal first): ${unsealed.first.join(', ')}${unsealed.count > unsealed.first.length ? ', …' : ''}\n`,
      );
    }
    return EXIT.ok;
  } catch (err) {
    out.destroy();
    await rm(partial, { force: true });
    throw err;
  }
}
