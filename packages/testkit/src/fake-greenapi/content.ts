import { createCipheriv, createHash } from 'node:crypto';

const CHUNK = 64 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

/**
 * Deterministic pseudo-random bytes: the AES-128-CTR keystream for a key derived from `seed`.
 * Fast (hardware AES), reproducible across runs, and produced chunk by chunk so big files
 * are never held in memory.
 */
export function* generatedChunks(seed: string, size: number): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  for (let left = size; left > 0; left -= CHUNK) {
    yield cipher.update(left >= CHUNK ? ZEROS : ZEROS.subarray(0, left));
  }
}

export function sha256Hex(chunks: Iterable<Buffer>): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}
