import { Agent, request } from 'node:http';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Ingest } from '@archiver/core';
import { WEBHOOK_PATH } from '../src/app.js';
import { closeGracefully } from '../src/server.js';
import { TOKENS, whatsappDocument } from './support/fixtures.js';
import { startReceiver, type TestReceiver } from './support/harness.js';
import './support/provided.js';

/** Wraps ingest so that, once `hold()` is called, webhooks wait in flight until `release()`. */
function holdable() {
  let held: Promise<void> | undefined;
  let open = () => undefined as void;
  let entered = 0;
  return {
    wrap:
      (ingest: Ingest): Ingest =>
      async (...args) => {
        entered += 1;
        if (held) await held;
        return ingest(...args);
      },
    hold: () => {
      held = new Promise<void>((resolve) => (open = resolve));
    },
    release: () => open(),
    entered: () => entered,
  };
}

/** A POST over a keep-alive agent, the way a load balancer reuses sockets. */
function post(url: string, agent: Agent, idMessage: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${WEBHOOK_PATH}`, {
      method: 'POST',
      agent,
      headers: { authorization: `Bearer ${TOKENS.whatsapp1}`, 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify(whatsappDocument({ idMessage })));
  });
}

let receiver: TestReceiver | undefined;
let agent: Agent | undefined;
afterEach(async () => {
  agent?.destroy();
  await receiver?.clean();
  await receiver?.close();
  receiver = undefined;
});

describe('graceful shutdown', () => {
  it('stops accepting, answers the in-flight webhook with 200, and does not wait for idle keep-alive sockets', async () => {
    const ingest = holdable();
    const started = await startReceiver({ redisUrl: inject('redisUrl'), wrapIngest: ingest.wrap });
    receiver = started;
    agent = new Agent({ keepAlive: true });
    // Leaves an idle keep-alive socket behind.
    expect(await post(started.url, agent, 'WARM')).toBe(200);

    ingest.hold();
    const inFlight = post(started.url, agent, 'IN_FLIGHT');
    await expect.poll(ingest.entered).toBe(2);
    const closing = closeGracefully(started.server, 10_000);

    await expect(fetch(`${started.url}/healthz`)).rejects.toThrow();
    ingest.release();
    expect(await inFlight).toBe(200);
    expect(await closing).toBe(true);
    expect((await started.files()).map((file) => file.idMessage).sort()).toEqual([
      'IN_FLIGHT',
      'WARM',
    ]);
  });

  it('cuts what is still open after the grace period', async () => {
    const ingest = holdable();
    const started = await startReceiver({ redisUrl: inject('redisUrl'), wrapIngest: ingest.wrap });
    receiver = started;
    agent = new Agent({ keepAlive: true });
    ingest.hold();
    const stuck = post(started.url, agent, 'STUCK');
    await expect.poll(ingest.entered).toBe(1);

    expect(await closeGracefully(started.server, 200)).toBe(false);
    await expect(stuck).rejects.toThrow();
    ingest.release();
  });
});
