// Operator API behind ADMIN_TOKEN (Bearer): run history, retry of dead runs, replay of
// quarantined deliveries. The admin page and the CLI build on these routes.
import { Router, type Request, type Response } from 'express';
import { errorReply } from '../errors.js';
import { RUN_STATUSES } from '../store/run-status.js';
import type { Store } from '../store/store.js';
import { bearerToken, sameSecret } from './bearer-auth.js';
import { sendReply as reply } from './json-reply.js';
import type { DeliveryReceiver } from '../ingest/receive-delivery.js';

export interface AdminApiDeps {
  store: Store;
  receiver: DeliveryReceiver;
  adminToken: string;
  onRequeued?: () => void;
}

export function createAdminApi(deps: AdminApiDeps): Router {
  const router = Router();

  router.use((req, res, next) => {
    if (!sameSecret(bearerToken(req), deps.adminToken)) return reply(res, errorReply('ADMIN_UNAUTHORIZED'));
    next();
  });

  router.get('/runs', async (req: Request, res: Response) => {
    const status = RUN_STATUSES.find((s) => s === req.query.status);
    const limit = Number(req.query.limit ?? 50);
    const before = Number(req.query.before ?? 0);
    const runs = await deps.store.listRuns({
      status,
      limit: Number.isInteger(limit) && limit > 0 ? limit : 50,
      beforeId: Number.isInteger(before) && before > 0 ? before : undefined,
    });
    res.json({ runs });
  });

  router.get('/runs/:id', async (req: Request, res: Response) => {
    const run = await deps.store.getRun(Number(req.params.id));
    if (!run) return reply(res, errorReply('RUN_NOT_FOUND'));
    res.json({ run });
  });

  router.post('/runs/:id/retry', async (req: Request, res: Response) => {
    const id = Number(req.params.id);
    const result = await deps.store.requeueDeadRun(id, Date.now());
    if (result === 'not-found') return reply(res, errorReply('RUN_NOT_FOUND'));
    if (result === 'not-dead') return reply(res, errorReply('RUN_NOT_RETRYABLE'));
    deps.onRequeued?.();
    res.status(202).json({ status: 'requeued', run_id: id });
  });

  router.get('/quarantine', async (_req: Request, res: Response) => {
    const receipts = await deps.store.listQuarantine(100);
    res.json({
      quarantine: receipts.map((r) => ({
        id: r.id,
        received_at: new Date(r.receivedAt).toISOString(),
        sender: r.sender,
        reason: r.reason,
        errors: r.issues,
        replayed_at: r.replayedAt ? new Date(r.replayedAt).toISOString() : null,
      })),
    });
  });

  router.post('/quarantine/:id/replay', async (req: Request, res: Response) => {
    reply(res, await deps.receiver.replayQuarantined(Number(req.params.id), String(req.id)));
  });

  return router;
}
