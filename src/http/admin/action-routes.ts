// Everything an operator changes from the Runs page: retry and re-run a run, retry the dead
// runs of a filter after a confirmation naming them and their steps, replay or dismiss
// quarantined bodies one by one or in bulk. Each POST passed the session's CSRF check
// (admin-routes.ts) and writes one audit line.
import { Router, type Request, type Response } from 'express';
import type { Logger } from '../../logger.js';
import type { MappingRegistry } from '../../mapping/mapping-registry.js';
import type { TestDeliveryMode } from '../../payload/test-request.js';
import type { DeliveryReceiver } from '../../ingest/receive-delivery.js';
import { isRunStatus, REQUEUEABLE } from '../../store/run-status.js';
import type { Store } from '../../store/store.js';
import { html } from './html.js';
import { planRerun } from './rerun-plan.js';
import { positiveInt, readFilters, runFilterOf } from './runs-routes.js';
import { bulkRetryPage, type BulkRetryPlan } from './views/bulk-retry-page.js';
import { layout } from './views/layout.js';
import { rerunPage } from './views/rerun-page.js';

export interface ActionRoutesDeps {
  store: Store;
  mappings: MappingRegistry;
  receiver: DeliveryReceiver;
  logger: Logger;
  now: () => number;
  /** Wakes the worker after a retry or re-run. */
  onRequeued?: () => void;
  testDeliveries?: TestDeliveryMode;
}

/** One bulk action takes at most this many runs or bodies: its confirmation lists each one. */
export const BULK_LIMIT = 200;

export function createActionRoutes(deps: ActionRoutesDeps): Router {
  const router = Router();
  const { store, now } = deps;

  /** The audit line: who (the request's address and id), what, on which ids, with what result. */
  const audit = (req: Request, action: string, ids: number[], outcome: Record<string, number | string>) =>
    deps.logger.info({ audit: { action, ids, outcome, ip: req.ip, request_id: String(req.id) } }, `operator ${action}`);

  const notFound = (req: Request, res: Response, what: string) =>
    res.status(404).type('html').send(layout('Not found', html`<p>No ${what}.</p>`, req.adminSession));

  /** Queues run :id again, wakes the worker, and goes back to the run's page saying which it was. */
  const requeue = (action: string, queue: (id: number, at: number) => Promise<string>, queued: string, refused: string) => async (req: Request, res: Response) => {
    const id = Number(req.params.id);
    const result = await queue(id, now());
    audit(req, action, [id], { result });
    if (result === 'requeued') deps.onRequeued?.();
    res.redirect(303, `/admin/runs/${id}?notice=${result === 'requeued' ? queued : refused}`);
  };
  router.post('/runs/:id/retry', requeue('retry', (id, at) => store.requeueDeadRun(id, at), 'retry-queued', 'not-retryable'));
  router.post('/runs/:id/rerun', requeue('rerun', (id, at) => store.requeueForRerun(id, at), 'rerun-queued', 'not-rerunnable'));

  router.get('/runs/:id/rerun', async (req, res) => {
    const run = await store.getRun(Number(req.params.id));
    if (!run) return notFound(req, res, `run #${req.params.id}`);
    const current = deps.mappings.current().find((m) => m.name === run.mappingName) ?? null;
    const plan = await planRerun(run, current, { now: now(), store, testDeliveries: deps.testDeliveries });
    res.status(200).type('html').send(rerunPage({ run, plan, csrf: req.adminSession!.csrf }));
  });

  // The confirmation: exactly which runs (the newest BULK_LIMIT of the filter) and, per mapping,
  // which steps each retry would execute; the POST then takes exactly those ids.
  router.get('/bulk/retry', async (req, res) => {
    const filters = readFilters(req.query);
    if (!isRunStatus(filters.status) || !REQUEUEABLE.includes(filters.status)) {
      return res.status(400).type('html').send(layout('Bulk retry', html`<p class="error">Filter by status ${REQUEUEABLE.join(' or ')} first: only those runs can be retried.</p>`, req.adminSession));
    }
    const filter = runFilterOf(filters);
    const [runs, count] = await Promise.all([store.listRuns({ ...filter, limit: BULK_LIMIT }), store.countRuns(filter)]);
    const plan: BulkRetryPlan = { filters, total: count, runIds: runs.map((r) => r.id), mappings: new Map() };
    for (const summary of runs) {
      const run = await store.getRun(summary.id);
      if (!run) continue;
      const current = deps.mappings.current().find((m) => m.name === run.mappingName) ?? null;
      const steps = await planRerun(run, current, { now: now(), store, testDeliveries: deps.testDeliveries });
      const entry = plan.mappings.get(run.mappingName) ?? { runs: 0, problems: new Map<string, number>(), steps: new Map() };
      entry.runs += 1;
      if (steps.problem) entry.problems.set(steps.problem, (entry.problems.get(steps.problem) ?? 0) + 1);
      for (const step of steps.steps) {
        const tally = entry.steps.get(step.id) ?? { use: step.use, runs: 0, otherwise: new Map<string, number>() };
        if (step.runs) tally.runs += 1;
        else tally.otherwise.set(step.decision, (tally.otherwise.get(step.decision) ?? 0) + 1);
        entry.steps.set(step.id, tally);
      }
      plan.mappings.set(run.mappingName, entry);
    }
    res.status(200).type('html').send(bulkRetryPage({ plan, csrf: req.adminSession!.csrf }));
  });

  router.post('/bulk/retry', async (req, res) => {
    const ids = idList((req.body as Record<string, unknown>).ids);
    const tally: Record<string, number> = { requeued: 0, 'not-found': 0, 'not-dead': 0 };
    for (const id of ids) tally[await store.requeueDeadRun(id, now())]! += 1;
    audit(req, 'bulk-retry', ids, tally);
    if (tally.requeued! > 0) deps.onRequeued?.();
    res.redirect(303, `/admin?notice=bulk-retried&requeued=${tally.requeued}&skipped=${ids.length - tally.requeued!}`);
  });

  router.post('/quarantine/:id/replay', async (req, res) => {
    const id = Number(req.params.id);
    const reply = await deps.receiver.replayQuarantined(id, String(req.id));
    audit(req, 'replay', [id], { status: reply.status });
    res.redirect(303, `/admin/quarantine?notice=${reply.status < 300 ? 'replayed' : 'replay-failed'}`);
  });

  router.post('/quarantine/:id/dismiss', async (req, res) => {
    const id = Number(req.params.id);
    const dismissed = await store.dismissQuarantined(id, now());
    audit(req, 'dismiss', [id], { dismissed: dismissed ? 1 : 0 });
    res.redirect(303, `/admin/quarantine?notice=${dismissed ? 'dismissed' : 'not-dismissed'}`);
  });

  // The checked bodies of the quarantine list, replayed or dismissed together.
  router.post('/quarantine/bulk', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const ids = idList(body.ids);
    if (body.action === 'dismiss') {
      let dismissed = 0;
      for (const id of ids) if (await store.dismissQuarantined(id, now())) dismissed += 1;
      audit(req, 'bulk-dismiss', ids, { dismissed });
      return res.redirect(303, `/admin/quarantine?notice=bulk-dismissed&done=${dismissed}&of=${ids.length}`);
    }
    if (body.action !== 'replay') return res.status(400).type('html').send(layout('Bulk action', html`<p class="error">Unknown action.</p>`, req.adminSession));
    let accepted = 0;
    for (const id of ids) if ((await deps.receiver.replayQuarantined(id, `${String(req.id)}-${id}`)).status < 300) accepted += 1;
    audit(req, 'bulk-replay', ids, { accepted, refused: ids.length - accepted });
    res.redirect(303, `/admin/quarantine?notice=bulk-replayed&done=${accepted}&of=${ids.length}`);
  });

  return router;
}

/** Run or receipt ids from a form: one value, several, or a comma list; at most BULK_LIMIT. */
function idList(value: unknown): number[] {
  const values = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
  const ids = values.map((v) => positiveInt(typeof v === 'string' ? v.trim() : v)).filter((n): n is number => n !== undefined);
  return [...new Set(ids)].slice(0, BULK_LIMIT);
}
