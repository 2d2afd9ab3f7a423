// Operator API behind ADMIN_TOKEN (Bearer): run history, retry of dead runs, replay of
// quarantined deliveries. Every body follows api-contract.ts (snake_case, ISO 8601 times);
// the OpenAPI document made from it is served at /api/openapi.json.
import { readFileSync } from 'node:fs';
import { Router, type Request, type Response } from 'express';
import { errorReply, type Reply } from '../errors.js';
import { isRunStatus } from '../store/run-status.js';
import type { Receipt, RunDetail, RunFilter, RunSummary, StepResult, Store } from '../store/store.js';
import type { QuarantinedJson, RunDetailJson, RunSummaryJson } from './api-contract.js';
import { bearerToken, sameSecret } from './bearer-auth.js';
import { sendReply as reply } from './json-reply.js';
import { openApiDocument, RUN_LIST_MAX_LIMIT } from './openapi.js';
import type { DeliveryReceiver } from '../ingest/receive-delivery.js';

export interface AdminApiDeps {
  store: Store;
  receiver: DeliveryReceiver;
  adminToken: string;
  onRequeued?: () => void;
}

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function createAdminApi(deps: AdminApiDeps): Router {
  const router = Router();
  const openapi = JSON.stringify(openApiDocument(version));

  // Public like any API reference: it names routes and fields, no data.
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').setHeader('cache-control', 'public, max-age=300');
    res.send(openapi);
  });

  router.use((req, res, next) => {
    if (!sameSecret(bearerToken(req), deps.adminToken)) return reply(res, errorReply('ADMIN_UNAUTHORIZED'));
    next();
  });

  router.get('/runs', async (req: Request, res: Response) => {
    const query = readRunQuery(req.query);
    if ('field' in query) return reply(res, invalidQuery(query.field, query.takes));
    const { filter, limit, before, after } = query;
    // One more than asked tells whether a page beyond exists (older, or newer when reading up from `after`).
    const runs = await deps.store.listRuns({ ...filter, limit: limit + 1, beforeId: before, afterId: after });
    const more = runs.length > limit;
    if (after !== undefined) {
      const page = more ? runs.slice(1) : runs;
      return res.json({ runs: page.map(runSummaryJson), next_before: page.length ? page[page.length - 1]!.id : after + 1, next_after: more ? page[0]!.id : null });
    }
    const page = runs.slice(0, limit);
    res.json({
      runs: page.map(runSummaryJson),
      next_before: more ? page[page.length - 1]!.id : null,
      next_after: before !== undefined ? (page[0]?.id ?? before - 1) : null,
    });
  });

  router.get('/runs/:id', async (req: Request, res: Response) => {
    const run = await deps.store.getRun(Number(req.params.id));
    if (!run) return reply(res, errorReply('RUN_NOT_FOUND'));
    res.json({ run: runDetailJson(run) });
  });

  router.post('/runs/:id/retry', async (req: Request, res: Response) => {
    const id = Number(req.params.id);
    const result = await deps.store.requeueDeadRun(id, Date.now());
    if (result === 'not-found') return reply(res, errorReply('RUN_NOT_FOUND'));
    if (result === 'not-dead') return reply(res, errorReply('RUN_NOT_RETRYABLE'));
    deps.onRequeued?.();
    reply(res, { status: 202, body: { status: 'requeued', run_id: id } });
  });

  router.get('/quarantine', async (_req: Request, res: Response) => {
    const receipts = await deps.store.listQuarantine(100);
    res.json({ quarantine: receipts.map(quarantinedJson) });
  });

  router.post('/quarantine/:id/replay', async (req: Request, res: Response) => {
    reply(res, await deps.receiver.replayQuarantined(Number(req.params.id), String(req.id)));
  });

  return router;
}

/** The longest `q` or `mapping` taken; the Runs page cuts its fields to the same. */
const MAX_TEXT_PARAM = 100;
/** An ISO 8601 date-time with its offset (`Z` or ±hh:mm), as every time in the API's bodies. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

type RunQuery = { filter: RunFilter; limit: number; before?: number; after?: number } | { field: string; takes: string };

/** GET /api/runs's query: the Runs page's filters, in the API's convention; the first bad parameter named. */
function readRunQuery(query: Request['query']): RunQuery {
  const status = query.status;
  if (status !== undefined && !isRunStatus(status)) return { field: 'status', takes: 'one of the run statuses' };
  const limit = intParam(query.limit, 50, RUN_LIST_MAX_LIMIT);
  if (limit === null) return { field: 'limit', takes: `an integer from 1 to ${RUN_LIST_MAX_LIMIT}` };
  const before = intParam(query.before, undefined, Number.MAX_SAFE_INTEGER);
  if (before === null) return { field: 'before', takes: 'a run id (a positive integer)' };
  const after = intParam(query.after, undefined, Number.MAX_SAFE_INTEGER);
  if (after === null) return { field: 'after', takes: 'a run id (a positive integer)' };
  if (before !== undefined && after !== undefined) return { field: 'after', takes: 'left out when before is given' };
  const filter: RunFilter = { status };
  for (const [field, key] of [['q', 'search'], ['mapping', 'mappingName']] as const) {
    const value = query[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_TEXT_PARAM) return { field, takes: `a text of 1 to ${MAX_TEXT_PARAM} characters` };
    filter[key] = value.trim();
  }
  for (const [field, key] of [['from', 'createdFrom'], ['to', 'createdTo']] as const) {
    const value = query[field];
    if (value === undefined) continue;
    const at = typeof value === 'string' && ISO_DATE_TIME.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(at)) return { field, takes: 'an ISO 8601 date-time with its offset, e.g. 2026-12-03T09:30:00Z' };
    filter[key] = at;
  }
  return { filter, limit, before, after };
}

function invalidQuery(field: string, takes: string): Reply {
  return errorReply('INVALID_QUERY', { field, detail: `${field} must be ${takes}` });
}

/** A positive integer up to `max`, `fallback` when absent, null when invalid. */
function intParam<F extends number | undefined>(value: unknown, fallback: F, max: number): number | F | null {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 1 && n <= max ? n : null;
}

function iso(ms: number): string;
function iso(ms: number | null | undefined): string | null;
function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

export function runSummaryJson(r: RunSummary): RunSummaryJson {
  return {
    id: r.id,
    sender: r.sender,
    call_id: r.callId,
    revision: r.revision,
    mapping_name: r.mappingName,
    mapping_hash: r.mappingHash,
    status: r.status,
    is_test: r.isTest,
    attempts: r.attempts,
    next_run_at: iso(r.nextRunAt),
    last_error: r.lastError,
    score: r.score,
    customer_phone: r.customerPhone ?? null,
    created_at: iso(r.createdAt),
    updated_at: iso(r.updatedAt),
    finished_at: iso(r.finishedAt),
  };
}

export function runDetailJson(r: RunDetail): RunDetailJson {
  return { ...runSummaryJson(r), call: r.call as unknown as RunDetailJson['call'], steps: r.steps.map(stepJson) };
}

function stepJson(s: StepResult): RunDetailJson['steps'][number] {
  return {
    step_id: s.stepId,
    status: s.status,
    input: s.input,
    input_hash: s.inputHash,
    output: s.output,
    error: s.error,
    attempts: s.attempts,
    started_at: s.status === 'skipped' ? null : iso(s.startedAt),
    finished_at: iso(s.finishedAt),
    evidence: s.evidence,
  };
}

function quarantinedJson(r: Receipt): QuarantinedJson {
  return {
    id: r.id,
    request_id: r.requestId,
    received_at: iso(r.receivedAt),
    sender: r.sender,
    reason: r.reason,
    errors: r.issues,
    size_bytes: r.rawBody?.length ?? null,
    replayed_at: iso(r.replayedAt),
  };
}
