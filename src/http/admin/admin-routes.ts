// The operators' Runs page at /admin: server-rendered, every value escaped, behind
// ADMIN_TOKEN (login form → HttpOnly SameSite=Strict cookie), CSRF token on every POST,
// security headers from helmet. Disabled when ADMIN_TOKEN is unset.
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { MappingRegistry } from '../../mapping/mapping-registry.js';
import { fixtureFile, fixtureFileName } from '../../payload/fixture-file.js';
import type { TestDeliveryMode } from '../../payload/test-request.js';
import type { Store } from '../../store/store.js';
import type { Logger } from '../../logger.js';
import type { DeliveryReceiver } from '../../ingest/receive-delivery.js';
import { LOGIN_CSRF_COOKIE, randomToken, readCookie, SESSION_COOKIE, type AdminSessions } from './session.js';
import { ADMIN_CSS } from './stylesheet.js';
import { ADMIN_JS, FAVICON_SVG } from './assets.js';
import { layout } from './views/layout.js';
import { loginPage } from './views/login-page.js';
import { inboundDetailPage, inboundListPage } from './views/inbound-page.js';
import { quarantinePage } from './views/quarantine-page.js';
import { runPage } from './views/run-page.js';
import { html } from './html.js';
import { ADMIN_CSP_DIRECTIVES } from './content-security-policy.js';
import { createActionRoutes } from './action-routes.js';
import { noticeFrom } from './notices.js';
import { createRunsRoutes, positiveInt } from './runs-routes.js';

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
  logger: Logger;
  /** How long the Runs page reuses its activity counts (default 15 s). */
  activityCacheMs?: number;
}


declare module 'express-serve-static-core' {
  interface Request {
    adminSession?: { expiresAt: number; csrf: string };
  }
}

export function createAdminRoutes(deps: AdminRoutesDeps): Router {
  const router = Router();
  const { sessions } = deps;
  const now = deps.now ?? Date.now;

  router.use(helmet({ contentSecurityPolicy: { directives: ADMIN_CSP_DIRECTIVES }, referrerPolicy: { policy: 'same-origin' } }));
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

  router.use(createRunsRoutes({ store: deps.store, mappings: deps.mappings, now, activityCacheMs: deps.activityCacheMs }));
  router.use(createActionRoutes({ ...deps, now }));

  router.get('/runs/:id', async (req, res) => {
    const run = await deps.store.getRun(Number(req.params.id));
    if (!run) return page(res, 404, layout('Not found', html`<p>No run #${req.params.id}.</p>`, req.adminSession));
    const mapping = deps.mappings.resolve(run.mappingName, run.mappingHash);
    const delivery = (await deps.store.getCallPayloads(run.callId, run.revision)).find((p) => p.sender === run.sender) ?? null;
    page(res, 200, runPage({ run, mapping, delivery, csrf: req.adminSession!.csrf, notice: noticeFrom(req.query) }));
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
    page(res, 200, quarantinePage({ receipts, csrf: req.adminSession!.csrf, notice: noticeFrom(req.query) }));
  });

  return router;
}

/** Only local admin paths: never an open redirect. */
function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/admin(\/[\w\-/?=&%.]*)?$/.test(value) ? value : '/admin';
}
