/**
 * pino's JSON lines as one short readable line each, for a terminal:
 * `12:03:04 INFO  worker   archived key=whatsapp/… size=1234`. A destination for
 * createLogger; production keeps JSON (and so does `dev` with LOG_FORMAT=json).
 */
export function prettyDestination(out: { write(text: string): unknown } = process.stdout) {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line.trim()) out.write(`${formatLine(line)}\n`);
    },
  };
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'app']);

export function formatLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time =
    typeof entry.time === 'number' ? new Date(entry.time).toTimeString().slice(0, 8) : '';
  const level = (LEVELS[Number(entry.level)] ?? String(entry.level)).padEnd(5);
  const app = String(entry.app ?? entry.name ?? '').padEnd(8);
  const fields = Object.entries(entry)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${formatValue(key, value)}`);
  return [time, level, app, String(entry.msg ?? ''), ...fields].join(' ');
}

function formatValue(key: string, value: unknown): string {
  // pino's error serializer: the message is what a developer needs in a terminal.
  if (key === 'err' && typeof value === 'object' && value !== null && 'message' in value) {
    return JSON.stringify(String(value.message));
  }
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}
