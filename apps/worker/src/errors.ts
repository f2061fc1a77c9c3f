/** Errors of the byte transfer; Green-API's own errors live in @archiver/greenapi. */
export class DownloadError extends Error {
  override name = 'DownloadError';
}

/** The body ended before Content-Length bytes arrived: retried, and no object is left. */
export class TruncatedDownloadError extends DownloadError {
  override name = 'TruncatedDownloadError';
}

/** No byte arrived for too long. */
export class DownloadStalledError extends DownloadError {
  override name = 'DownloadStalledError';
}

/**
 * The downloadUrl points outside DOWNLOAD_HOSTS (SSRF guard). Permanent for this job: an
 * operator who trusts the host adds it and runs `archiver retry-failed`.
 */
export class HostNotAllowedError extends Error {
  override name = 'HostNotAllowedError';
}
