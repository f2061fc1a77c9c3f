import { pino, type DestinationStream, type Logger } from 'pino';
import { createScrubber, type Scrubber } from './scrub.js';

/** Paths pino blanks before a line is written. */
const REDACT = [
  'apiTokenInstance',
  '*.apiTokenInstance',
  'webhookToken',
  '*.webhookToken',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'config.instances',
];

/**
 * One root logger per process. Besides path redaction, every line is scrubbed of the
 * configured secrets' values: a token that slips into a message or an error text (Green-API
 * puts the token in the URL path) never reaches the output.
 */
export function createLogger(opts: {
  level: string;
  name: string;
  secrets?: string[];
  destination?: DestinationStream;
}): Logger {
  const destination = opts.destination ?? pino.destination({ fd: 1, sync: false });
  const holder = { scrub: scrubberOf(opts.secrets ?? []) };
  const logger = pino(
    { level: opts.level, name: opts.name, redact: { paths: REDACT, censor: '[redacted]' } },
    scrubbing(destination, holder),
  );
  holders.set(logger, holder);
  return logger;
}

const holders = new WeakMap<Logger, { scrub: Scrubber | undefined }>();

/** Secrets under 4 characters would blank common words; none configured: no scrubbing. */
function scrubberOf(secrets: string[]): Scrubber | undefined {
  const usable = secrets.filter((s) => s.length >= 4);
  return usable.length > 0 ? createScrubber(usable) : undefined;
}

/**
 * The secrets a root logger scrubs, replaced: after instances reload, a new instance's tokens
 * are scrubbed too. Child loggers share their root's stream, hence its list.
 */
export function updateLoggerSecrets(logger: Logger, secrets: string[]): void {
  const holder = holders.get(logger);
  if (holder) holder.scrub = scrubberOf(secrets);
}

/** One text scrubbed of these secrets; for many texts, build one `createScrubber`. */
export function scrubSecrets(text: string, secrets: string[]): string {
  return createScrubber(secrets)(text);
}

/** pino writes whole lines to any object with `write`: no stream machinery per line. */
function scrubbing(
  destination: DestinationStream,
  holder: { scrub: Scrubber | undefined },
): DestinationStream {
  return {
    write: (line: string) => destination.write(holder.scrub ? holder.scrub(line) : line),
  };
}
