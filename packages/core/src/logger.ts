import { pino, type DestinationStream, type Logger } from 'pino';

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
  const holder = { secrets: usable(opts.secrets ?? []) };
  const logger = pino(
    { level: opts.level, name: opts.name, redact: { paths: REDACT, censor: '[redacted]' } },
    scrubbing(destination, holder),
  );
  holders.set(logger, holder);
  return logger;
}

const holders = new WeakMap<Logger, { secrets: string[] }>();

const usable = (secrets: string[]) => secrets.filter((s) => s.length >= 4);

/**
 * The secrets a root logger scrubs, replaced: after instances reload, a new instance's tokens
 * are scrubbed too. Child loggers share their root's stream, hence its list.
 */
export function updateLoggerSecrets(logger: Logger, secrets: string[]): void {
  const holder = holders.get(logger);
  if (holder) holder.secrets = usable(secrets);
}

export function scrubSecrets(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out;
}

/** pino writes whole lines to any object with `write`: no stream machinery per line. */
function scrubbing(
  destination: DestinationStream,
  holder: { secrets: string[] },
): DestinationStream {
  return {
    write: (line: string) =>
      destination.write(holder.secrets.length > 0 ? scrubSecrets(line, holder.secrets) : line),
  };
}
