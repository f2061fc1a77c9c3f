import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createGreenApiClient } from '@archiver/greenapi';
import type { Ingest, IngestOutcome, InstanceConfig } from '@archiver/core';
import { createPoller, instancesToPoll } from './poller.js';

const logger = pino({ level: 'silent' });

const instance = (idInstance: string, delivery: 'webhook' | 'poll' = 'poll'): InstanceConfig => ({
  idInstance,
  apiTokenInstance: `token-${idInstance}`,
  apiUrl: 'https://api.example.test',
  delivery,
});

type Event = { what: 'receive' | 'ingest' | 'delete'; receiptId?: number };

/**
 * A notification queue behind a fake fetch, as Green-API keeps it: the head stays until
 * deleted. `deleteStatuses` scripts the answers to deleteNotification, one per call.
 */
function fakeQueue(bodies: unknown[], deleteStatuses: number[] = []) {
  const queue = bodies.map((body, i) => ({ receiptId: i + 1, body }));
  const events: Event[] = [];
  const fetchImpl: typeof fetch = (input, init) => {
    const url = new URL(String(input));
    if (url.pathname.includes('/receiveNotification/')) {
      events.push({ what: 'receive' });
      const head = queue[0];
      if (head) return Promise.resolve(Response.json(head));
      // Empty: hold the long poll until the client gives up.
      return new Promise((_, reject) => {
        init?.signal?.addEventListener('abort', () =>
          reject(new DOMException('aborted', 'AbortError')),
        );
      });
    }
    const receiptId = Number(url.pathname.split('/').pop());
    events.push({ what: 'delete', receiptId });
    const status = deleteStatuses.shift() ?? 200;
    if (status !== 200) return Promise.resolve(new Response('error', { status }));
    const index = queue.findIndex((n) => n.receiptId === receiptId);
    if (index >= 0) queue.splice(index, 1);
    return Promise.resolve(Response.json({ result: index >= 0 }));
  };
  const clientFor = (i: InstanceConfig) =>
    createGreenApiClient({ ...i, kind: 'whatsapp' }, { fetch: fetchImpl });
  return { queue, events, clientFor };
}

const accepted: IngestOutcome = {
  outcome: 'accepted',
  jobId: 'j',
  typeWebhook: 'incomingMessageReceived',
  idInstance: '1',
};

function recordingIngest(events: Event[], failures = 0): Ingest {
  let left = failures;
  return (body) => {
    events.push({ what: 'ingest', receiptId: (body as { n: number }).n });
    if (left-- > 0) return Promise.reject(new Error('redis down'));
    return Promise.resolve(accepted);
  };
}

const fast = { minMs: 5, maxMs: 20 };

describe('createPoller', () => {
  it('deletes a notification only after ingest stored it, and keeps it while ingest fails', async () => {
    const api = fakeQueue([{ n: 1 }, { n: 2 }]);
    const poller = createPoller({
      instances: [instance('1')],
      clientFor: api.clientFor,
      ingest: recordingIngest(api.events, 2),
      logger,
      backoff: fast,
    });
    poller.start();
    await vi.waitFor(() => expect(api.queue).toHaveLength(0));
    await poller.stop();
    const handling = api.events.filter((e) => e.what !== 'receive');
    expect(handling).toEqual([
      { what: 'ingest', receiptId: 1 },
      { what: 'ingest', receiptId: 1 },
      { what: 'ingest', receiptId: 1 },
      { what: 'delete', receiptId: 1 },
      { what: 'ingest', receiptId: 2 },
      { what: 'delete', receiptId: 2 },
    ]);
  });

  it('repeats a delete that met a 5xx without ingesting again', async () => {
    const api = fakeQueue([{ n: 1 }], [502, 500]);
    const poller = createPoller({
      instances: [instance('1')],
      clientFor: api.clientFor,
      ingest: recordingIngest(api.events),
      logger,
      backoff: fast,
    });
    poller.start();
    await vi.waitFor(() => expect(api.queue).toHaveLength(0), { timeout: 5000 });
    await poller.stop();
    expect(api.events.filter((e) => e.what !== 'receive').map((e) => e.what)).toEqual([
      'ingest',
      'delete',
      'delete',
      'delete',
    ]);
  });

  it('lets a notification whose delete failed come back, to be deduplicated by ingest', async () => {
    // An instance that cannot serve is not asked again at once (isRetryable).
    const api = fakeQueue([{ n: 1 }], [401]);
    const poller = createPoller({
      instances: [instance('1')],
      clientFor: api.clientFor,
      ingest: recordingIngest(api.events),
      logger,
      backoff: fast,
    });
    poller.start();
    await vi.waitFor(() => expect(api.queue).toHaveLength(0));
    await poller.stop();
    expect(api.events.filter((e) => e.what !== 'receive').map((e) => e.what)).toEqual([
      'ingest',
      'delete',
      'ingest',
      'delete',
    ]);
  });

  it('stop() aborts a pending long poll at once', async () => {
    const api = fakeQueue([]);
    const poller = createPoller({
      instances: [instance('1'), instance('2')],
      clientFor: api.clientFor,
      ingest: recordingIngest(api.events),
      logger,
    });
    poller.start();
    await vi.waitFor(() => expect(api.events.filter((e) => e.what === 'receive')).toHaveLength(2));
    const started = Date.now();
    await poller.stop();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('instancesToPoll', () => {
  it('takes the instances marked poll, else all of them', () => {
    const a = instance('1', 'webhook');
    const b = instance('2', 'poll');
    expect(instancesToPoll([a, b])).toEqual([b]);
    expect(instancesToPoll([a, { ...b, delivery: 'webhook' }])).toHaveLength(2);
  });
});
