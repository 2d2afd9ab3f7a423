// Node's request handler: the webhook route (webhook-route.ts) takes deliveries, Express
// everything else (health, metrics, admin API and UI, 404s, 405s). Both run the same edge
// middleware: request id and logging, and the rate limits whose counts they share.
// `createRequestHandler(deps)` is separate from `listen()`: service.ts makes the server.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { pinoHttp } from 'pino-http';
import proxyAddr from 'proxy-addr';
import type { Config } from '../config.js';
import { errorReply } from '../errors.js';
import type { Logger } from '../logger.js';
import { maskUrl } from '../masking.js';
import { formatProblem } from '../mapping/load-mappings.js';
import type { MappingRegistry } from '../mapping/mapping-registry.js';
import type { Store } from '../store/store.js';
import { createAdminApi } from './admin-api.js';
import { bearerToken, sameSecret } from './bearer-auth.js';
import { createAdminRoutes } from './admin/admin-routes.js';
import { createAdminSessions, readCookie, SESSION_COOKIE } from './admin/session.js';
import { sendError, sendReply as send } from './json-reply.js';
import type { Metrics } from './metrics.js';
import type { DeliveryReceiver } from '../ingest/receive-delivery.js';
import type { InboundReceiver } from '../ingest/inbound/receive-inbound.js';
import { createInboundRoute, inboundTokens } from './inbound-route.js';
import { createWebhookRoute, WEBHOOK_ROUTES, webhookTokens, type EdgeMiddleware } from './webhook-route.js';

export interface AppDeps {
  config: Pick<
    Config,
    | 'RATE_LIMIT_PER_MINUTE'
    | 'RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE'
    | 'TRUST_PROXY'
    | 'REQUEST_TIMEOUT_MS'
    | 'WEBHOOK_SIGNATURE_HEADER'
    | 'ADMIN_TOKEN'
    | 'METRICS_TOKEN'
    | 'READY_MAX_QUEUE_LAG_MS'
    | 'TEST_DELIVERIES'
  >;
  receiver: DeliveryReceiver;
  /** The inbound-call variable requests (POST /webhooks/inbound-call); unset: the route answers 404. */
  inbound?: InboundReceiver;
  store: Store;
  mappings: MappingRegistry;
  metrics: Metrics;
  logger: Logger;
  /** Wakes the worker after an operator retry. */
  onRequeued?: () => void;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function createRequestHandler(deps: AppDeps): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  // Nothing here is cached: an ETag is a hash of every reply body for nobody to use.
  app.set('etag', false);
  app.set('trust proxy', deps.config.TRUST_PROXY);

  const sessions = deps.config.ADMIN_TOKEN ? createAdminSessions(deps.config.ADMIN_TOKEN, deps.store) : null;
  const edge: EdgeMiddleware[] = [requestIdAndLogging(deps.logger)];
  app.use(edge[0]!);
  if (deps.config.RATE_LIMIT_PER_MINUTE > 0) {
    // The client as Express's req.ip names it (TRUST_PROXY hops), on either route.
    const trust = app.get('trust proxy fn') as (address: string, hop: number) => boolean;
    // A delivery's token, or the operator's: the admin token as bearer or a signed session.
    const hasCredential = (req: IncomingMessage): boolean => {
      const tokens = webhookTokens(req) ?? inboundTokens(req);
      if (tokens) return deps.receiver.senderFor(tokens) !== null;
      const admin = deps.config.ADMIN_TOKEN;
      if (admin === undefined) return false;
      return sameSecret(bearerToken(req), admin) || sessions?.signed(readCookie(req.headers.cookie, SESSION_COOKIE), Date.now()) != null;
    };
    const limiter = rateLimits(deps.config, trust, hasCredential);
    app.use(limiter);
    edge.push(limiter);
  }

  const webhook = createWebhookRoute({
    receiver: deps.receiver,
    signatureHeader: deps.config.WEBHOOK_SIGNATURE_HEADER,
    before: edge,
    logger: deps.logger,
    requestTimeoutMs: deps.config.REQUEST_TIMEOUT_MS,
  });
  app.all(WEBHOOK_ROUTES.flatMap((r) => [`/webhooks/${r.segment}`, `/webhooks/${r.segment}/:token`]), (_req, res) => {
    res.setHeader('allow', 'POST');
    send(res, errorReply('METHOD_NOT_ALLOWED'));
  });
  const inbound = deps.inbound
    ? createInboundRoute({
        receiver: deps.inbound,
        signatureHeader: deps.config.WEBHOOK_SIGNATURE_HEADER,
        before: edge,
        logger: deps.logger,
        requestTimeoutMs: deps.config.REQUEST_TIMEOUT_MS,
      })
    : () => false;
  if (deps.inbound) {
    app.all(['/webhooks/inbound-call', '/webhooks/inbound-call/:token'], (_req, res) => {
      res.setHeader('allow', 'POST');
      send(res, errorReply('METHOD_NOT_ALLOWED'));
    });
  }

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // The store's check is a write: requests at the same time share one.
  let storeChecking: Promise<{ ok: boolean; error?: string }> | null = null;
  const storeCheck = () =>
    (storeChecking ??= deps.store.ping().then(
      (): { ok: boolean; error?: string } => ({ ok: true }),
      (error: unknown) => ({ ok: false, error: (error as Error).message }),
    ).finally(() => {
      storeChecking = null;
    }));
  app.get('/readyz', async (req, res) => {
    const checks: Record<string, { ok: boolean; detail?: string; problems?: string[] }> = {};
    const store = await storeCheck();
    checks.store = store.ok ? { ok: true, detail: deps.store.kind } : { ok: false, detail: store.error };
    const loaded = deps.mappings.current().length;
    const problems = deps.mappings.problems().map(formatProblem);
    checks.mappings = {
      ok: true, // a broken file keeps its last good version: still serving
      detail: `${loaded} mapping${loaded === 1 ? '' : 's'} loaded` + (problems.length ? `; ${problems.length} problem(s), last good versions active` : ''),
      ...(problems.length ? { problems } : {}),
    };
    try {
      const now = Date.now();
      const queue = await deps.store.queueStats(now);
      const lagMs = queue.oldestDueAt === null ? 0 : Math.max(0, now - queue.oldestDueAt);
      const ok = lagMs <= deps.config.READY_MAX_QUEUE_LAG_MS;
      checks.queue = {
        ok,
        detail: `${queue.depth} run(s) due, oldest waiting ${Math.round(lagMs / 1000)} s` +
          (ok ? '' : ` (over READY_MAX_QUEUE_LAG_MS=${deps.config.READY_MAX_QUEUE_LAG_MS}: the worker is behind or stuck)`),
      };
    } catch (error) {
      checks.queue = { ok: false, detail: (error as Error).message };
    }
    const ready = Object.values(checks).every((c) => c.ok);
    // Details (file paths in mapping problems, the store's errors) only for the operator's tokens.
    const token = bearerToken(req);
    const operator = [deps.config.ADMIN_TOKEN, deps.config.METRICS_TOKEN].some((t) => t !== undefined && sameSecret(token, t));
    const shown = operator ? checks : Object.fromEntries(Object.entries(checks).map(([name, c]) => [name, { ok: c.ok }]));
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', checks: shown });
  });
  app.get('/metrics', async (req, res) => {
    const token = deps.config.METRICS_TOKEN;
    if (token && !sameSecret(bearerToken(req), token)) return send(res, errorReply('METRICS_UNAUTHORIZED'));
    res.setHeader('content-type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });

  if (deps.config.ADMIN_TOKEN && sessions) {
    app.use('/api', createAdminApi({ ...deps, adminToken: deps.config.ADMIN_TOKEN }));
    app.use('/admin', createAdminRoutes({ ...deps, sessions, testDeliveries: deps.config.TEST_DELIVERIES }));
  }

  app.use((_req, res) => send(res, errorReply('NOT_FOUND')));
  // Express 5 forwards rejected async handlers here; every reply stays JSON.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => sendError(res, error, req.log ?? deps.logger));
  return (req, res) => {
    if (!webhook(req, res) && !inbound(req, res)) app(req, res);
  };
}

/** Probes and scrapes, polled by machines that carry no credential: never rate limited. */
const UNLIMITED = /^\/(?:healthz|readyz|metrics)\/?(?:\?|$)/i;

/**
 * Two buckets per client address. Requests with a valid credential (a webhook token, the admin
 * token, a signed admin session) count against RATE_LIMIT_PER_MINUTE; every other request
 * (no or a wrong token, unknown paths, the login form) against the stricter
 * RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE, so a flood of strangers from one address, or from
 * everyone behind one proxy, takes nothing from the senders there (0 shares one bucket).
 */
function rateLimits(
  config: Pick<Config, 'RATE_LIMIT_PER_MINUTE' | 'RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE'>,
  trust: (address: string, hop: number) => boolean,
  authenticated: (req: IncomingMessage) => boolean,
): EdgeMiddleware {
  const bucket = (limit: number) =>
    rateLimit({
      windowMs: 60_000,
      limit,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      keyGenerator: (req) => ipKeyGenerator(proxyAddr(req, trust)),
      handler: (_req, res) => send(res, errorReply('RATE_LIMITED')),
    }) as unknown as EdgeMiddleware;
  const known = bucket(config.RATE_LIMIT_PER_MINUTE);
  const strangers = config.RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE > 0 ? bucket(config.RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE) : known;
  return (req, res, next) => {
    if (UNLIMITED.test(req.url ?? '')) return next();
    return (authenticated(req) ? known : strangers)(req, res, next);
  };
}

/** Gives every request an id (a valid X-Request-Id is kept) and, at info level, a log line. */
const PROBES = new Set(['/healthz', '/readyz']);
const isProbe = (url: string | undefined) => PROBES.has((url ?? '').split('?')[0]!);

function requestIdAndLogging(logger: Logger): EdgeMiddleware {
  const requestId = (req: IncomingMessage, res: ServerResponse) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', id);
    return id;
  };
  if (logger.isLevelEnabled('info')) {
    return pinoHttp({
      logger,
      genReqId: requestId,
      // Tokens travel in the path and query: log the route, never the raw URL or headers.
      serializers: {
        req: (req: { id?: unknown; method?: string; url?: string }) => ({ id: req.id, method: req.method, url: maskUrl(req.url ?? '') }),
        res: (res: { statusCode?: number }) => ({ status: res.statusCode }),
        // The logger's formatter made the error a masked plain object first; keep its type.
        err: (err: { raw?: { type?: unknown } }) => ({ ...err, type: err.raw?.type }),
      },
      customLogLevel: (req, res, err) =>
        // Probes come every few seconds: at info they would bury the lines that matter.
        isProbe(req.url) ? 'debug' : err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    });
  }
  // No per-request log line would be written: skip pino-http's per-request child logger.
  return (req, res, next) => {
    req.id = requestId(req, res);
    req.log = logger;
    next();
  };
}
