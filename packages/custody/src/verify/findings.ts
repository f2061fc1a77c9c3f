/** A breach `archiver verify` names; each says which object or seal and what is wrong. */
export type CustodyFinding =
  | { problem: 'seal_missing'; seq: number; detail: string }
  | { problem: 'seal_unreadable'; seq: number; key: string; detail: string }
  | { problem: 'seal_signature'; seq: number; detail: string }
  | { problem: 'seal_root'; seq: number; detail: string }
  | { problem: 'chain_broken'; seq: number; detail: string }
  | { problem: 'object_missing'; key: string; seq: number }
  | {
      problem: 'object_changed';
      key: string;
      seq: number;
      sealed: { sha256: string; size: number; versionId: string | null };
      actual: { sha256: string; size: number; versionId: string | null };
    }
  | {
      problem: 'object_replaced';
      key: string;
      seq: number;
      sealedVersionId: string;
      actualVersionId: string;
    }
  | { problem: 'object_unsealed'; key: string; lastModified: string; sha256: string; size: number }
  | { problem: 'object_error'; key: string; detail: string };

export function describeCustodyFinding(f: CustodyFinding): string {
  switch (f.problem) {
    case 'seal_missing':
      return `SEAL MISSING     seal ${f.seq}: ${f.detail}`;
    case 'seal_unreadable':
      return `SEAL UNREADABLE  seal ${f.seq} (${f.key}): ${f.detail}`;
    case 'seal_signature':
      return `SEAL SIGNATURE   seal ${f.seq}: ${f.detail}`;
    case 'seal_root':
      return `SEAL ALTERED     seal ${f.seq}: ${f.detail}`;
    case 'chain_broken':
      return `CHAIN BROKEN     seal ${f.seq}: ${f.detail}`;
    case 'object_missing':
      return `OBJECT DELETED   ${f.key} (sealed in seal ${f.seq}, not in the bucket)`;
    case 'object_changed': {
      const what = [
        f.sealed.sha256 !== f.actual.sha256
          ? `sha256 ${f.actual.sha256}, sealed ${f.sealed.sha256}`
          : '',
        f.sealed.size !== f.actual.size ? `size ${f.actual.size}, sealed ${f.sealed.size}` : '',
      ].filter(Boolean);
      const kept =
        f.sealed.versionId && f.sealed.versionId !== f.actual.versionId
          ? `; the sealed version ${f.sealed.versionId} may still be read by its id`
          : '';
      return `OBJECT CHANGED   ${f.key} (seal ${f.seq}): ${what.join('; ')}${kept}`;
    }
    case 'object_replaced':
      return `OBJECT REPLACED  ${f.key} (seal ${f.seq}): the bucket serves version ${f.actualVersionId}, sealed ${f.sealedVersionId} (same bytes, written behind the archiver's back)`;
    case 'object_unsealed':
      return `OBJECT UNSEALED  ${f.key} (written ${f.lastModified}, in no seal)`;
    case 'object_error':
      return `OBJECT ERROR     ${f.key}: ${f.detail}`;
  }
}
