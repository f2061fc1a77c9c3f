import { createHash, type KeyObject } from 'node:crypto';
import { leafHash, rootFromPath, verifyStatement, type CustodyProof } from '@archiver/custody';
import yauzl from 'yauzl';
import { exportManifestSchema, type ExportManifest } from './manifest.js';

/** One breach the export check found, named for the operator. */
export type ExportFinding =
  | { problem: 'MANIFEST MISSING' | 'MANIFEST INVALID'; detail: string }
  | {
      problem: 'FILE CHANGED' | 'FILE MISSING' | 'FILE NOT IN MANIFEST';
      path: string;
      detail?: string;
    }
  | {
      problem: 'OBJECT UNSEALED' | 'PROOF INVALID' | 'SEAL SIGNATURE';
      key: string;
      detail?: string;
    };

export type ExportVerifyResult = {
  files: number;
  proofs: number;
  findings: ExportFinding[];
  manifest?: ExportManifest;
};

/**
 * Checks an export zip without the bucket: every entry hashes to what `manifest.json` says
 * and the manifest lists every entry; every object's proof holds (its entry names the file's
 * SHA-256 and size, the Merkle path leads to the seal's root, and the seal's statement is
 * signed by `publicKey`). Entries are streamed one at a time.
 */
export async function verifyExport(
  file: string,
  publicKey: KeyObject,
): Promise<ExportVerifyResult> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false });
  try {
    const digests = new Map<string, { sha256: string; size: number }>();
    const proofs = new Map<string, string>();
    let manifestText: string | undefined;
    for await (const entry of entries(zip)) {
      const stream = await zip.openReadStreamPromise(entry);
      const hash = createHash('sha256');
      let size = 0;
      const keep = entry.fileName === 'manifest.json' || entry.fileName.startsWith('proofs/');
      const chunks: Buffer[] = [];
      for await (const chunk of stream) {
        const b = chunk as Buffer;
        hash.update(b);
        size += b.length;
        if (keep) chunks.push(b);
      }
      if (entry.fileName === 'manifest.json') manifestText = Buffer.concat(chunks).toString('utf8');
      else {
        digests.set(entry.fileName, { sha256: hash.digest('hex'), size });
        if (keep) proofs.set(entry.fileName, Buffer.concat(chunks).toString('utf8'));
      }
    }
    return judge(digests, proofs, manifestText, publicKey);
  } finally {
    zip.close();
  }
}

/** The zip's entries one at a time (yauzl's lazy reading: one central-directory record each). */
async function* entries(zip: yauzl.ZipFile): AsyncGenerator<yauzl.Entry> {
  for (;;) {
    const next = new Promise<yauzl.Entry | undefined>((resolve, reject) => {
      const onEntry = (e: yauzl.Entry) => {
        cleanup();
        resolve(e);
      };
      const onEnd = () => {
        cleanup();
        resolve(undefined);
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      const cleanup = () => {
        zip.off('entry', onEntry);
        zip.off('end', onEnd);
        zip.off('error', onError);
      };
      zip.on('entry', onEntry);
      zip.on('end', onEnd);
      zip.on('error', onError);
    });
    zip.readEntry();
    const e = await next;
    if (!e) return;
    yield e;
  }
}

function judge(
  digests: Map<string, { sha256: string; size: number }>,
  proofs: Map<string, string>,
  manifestText: string | undefined,
  publicKey: KeyObject,
): ExportVerifyResult {
  const findings: ExportFinding[] = [];
  if (manifestText === undefined) {
    return {
      files: digests.size,
      proofs: 0,
      findings: [{ problem: 'MANIFEST MISSING', detail: 'no manifest.json in the zip' }],
    };
  }
  const parsed = exportManifestSchema.safeParse(safeJson(manifestText));
  if (!parsed.success) {
    return {
      files: digests.size,
      proofs: 0,
      findings: [{ problem: 'MANIFEST INVALID', detail: parsed.error.message }],
    };
  }
  const manifest = parsed.data;
  const listed = new Set<string>();
  for (const f of manifest.files) {
    listed.add(f.path);
    const d = digests.get(f.path);
    if (!d) findings.push({ problem: 'FILE MISSING', path: f.path });
    else if (d.sha256 !== f.sha256 || d.size !== f.size) {
      findings.push({
        problem: 'FILE CHANGED',
        path: f.path,
        detail: `manifest ${f.sha256} (${f.size} B), zip ${d.sha256} (${d.size} B)`,
      });
    }
  }
  for (const path of digests.keys()) {
    if (!listed.has(path)) findings.push({ problem: 'FILE NOT IN MANIFEST', path });
  }

  let proved = 0;
  for (const o of manifest.objects) {
    if (!o.proof) {
      findings.push({
        problem: 'OBJECT UNSEALED',
        key: o.key,
        detail: 'not sealed when exported: no proof',
      });
      continue;
    }
    const text = proofs.get(o.proof);
    const proof = text === undefined ? undefined : (safeJson(text) as CustodyProof | undefined);
    if (!proof || proof.key !== o.key) {
      findings.push({
        problem: 'PROOF INVALID',
        key: o.key,
        detail: `no readable proof at ${o.proof}`,
      });
      continue;
    }
    const d = digests.get(o.path);
    const entry = safeJson(proof.entry) as
      { sha256?: string; size?: number; key?: string } | undefined;
    if (!d || !entry || entry.key !== o.key || entry.sha256 !== d.sha256 || entry.size !== d.size) {
      findings.push({
        problem: 'PROOF INVALID',
        key: o.key,
        detail: 'the sealed entry does not name these bytes',
      });
      continue;
    }
    const root = rootFromPath(leafHash(proof.entry), proof.path).toString('hex');
    const statement = safeJson(proof.seal.statement) as { root?: string } | undefined;
    if (root !== proof.root || statement?.root !== root) {
      findings.push({
        problem: 'PROOF INVALID',
        key: o.key,
        detail: `the Merkle path does not lead to seal ${proof.seal.seq}'s root`,
      });
      continue;
    }
    if (!verifyStatement(publicKey, proof.seal.statement, proof.seal.signature)) {
      findings.push({
        problem: 'SEAL SIGNATURE',
        key: o.key,
        detail: `seal ${proof.seal.seq} is not signed by this key`,
      });
      continue;
    }
    proved += 1;
  }
  return { files: digests.size, proofs: proved, findings, manifest };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function describeExportFinding(f: ExportFinding): string {
  const where = 'path' in f ? f.path : 'key' in f ? f.key : '';
  return `${f.problem}${where ? ` ${where}` : ''}${f.detail ? `: ${f.detail}` : ''}`;
}
