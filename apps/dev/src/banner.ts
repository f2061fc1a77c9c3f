import { sep } from 'node:path';
import { fileWebhook } from '@archiver/testkit';
import { shortPath } from './settings.js';
import type { DevState } from './state.js';

/** What `dev` prints once everything is up: where to send webhooks and where to look. */
export function banner(state: DevState): string {
  const wa = state.instances.find((i) => i.kind === 'whatsapp');
  const max = state.instances.find((i) => i.kind === 'max');
  const bucketDir = `${shortPath(state.s3.dataDir)}${sep}${state.s3.bucket}${sep}`;
  const lines = [
    '',
    'greenapi-archiver is running (receiver, worker, Redis, embedded S3, Green-API simulator)',
    '',
    `  Webhook    POST ${state.webhookUrl}`,
    `             Authorization: Bearer ${state.webhookToken}`,
    `  Dashboard  ${state.admin.url}  (user ${state.admin.user}, password ${state.admin.password})`,
    `  Review     ${state.review.url}  (user ${state.review.user}, password ${state.review.password})`,
    '             conversations, files, custody status and export (after npm run demo: its chat)',
    `  Metrics    ${state.receiverUrl}/metrics (receiver)   ${state.workerUrl}/metrics (worker)`,
    `  Archive    s3://${state.s3.bucket}/${state.s3.prefix} on ${state.s3.endpoint} (key ${state.s3.accessKeyId} / ${state.s3.secretAccessKey})`,
    `             files on disk under ${bucketDir} (s3rver stores <key> as <key>._S3rver_object)`,
    `  Redis      ${state.redis.describe}, keys ${state.redis.queuePrefix}:*`,
    `  Simulator  Green-API ${state.simulator.url}: WhatsApp instance ${wa?.idInstance}, MAX instance ${max?.idInstance}`,
    `             control API ${state.simulator.controlUrl}`,
    '',
    '  Try it:  npm run demo   (sends demo webhooks of every kind, a conversation with an edit',
    '           and a deletion beside the files, and prints what was archived and its review link)',
    '',
    '  Or by hand: put a file into the simulator, then send its webhook:',
    ...(wa ? curlExample(state, wa.idInstance) : []),
    '',
    '  Ctrl-C stops everything.',
    '',
  ];
  return lines.join('\n');
}

function curlExample(state: DevState, idInstance: string): string[] {
  // A new id per start: Redis and the archive outlive `dev`, and a repeat is a duplicate.
  const ref = { idInstance, chatId: '79001234567@c.us', idMessage: `HELLO${Date.now()}` };
  const file = { ...ref, fileName: 'hello.txt', mimeType: 'text/plain', size: 2048 };
  const webhook = fileWebhook({
    kind: 'whatsapp',
    ...ref,
    timestamp: Math.floor(Date.now() / 1000),
    typeMessage: 'documentMessage',
    fileName: file.fileName,
    mimeType: file.mimeType,
    // The worker asks downloadFile for a fresh link; this one only has to look like one.
    downloadUrl: `${state.simulator.url}/files/0/${file.fileName}`,
  });
  return [
    `    curl -s -X POST ${state.simulator.controlUrl}/files -d '${JSON.stringify(file)}'`,
    `    curl -s -X POST ${state.webhookUrl} -H 'Authorization: Bearer ${state.webhookToken}' \\`,
    `      -H 'Content-Type: application/json' -d '${JSON.stringify(webhook)}'`,
  ];
}
