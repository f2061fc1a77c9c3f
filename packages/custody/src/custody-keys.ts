/**
 * Redis keys of the custody log, under the queue prefix: with a hash-tagged prefix
 * (`{archiver}`) they share one Redis Cluster slot, so the seal's commit (head + trim) is
 * one MULTI.
 */
export function custodyKeys(queuePrefix: string) {
  const base = `${queuePrefix}:custody`;
  return {
    /** Stream of canonical entries not yet sealed (field `e`), oldest first. */
    entries: `${base}:entries`,
    /** JSON of the last seal stored: `{ seq, sha256, through, time }`. */
    head: `${base}:head`,
    /** The sealer's lock: one seal at a time across worker replicas and the CLI. */
    lock: `${base}:lock`,
    /** JSON of a rescan not yet stated in a seal. */
    rescan: `${base}:rescan`,
    /** Sequence numbers of seals whose RFC 3161 timestamp is still to be fetched. */
    tsaPending: `${base}:tsa-pending`,
  };
}

export type CustodyKeys = ReturnType<typeof custodyKeys>;

/**
 * S3 layout of the custody log. A seal's key is its sequence number, zero-padded so the
 * listing order is the chain's order, which also makes every sequence number writable once.
 */
export function custodyPrefix(s3Prefix: string): string {
  return `${s3Prefix}_custody/`;
}

export function sealKey(s3Prefix: string, seq: number): string {
  return `${custodyPrefix(s3Prefix)}seals/${String(seq).padStart(12, '0')}.json`;
}

export function timestampKey(s3Prefix: string, seq: number): string {
  return `${custodyPrefix(s3Prefix)}seals/${String(seq).padStart(12, '0')}.tsr`;
}

/** The sequence number of a seal's key, or undefined for any other key. */
export function parseSealKey(s3Prefix: string, key: string): number | undefined {
  const m = /^seals\/(\d{12})\.json$/.exec(key.slice(custodyPrefix(s3Prefix).length));
  return key.startsWith(custodyPrefix(s3Prefix)) && m ? Number(m[1]) : undefined;
}
