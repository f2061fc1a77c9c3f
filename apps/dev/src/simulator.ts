import { createServer } from 'node:http';
import type { InstanceKind } from '@archiver/greenapi';
import { startFakeGreenApi, type FakeGreenApi } from '@archiver/testkit';
import { closeNow, listenOn } from './ports.js';
import { CONTROL_PATH, createControlHandler } from './sim-control.js';

export type DemoInstance = {
  idInstance: string;
  apiTokenInstance: string;
  kind: InstanceKind;
};

export type Simulator = {
  fake: FakeGreenApi;
  /** Green-API base URL (the instances' apiUrl and mediaUrl). */
  url: string;
  /** Base of the control API, e.g. `http://127.0.0.1:3101/_sim`. */
  controlUrl: string;
  close(): Promise<void>;
};

/**
 * The fake Green-API the tests use (packages/testkit), on a fixed port, with the demo
 * instances, plus its control API on a second port (the fake's own server takes no extra
 * routes).
 */
export async function startSimulator(opts: {
  port: number;
  controlPort: number;
  instances: readonly DemoInstance[];
}): Promise<Simulator> {
  const fake = await startFakeGreenApi({ port: opts.port });
  for (const instance of opts.instances) fake.addInstance(instance);
  const control = createServer(
    createControlHandler(
      fake,
      opts.instances.map(({ idInstance, kind }) => ({ idInstance, kind })),
    ),
  );
  try {
    await listenOn(control, opts.controlPort, '127.0.0.1');
  } catch (err) {
    await fake.close();
    throw err;
  }
  return {
    fake,
    url: fake.url,
    controlUrl: `http://127.0.0.1:${opts.controlPort}${CONTROL_PATH}`,
    async close() {
      await closeNow(control);
      await fake.close();
    },
  };
}
