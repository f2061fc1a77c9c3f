import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import type { ArchiveQueue } from '@archiver/core';
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
 * `permanent_failure: <code>: …` / `expired: …` there) and their data (chatId, idMessage).
 * Returns the handlers to mount at ADMIN_PATH, auth first.
 */
export function createAdminRouter(queue: ArchiveQueue, admin: AdminConfig): RequestHandler[] {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(ADMIN_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(queue, { readOnlyMode: admin.readOnly })],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'archiver' } },
  });
  // The adapter builds its own Express app (typed `any`), with Express's defaults.
  const router = serverAdapter.getRouter() as Express;
  router.disable('x-powered-by');
  return [basicAuth(admin), router];
}
