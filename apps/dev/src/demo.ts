import { setTimeout as sleep } from 'node:timers/promises';
import { objectKeys, type Sidecar } from '@archiver/core';
import { fileWebhook, type AddedFile } from '@archiver/testkit';
import { demoCases, type DemoCase } from './demo-cases.js';
import { DEMO_CHAT, demoConversation } from './demo-conversation.js';
import { createDemoClient, type DemoClient } from './demo-client.js';
import { judge, printReport, type DuplicateOutcome, type Outcome } from './demo-report.js';
import { loadDevSettings } from './settings.js';
import { readState, type DevState } from './state.js';

/**
 * `npm run demo`: realistic webhooks through the system `npm run dev` runs (every file type
 * on WhatsApp and MAX, a duplicate, a download that fails once, a file that is gone, and a
 * conversation of texts, an edit, a deletion, a reaction and a reply around the WhatsApp
 * files), then a table of what was archived where, read back from the embedded S3, and the
 * review page's link to the conversation. Exits 1 when
 * anything that should have landed did not, 2 when `dev` is not running.
 */
async function main(): Promise<number> {
  const { dataDir } = loadDevSettings(process.env);
  const state = await readState(dataDir);
  const client = state ? createDemoClient(state) : undefined;
  try {
    if (!state || !client || !(await client.isUp())) {
      process.stderr.write(
        'demo: the system is not running. Start it in another terminal with `npm run dev`, ' +
          'then run `npm run demo`.\n',
      );
      return 2;
    }
    return await run(state, client);
  } finally {
    client?.close();
  }
}

const out = (line = '') => void process.stdout.write(`${line}\n`);

async function run(state: DevState, client: DemoClient): Promise<number> {
  const cases = demoCases(state.instances);
  const wa = state.instances.find((i) => i.kind === 'whatsapp');
  const around = cases[0]?.timestamp ?? Math.floor(Date.now() / 1000);
  const conversation = wa
    ? demoConversation({ idInstance: wa.idInstance, kind: 'whatsapp' }, around)
    : [];
  const on = state.instances.map((i) => `${i.kind === 'max' ? 'MAX' : 'WhatsApp'} ${i.idInstance}`);
  out(
    `Demo: ${cases.length} file messages on instances ${on.join(' and ')}, and a conversation ` +
      `of ${conversation.length} messages (texts, an edit, a deletion, a reaction, a reply) around them`,
  );

  const sent = await sendAll(
    client,
    cases,
    conversation.map((m) => m.body),
  );
  const refused = sent.statuses.filter((s) => s !== 200);
  const answered = refused.length === 0 ? 'all answered 200' : `${refused.length} NOT answered 200`;
  out(
    `  ${sent.statuses.length} webhooks → ${state.webhookUrl}: ${answered} (the last repeats #1)`,
  );

  const sidecarKeys = cases.map(
    (demo) => objectKeys({ prefix: state.s3.prefix, ...demo }).sidecarKey,
  );
  const textKeys = conversation.map(
    (m) =>
      objectKeys({
        prefix: state.s3.prefix,
        kind: 'whatsapp',
        idInstance: wa?.idInstance ?? '',
        chatId: DEMO_CHAT,
        idMessage: m.idMessage,
        timestamp: m.timestamp,
      }).sidecarKey,
  );
  const timeoutMs = Number(process.env.DEMO_TIMEOUT_SECONDS ?? 60) * 1000;
  const sidecars = await settle(client, [...sidecarKeys, ...textKeys], timeoutMs);

  const outcomes: Outcome[] = [];
  for (const [index, demo] of cases.entries()) {
    const key = sidecarKeys[index] ?? '';
    outcomes.push(await judgeOne(client, demo, key, sidecars.get(key), sent.added.get(demo)));
  }
  const duplicate = await judgeDuplicate(client, sent.duplicatesBefore, sidecarKeys[0] ?? '');
  const recorded = textKeys.filter((k) => sidecars.get(k)?.status === 'recorded').length;
  return printReport({
    state,
    outcomes,
    duplicate,
    webhooksOk: refused.length === 0,
    conversation: {
      recorded,
      total: conversation.length,
      review: wa ? reviewLinks(state, wa.idInstance, around) : undefined,
    },
    out,
  });
}

/** Where the review page shows the demo's chat, and its day (UTC). */
function reviewLinks(state: DevState, idInstance: string, timestamp: number) {
  const chat = `${state.review.url}whatsapp/${idInstance}/${encodeURIComponent(DEMO_CHAT)}/`;
  return { chat, day: `${chat}${new Date(timestamp * 1000).toISOString().slice(0, 10)}` };
}

/** Files into the simulator, then every webhook (the texts too), then the first one again. */
async function sendAll(client: DemoClient, cases: DemoCase[], texts: unknown[]) {
  const added = new Map<DemoCase, AddedFile>();
  for (const demo of cases) if (demo.content) added.set(demo, await client.addFile(demo));
  const duplicatesBefore = await client.duplicateWebhooks();
  const bodies = cases.map((demo) =>
    fileWebhook({ ...demo, downloadUrl: added.get(demo)?.downloadUrl ?? client.goneUrl(demo) }),
  );
  const statuses: number[] = [];
  // Green-API does deliver the same webhook twice at times.
  for (const body of [...bodies, ...texts, bodies[0]]) {
    statuses.push(await client.postWebhook(body));
  }
  return { added, duplicatesBefore, statuses };
}

/** Polls the sidecars until every message has one or the time is up. */
async function settle(client: DemoClient, keys: string[], timeoutMs: number) {
  const found = new Map<string, Sidecar>();
  const started = Date.now();
  const progress = () =>
    `  waiting for the worker: ${found.size}/${keys.length} settled in ` +
    `${((Date.now() - started) / 1000).toFixed(1)} s`;
  while (found.size < keys.length && Date.now() - started < timeoutMs) {
    for (const key of keys.filter((k) => !found.has(k))) {
      const sidecar = await client.readSidecar(key);
      if (sidecar) found.set(key, sidecar);
    }
    if (process.stdout.isTTY) process.stdout.write(`\r${progress()}`);
    if (found.size < keys.length) await sleep(250);
  }
  if (process.stdout.isTTY) process.stdout.write('\r');
  out(`${progress()}${found.size < keys.length ? ' (gave up waiting)' : ''}`);
  return found;
}

async function judgeOne(
  client: DemoClient,
  demo: DemoCase,
  sidecarKey: string,
  sidecar: Sidecar | undefined,
  file: AddedFile | undefined,
): Promise<Outcome> {
  const stored =
    sidecar?.status === 'archived' && sidecar.key
      ? await client.storedSha256(sidecar.key)
      : undefined;
  return judge(demo, sidecarKey, sidecar, {
    expectedSize: file?.size,
    expectedSha256: file?.sha256,
    storedSha256: stored,
  });
}

/** The duplicate must be answered 200, counted as a duplicate, and leave one object. */
async function judgeDuplicate(
  client: DemoClient,
  before: number,
  sidecarKey: string,
): Promise<DuplicateOutcome> {
  const counted = (await client.duplicateWebhooks()) - before;
  const folder = sidecarKey.slice(0, sidecarKey.lastIndexOf('/') + 1);
  const objects = (await client.objectsUnder(folder)).length;
  const ok = counted >= 1 && objects === 2;
  return {
    ok,
    result: ok
      ? 'duplicate recognised: answered 200, no second job, one file + message.json'
      : `DUPLICATE NOT HANDLED: counted ${counted}, ${objects} objects in the message's folder`,
  };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
