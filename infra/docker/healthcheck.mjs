// Container health probe: `node /app/healthcheck.mjs receiver|worker|poller [path]`.
// Slim images have no curl; node's fetch does the job. Exit 0 = healthy.
// The receiver serves /healthz on PORT (default 3000), the worker on METRICS_PORT (9464),
// the poller on POLLER_METRICS_PORT (9465).
const role = process.argv[2] ?? 'receiver';
const path = process.argv[3] ?? '/healthz';
const ports = {
  receiver: process.env.PORT ?? '3000',
  worker: process.env.METRICS_PORT ?? '9464',
  poller: process.env.POLLER_METRICS_PORT ?? '9465',
};
const port = ports[role] ?? ports.receiver;

try {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
