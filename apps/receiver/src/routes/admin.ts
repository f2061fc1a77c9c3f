import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { readArchiveJob, type ArchiveQueue } from '@archiver/core';
import { checkBasicAuth } from '../auth.js';
import { adminGuard, injectAdminHeaderScript } from './admin-guard.js';

export const ADMIN_PATH = '/admin/queues';

export type AdminConfig = { user: string; password: string; readOnly: boolean };

/** HTTP basic auth in front of the dashboard; the challenge makes browsers ask for credentials. */
export function basicAuth(credentials: { user: string; password: string }): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (checkBasicAuth(req.headers.authorization, credentials)) return next();
    res
      .status(401)
      .set('WWW-Authenticate', 'Basic realm="archiver"')
      .type('text/plain')
      .send('unauthorized\n');
  };
}

/**
 * bull-board for the archive queue. Failed jobs show BullMQ's failedReason (the worker writes
 * `permanent_failure: <code>: …` / `expired: …` there) and their data, read (archiveAdapter).
 * Returns the handlers to mount at ADMIN_PATH: auth, then the guard (read-only unless
 * ADMIN_READ_ONLY=false, never queue-wide deletes, changes only with the admin header).
 */
export function createAdminRouter(queue: ArchiveQueue, admin: AdminConfig): RequestHandler[] {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(ADMIN_PATH);
  createBullBoard({
    queues: [archiveAdapter(queue, admin.readOnly)],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'archiver' } },
  });
  // The adapter builds its own Express app (typed `any`), with Express's defaults.
  const router = serverAdapter.getRouter() as Express;
  router.disable('x-powered-by');
  const handlers = [basicAuth(admin), adminGuard(admin.readOnly)];
  if (!admin.readOnly) handlers.push(injectAdminHeaderScript());
  return [...handlers, router];
}

/**
 * The archive queue's adapter. A job stores its webhook body packed, with the file's facts
 * (chat, message id, file name) only inside it: the dashboard shows the job as the worker
 * reads it, facts first and the body unpacked. Data it cannot read is shown as stored.
 */
function archiveAdapter(queue: ArchiveQueue, readOnlyMode: boolean): BullMQAdapter {
  const adapter = new GuardedAdapter(queue, { readOnlyMode });
  adapter.setFormatter('data', (data: unknown) => {
    const read = readArchiveJob(data);
    return read.ok ? { ...read.data, message: read.message } : data;
  });
  return adapter;
}

/** The guard refuses these routes; the adapter refuses them too, should a route slip past. */
class GuardedAdapter extends BullMQAdapter {
  override clean(): Promise<void> {
    return Promise.reject(new QueueWideActionError('clean'));
  }
  override empty(): Promise<void> {
    return Promise.reject(new QueueWideActionError('empty'));
  }
  override obliterate(): Promise<void> {
    return Promise.reject(new QueueWideActionError('obliterate'));
  }
}

export class QueueWideActionError extends Error {
  override name = 'QueueWideActionError';
  constructor(action: string) {
    super(`the dashboard does not ${action} queues`);
  }
}
