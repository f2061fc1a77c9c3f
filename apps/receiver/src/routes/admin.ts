import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { readArchiveJob, type ArchiveQueue } from '@archiver/core';
import { checkBasicAuth } from '../auth.js';

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
 * Returns the handlers to mount at ADMIN_PATH, auth first.
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
  return [basicAuth(admin), router];
}

/**
 * The archive queue's adapter. A job stores its webhook body packed, with the file's facts
 * (chat, message id, file name) only inside it: the dashboard shows the job as the worker
 * reads it, facts first and the body unpacked. Data it cannot read is shown as stored.
 */
function archiveAdapter(queue: ArchiveQueue, readOnlyMode: boolean): BullMQAdapter {
  const adapter = new BullMQAdapter(queue, { readOnlyMode });
  adapter.setFormatter('data', (data: unknown) => {
    const read = readArchiveJob(data);
    return read.ok ? { ...read.data, message: read.message } : data;
  });
  return adapter;
}
