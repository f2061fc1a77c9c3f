// The receiver benchmark's baseline: a bare Express 5 route with express.json() that does
// nothing but answer, on the same port settings as the receiver. Prints one JSON line when
// listening.
import express from 'express';

const app = express();
app.post('/webhooks/green-api', express.json({ limit: '2mb' }), (_req, res) => {
  res.json({ ok: true });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ msg: 'baseline listening', port })}\n`);
});
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
