import { createHash } from 'node:crypto';
import { lineFile, readLines } from './spill.js';

/**
 * `manifest.json` written from the export's spilled lists (one JSON object a line each),
 * one entry a line, and hashed as it is written: memory holds one line, however many
 * objects the export has. Its SHA-256 is known before it goes into the zip (the review
 * page's audit record names it first). The shape is `exportManifestSchema`.
 */
export async function writeManifest(
  file: string,
  parts: { head: Record<string, unknown>; chats: string; files: string; objects: string },
): Promise<string> {
  const out = lineFile(file);
  const hash = createHash('sha256');
  const write = async (line: string) => {
    hash.update(`${line}\n`);
    await out.write(line);
  };
  await write('{');
  for (const [name, value] of Object.entries(parts.head)) {
    await write(` ${JSON.stringify(name)}: ${JSON.stringify(value)},`);
  }
  const lists = [
    ['chats', parts.chats],
    ['files', parts.files],
    ['objects', parts.objects],
  ] as const;
  for (const [n, [name, path]] of lists.entries()) {
    await write(` ${JSON.stringify(name)}: [`);
    let previous: string | undefined;
    for await (const line of readLines(path)) {
      if (previous !== undefined) await write(`  ${previous},`);
      previous = line;
    }
    if (previous !== undefined) await write(`  ${previous}`);
    await write(n === lists.length - 1 ? ' ]' : ' ],');
  }
  await write('}');
  await out.close();
  return hash.digest('hex');
}
