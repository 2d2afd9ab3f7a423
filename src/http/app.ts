// Express at the edge only: it reads headers and the raw body, calls the ingest core and
// writes the reply. `createApp(deps)` is separate from `listen()` so tests use it directly.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { pinoHttp } from 'pino-http';
import getRawBody from 'raw-body';
import type { Config } from '../config.js';
import { errorReply } from '../errors.js';
import { maskUrl, type Logger } from '../logger.js';
import { formatProblem } from '../mapping/load-mappings.js';
import type { MappingRegistry } from '../mapping/mapping-registry.js';
import type { Store } from '../store/store.js';
import { createAdminApi } from './admin-api.js';
import { createAdminRoutes } from './admin/admin-routes.js';
import type { Metrics } from './metrics.js';
import { BodyTooLargeError, type DeliveryReceiver } from './receive-delivery.js';

export interface AppDeps {
  config: Pick<
    Config,
    'RATE_LIMIT_PER_MINUTE' | 'TRUST_PROXY' | 'WEBHOOK_SIGNATURE_HEADER' | 'ADMIN_TOKEN' | 'METRICS_TOKEN' | 'READY_MAX_QUEUE_LAG_MS'
  >;
  receiver: DeliveryReceiver;
  store: Store;
  mappings: MappingRegistry;
  metrics: Metrics;
  logger: Logger;
  /** Wakes the worker after an operator retry. */
  onRequeued?: () => void;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Nothing here is cached: an ETag is a hash of every reply body for nobody to use.
  app.set('etag', false);
  app.set('trust proxy', deps.config.TRUST_PROXY);

  const requestId = (req: IncomingMessage, res: ServerResponse) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', id);
    return id;
  };
  if (deps.logger.isLevelEnabled('info')) {
    app.use(
      pinoHttp({
        logger: deps.logger,
        genReqId: requestId,
        // Tokens travel in the path and query: log the route, never the raw URL or headers.
        serializers: {
          req: (req: { id?: unknown; method?: string; url?: string }) => ({ id: req.id, method: req.method, url: maskUrl(req.url ?? '') }),
          res: (res: { statusCode?: number }) => ({ status: res.statusCode }),
        },
        customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      }),
    );
  } else {
    // No per-request log line would be written: skip pino-http's per-request child logger.
    app.use((req, res, next) => {
      req.id = requestId(req, res);
      req.log = deps.logger;
      next();
    });
  }

  if (deps.config.RATE_LIMIT_PER_MINUTE > 0) {
    app.use(
      ['/webhooks', '/api', '/admin'],
      rateLimit({
        windowMs: 60_000,
        limit: deps.config.RATE_LIMIT_PER_MINUTE,
        standardHeaders: 'draft-7',
        legacyHeaders: false,
        handler: (_req, res) => send(res, errorReply('RATE_LIMITED')),
      }),
    );
  }

  const signatureHeader = deps.config.WEBHOOK_SIGNATURE_HEADER;
  const receive = async (req: Request, res: Response) => {
    const length = req.headers['content-length'];
    const reply = await deps.receiver.receive({
      requestId: String(req.id),
      tokens: [pathToken(req), bearerToken(req), queryToken(req)],
      contentType: req.headers['content-type'],
      contentLength: length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined,
      signature: header(req, signatureHeader),
      testMarker: header(req, 'x-aftercall-test'),
      readBody: (limit) =>
        getRawBody(req, { limit, length: length ?? null }).catch((error: { type?: string }) => {
          throw error.type === 'entity.too.large' ? new BodyTooLargeError('too large') : error;
        }),
    });
    // Refused before the body was read (401, 413, …): read the rest and throw it away first.
    // Answering and closing with it unread makes the kernel reset the connection, and the
    // sender never sees the answer. Bounded, so a client cannot keep us reading forever.
    if (!req.complete) await discardBody(req);
    send(res, reply);
  };
  app.post(['/webhooks/post-call', '/webhooks/post-call/:token'], receive);
  app.all(['/webhooks/post-call', '/webhooks/post-call/:token'], (_req, res) => {
    res.setHeader('allow', 'POST');
    send(res, errorReply('METHOD_NOT_ALLOWED'));
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, { ok: boolean; detail?: string; problems?: string[] }> = {};
    try {
      await deps.store.ping();
      checks.store = { ok: true, detail: deps.store.kind };
    } catch (error) {
      checks.store = { ok: false, detail: (error as Error).message };
    }
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
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', checks });
  });
  app.get('/metrics', async (req, res) => {
    const token = deps.config.METRICS_TOKEN;
    if (token && !sameSecret(bearerToken(req), token)) return send(res, errorReply('METRICS_UNAUTHORIZED'));
    res.setHeader('content-type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });

  if (deps.config.ADMIN_TOKEN) {
    app.use('/api', createAdminApi({ ...deps, adminToken: deps.config.ADMIN_TOKEN }));
    app.use('/admin', createAdminRoutes({ ...deps, adminToken: deps.config.ADMIN_TOKEN }));
  }

  app.use((_req, res) => send(res, errorReply('NOT_FOUND')));
  // Express 5 forwards rejected async handlers here; every reply stays JSON.
  app.use((error: { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    if (typeof error.status === 'number' && error.status >= 400 && error.status < 500) {
      send(res, { ...errorReply('BAD_REQUEST', { detail: error.type ?? 'bad request' }), status: error.status });
      return;
    }
    req.log.error({ err: error }, 'unhandled error');
    send(res, errorReply('INTERNAL'));
  });
  return app;
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const DISCARD_MAX_BYTES = 64 * 1024 * 1024;
const DISCARD_MAX_MS = 10_000;

function discardBody(req: Request): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const stop = setTimeout(resolve, DISCARD_MAX_MS);
    stop.unref();
    const done = () => {
      clearTimeout(stop);
      resolve();
    };
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DISCARD_MAX_BYTES) done();
    });
    req.once('end', done);
    req.once('close', done);
    req.resume();
  });
}

function send(res: Response, reply: { status: number; body: Record<string, unknown> }): void {
  if (res.headersSent) return;
  res.status(reply.status).json({ ...reply.body, request_id: res.getHeader('x-request-id') });
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function pathToken(req: Request): string | undefined {
  const token = req.params.token;
  return typeof token === 'string' ? token : undefined;
}

function queryToken(req: Request): string | undefined {
  const token = req.query.token;
  return typeof token === 'string' ? token : undefined;
}

function bearerToken(req: Request): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}
