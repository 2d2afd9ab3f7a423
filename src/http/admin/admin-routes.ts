// The operators' Runs page at /admin: server-rendered, every value escaped, behind
// ADMIN_TOKEN (login form → HttpOnly SameSite=Strict cookie), CSRF token on every POST,
// security headers from helmet. Disabled when ADMIN_TOKEN is unset.
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { MappingRegistry } from '../../mapping/mapping-registry.js';
import { fixtureFile, fixtureFileName } from '../../payload/fixture-file.js';
import type { TestDeliveryMode } from '../../payload/test-request.js';
import type { RunFilter, Store } from '../../store/store.js';
import type { DeliveryReceiver } from '../../ingest/receive-delivery.js';
import { LOGIN_CSRF_COOKIE, randomToken, readCookie, SESSION_COOKIE, type AdminSessions } from './session.js';
import { ADMIN_CSS } from './stylesheet.js';
import { ADMIN_JS, FAVICON_SVG } from './assets.js';
import { layout } from './views/layout.js';
import { loginPage } from './views/login-page.js';
import { inboundDetailPage, inboundListPage } from './views/inbound-page.js';
import { quarantinePage } from './views/quarantine-page.js';
import { planRerun } from './rerun-plan.js';
import { rerunPage } from './views/rerun-page.js';
import { runPage } from './views/run-page.js';
import { runsPage, type RunFilters } from './views/runs-page.js';
import { isRunStatus } from '../../store/run-status.js';
import { html } from './html.js';

export interface AdminRoutesDeps {
  sessions: AdminSessions;
  store: Store;
  mappings: MappingRegistry;
  receiver: DeliveryReceiver;
  /** Wakes the worker after a retry or re-run. */
  onRequeued?: () => void;
  now?: () => number;
  /** What the worker does with a test delivery's steps, for the re-run confirmation. */
  testDeliveries?: TestDeliveryMode;
}

const PAGE_SIZE = 50;
const DAY_MS = 24 * 60 * 60 * 1000;

declare module 'express-serve-static-core' {
  interface Request {
    adminSession?: { expiresAt: number; csrf: string };
  }
}

export function createAdminRoutes(deps: AdminRoutesDeps): Router {
  const router = Router();
  const { sessions } = deps;
  const now = deps.now ?? Date.now;

  router.use(
    helmet({
      contentSecurityPolicy: {
        // Scripts only from this origin (the one file below, no inline script, no eval); trusted
        // types forbid string-to-DOM sinks even there.
        directives: {
          defaultSrc: ["'self'"],
          styleSrc: ["'self'"],
          scriptSrc: ["'self'"],
          requireTrustedTypesFor: ["'script'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      referrerPolicy: { policy: 'same-origin' },
    }),
  );
  router.use((_req, res, next) => {
    res.setHeader('cache-control', 'no-store');
    next();
  });
  router.use(express.urlencoded({ extended: false, limit: '16kb' }));

  router.get('/assets/admin.css', (_req, res) => {
    res.type('text/css').setHeader('cache-control', 'public, max-age=300');
    res.send(ADMIN_CSS);
  });
  router.get('/assets/admin.js', (_req, res) => {
    res.type('text/javascript').setHeader('cache-control', 'public, max-age=300');
    res.send(ADMIN_JS);
  });
  router.get('/favicon.svg', (_req, res) => {
    res.type('image/svg+xml').setHeader('cache-control', 'public, max-age=86400');
    res.send(FAVICON_SVG);
  });

  const secureCookie = (req: Request) => req.secure;
  const page = (res: Response, status: number, body: string) => res.status(status).type('html').send(body);

  router.get('/login', (req, res) => {
    const csrf = randomToken();
    res.cookie(LOGIN_CSRF_COOKIE, csrf, { httpOnly: true, sameSite: 'strict', secure: secureCookie(req), path: '/admin' });
    page(res, 200, loginPage({ csrf, next: safeNext(req.query.next) }));
  });

  router.post('/login', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const expected = readCookie(req.headers.cookie, LOGIN_CSRF_COOKIE);
    const csrf = randomToken();
    res.cookie(LOGIN_CSRF_COOKIE, csrf, { httpOnly: true, sameSite: 'strict', secure: secureCookie(req), path: '/admin' });
    if (!expected || body._csrf !== expected) {
      return page(res, 403, loginPage({ csrf, error: 'The form expired. Please try again.' }));
    }
    if (typeof body.token !== 'string' || !sessions.tokenMatches(body.token)) {
      return page(res, 401, loginPage({ csrf, error: 'That token is not right.', next: safeNext(body.next) }));
    }
    const session = await sessions.start(now());
    res.cookie(SESSION_COOKIE, session.cookie, {
      httpOnly: true,
      sameSite: 'strict',
      secure: secureCookie(req),
      path: '/admin',
      expires: new Date(session.expiresAt),
    });
    res.redirect(303, safeNext(body.next));
  });

  // Everything below needs a session; every POST below needs its CSRF token.
  router.use(async (req: Request, res: Response, next: NextFunction) => {
    const session = await sessions.verify(readCookie(req.headers.cookie, SESSION_COOKIE), now());
    if (session === null) {
      if (req.method === 'GET') return res.redirect(303, `/admin/login?next=${encodeURIComponent(req.originalUrl)}`);
      return page(res, 401, layout('Log in', html`<p>Your session ended. <a href="/admin/login">Log in</a> again.</p>`));
    }
    const csrf = sessions.csrfFor(session);
    if (req.method === 'POST' && !sessions.csrfMatches(session, (req.body as Record<string, unknown> | undefined)?._csrf)) {
      return page(res, 403, layout('Forbidden', html`<p class="error">The form's security token is missing or wrong. Go back, reload and try again.</p>`, { csrf }));
    }
    req.adminSession = { expiresAt: session.expiresAt, csrf };
    next();
  });

  // Ends the session in the store: the cookie stops working even where a copy of it survives.
  router.post('/logout', async (req, res) => {
    await sessions.end(readCookie(req.headers.cookie, SESSION_COOKIE), now());
    res.clearCookie(SESSION_COOKIE, { path: '/admin' });
    res.redirect(303, '/admin/login');
  });

  router.get('/', async (req, res) => {
    const filters = readFilters(req.query);
    const filter: RunFilter = {
      status: isRunStatus(filters.status) ? filters.status : undefined,
      mappingName: filters.mapping || undefined,
      createdFrom: filters.from ? Date.parse(`${filters.from}T00:00:00Z`) : undefined,
      createdTo: filters.to ? Date.parse(`${filters.to}T00:00:00Z`) + DAY_MS : undefined,
      search: filters.q || undefined,
      beforeId: positiveInt(req.query.before),
      limit: PAGE_SIZE + 1,
    };
    const runs = await deps.store.listRuns(filter);
    const more = runs.length > PAGE_SIZE;
    const shown = runs.slice(0, PAGE_SIZE);
    page(
      res,
      200,
      runsPage({
        runs: shown,
        filters,
        mappings: deps.mappings.current().map((m) => m.name),
        nextBefore: more ? shown[shown.length - 1]!.id : null,
        csrf: req.adminSession!.csrf,
      }),
    );
  });

  router.get('/runs/:id', async (req, res) => {
    const run = await deps.store.getRun(Number(req.params.id));
    if (!run) return page(res, 404, layout('Not found', html`<p>No run #${req.params.id}.</p>`, req.adminSession));
    const mapping = deps.mappings.resolve(run.mappingName, run.mappingHash);
    const delivery = (await deps.store.getCallPayloads(run.callId, run.revision)).find((p) => p.sender === run.sender) ?? null;
    page(res, 200, runPage({ run, mapping, delivery, csrf: req.adminSession!.csrf, notice: noticeFrom(req.query.notice) }));
  });

  // The run's call as delivered, as a fixture file to save (scrubbed: fit to commit).
  router.get('/runs/:id/payload', async (req, res) => {
    const run = await deps.store.getRun(Number(req.params.id));
    if (!run) return page(res, 404, layout('Not found', html`<p>No run #${req.params.id}.</p>`, req.adminSession));
    const payload = (await deps.store.getCallPayloads(run.callId, run.revision)).find((p) => p.sender === run.sender);
    if (!payload?.body) {
      return page(res, 404, layout('Payload gone', html`<p>The payload of call ${run.callId} revision ${run.revision} is no longer stored (RETENTION_DAYS).</p>`, req.adminSession));
    }
    const scrub = req.query.scrub === '1';
    res.attachment(fixtureFileName(payload, scrub)).type('application/json').send(fixtureFile(payload.body, { scrub }));
  });

  /** Queues run :id again, wakes the worker, and goes back to the run's page saying which it was. */
  const requeue = (queue: (id: number, at: number) => Promise<string>, queued: string, refused: string) => async (req: Request, res: Response) => {
    const id = Number(req.params.id);
    const result = await queue(id, now());
    if (result === 'requeued') deps.onRequeued?.();
    res.redirect(303, `/admin/runs/${id}?notice=${result === 'requeued' ? queued : refused}`);
  };
  router.post('/runs/:id/retry', requeue((id, at) => deps.store.requeueDeadRun(id, at), 'retry-queued', 'not-retryable'));

  router.get('/runs/:id/rerun', async (req, res) => {
    const run = await deps.store.getRun(Number(req.params.id));
    if (!run) return page(res, 404, layout('Not found', html`<p>No run #${req.params.id}.</p>`, req.adminSession));
    const current = deps.mappings.current().find((m) => m.name === run.mappingName) ?? null;
    const plan = await planRerun(run, current, { now: now(), store: deps.store, testDeliveries: deps.testDeliveries });
    page(res, 200, rerunPage({ run, plan, csrf: req.adminSession!.csrf }));
  });

  router.post('/runs/:id/rerun', requeue((id, at) => deps.store.requeueForRerun(id, at), 'rerun-queued', 'not-rerunnable'));

  router.get('/inbound', async (req, res) => {
    page(res, 200, inboundListPage({ requests: await deps.store.listInbound(100), csrf: req.adminSession!.csrf }));
  });

  router.get('/inbound/:id', async (req, res) => {
    const id = positiveInt(req.params.id);
    const request = id === undefined ? null : await deps.store.getInbound(id);
    if (!request) return page(res, 404, layout('Not found', html`<p>No inbound request #${req.params.id}.</p>`, req.adminSession));
    page(res, 200, inboundDetailPage({ request, csrf: req.adminSession!.csrf }));
  });

  router.get('/quarantine', async (req, res) => {
    const receipts = await deps.store.listQuarantine(100);
    page(res, 200, quarantinePage({ receipts, csrf: req.adminSession!.csrf, notice: noticeFrom(req.query.notice) }));
  });

  router.post('/quarantine/:id/replay', async (req, res) => {
    const reply = await deps.receiver.replayQuarantined(Number(req.params.id), String(req.id));
    const notice = reply.status < 300 ? 'replayed' : 'replay-failed';
    res.redirect(303, `/admin/quarantine?notice=${notice}`);
  });

  return router;
}

const NOTICES: Record<string, string> = {
  'retry-queued': 'The run is queued again; completed steps will not repeat.',
  'not-retryable': 'Only dead or invalid-variables runs can be retried.',
  replayed: 'The payload was accepted; its runs are queued.',
  'replay-failed': 'The payload is still invalid under the current schema; see its errors.',
  'rerun-queued': 'The run is queued again with the current mappings.',
  'not-rerunnable': 'Only finished runs can be re-run.',
};

function noticeFrom(value: unknown): string | undefined {
  return typeof value === 'string' ? NOTICES[value] : undefined;
}

function readFilters(query: Request['query']): RunFilters {
  const text = (v: unknown) => (typeof v === 'string' ? v.trim().slice(0, 100) : undefined);
  const date = (v: unknown) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : undefined);
  return { status: text(query.status), mapping: text(query.mapping), from: date(query.from), to: date(query.to), q: text(query.q) };
}

function positiveInt(value: unknown): number | undefined {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Only local admin paths: never an open redirect. */
function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/admin(\/[\w\-/?=&%.]*)?$/.test(value) ? value : '/admin';
}
