// The Green-API client's CPU per downloadFile call: its default transport (undici's `request`)
// against the same client over Node's `fetch`. Not part of `pnpm bench` (no target): the
// measurement behind packages/greenapi/src/http.ts. The server answers in a process of its
// own, so only the client's CPU is counted.
//   node --conditions=@archiver/source --import tsx bench/src/micro/greenapi-client.ts
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createGreenApiClient } from '@archiver/greenapi';

const CALLS = 4000;
const CONCURRENCY = 16;
const ROUNDS = 4;

const SERVER = `
const body = JSON.stringify({ downloadUrl: 'https://sw-media-1101.storage.yandexcloud.net/1101000001/3f8e2c1a.pdf' });
require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
`;

const server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
const [firstLine] = (await once(server.stdout, 'data')) as [Buffer];
const instance = {
  idInstance: '1101000001',
  apiTokenInstance: 'bench-token',
  apiUrl: `http://127.0.0.1:${Number(firstLine.toString())}`,
  kind: 'whatsapp' as const,
};
const clients = {
  undici: createGreenApiClient(instance),
  fetch: createGreenApiClient(instance, { fetch }),
};

async function cpuPerCall(client: ReturnType<typeof createGreenApiClient>): Promise<number> {
  let started = 0;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (started++ < CALLS) await client.downloadFile({ chatId: '1@c.us', idMessage: 'A' });
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / CALLS;
}

// Alternating order; the first round of each is the cold one (JIT, connections).
for (let round = 1; round <= ROUNDS; round += 1) {
  const order = round % 2 === 1 ? (['undici', 'fetch'] as const) : (['fetch', 'undici'] as const);
  const line = [];
  for (const name of order) line.push(`${name} ${Math.round(await cpuPerCall(clients[name]))} µs`);
  console.log(`round ${round}: ${line.join(', ')} of client CPU per downloadFile call`);
}
server.kill();
