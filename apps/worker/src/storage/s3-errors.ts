/** What the AWS SDK's errors carry that this store reads: a name and the HTTP status. */
type SdkError = { name?: string; $metadata?: { httpStatusCode?: number } };

export function errorName(err: unknown): string | undefined {
  return (err as SdkError | undefined)?.name;
}

export function httpStatus(err: unknown): number | undefined {
  return (err as SdkError | undefined)?.$metadata?.httpStatusCode;
}

export function isNotFound(err: unknown): boolean {
  const name = errorName(err);
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatus(err) === 404;
}

export function isNotImplemented(err: unknown): boolean {
  const status = httpStatus(err);
  return errorName(err) === 'NotImplemented' || status === 501 || status === 405;
}
