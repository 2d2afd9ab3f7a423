// The webhook route, served on Node's own request handler ahead of Express: every delivery
// takes this path, and Express's router, request/response decoration and res.json cost more
// CPU per delivery than validating it (docs/performance.md). The edge middleware every route
// shares (request id and logging, the rate limiter) runs here too, in the same order, with
// the same instances.
import type { IncomingMessage, ServerResponse } from 'node:http';
import getRawBody from 'raw-body';
import { errorReply, type Reply } from '../errors.js';
import type { Logger } from '../logger.js';
import { bearerToken } from './bearer-auth.js';
import { discardBody, sendError, sendReply } from './json-reply.js';
import { BodyTooLargeError, type DeliveryReceiver } from '../ingest/receive-delivery.js';
import type { PayloadKind } from '../payload/parse-payload.js';

/** Connect-style middleware on Node's request and response (what Express also accepts). */
export type EdgeMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => unknown;

/**
 * Runs the edge middleware (rate limit, security headers) in order, then `done`; an error
 * passed to `next` or thrown, synchronously or by a returned promise, goes to `fail`.
 */
export function runEdgeMiddleware(before: readonly EdgeMiddleware[], req: IncomingMessage, res: ServerResponse, fail: (error: unknown) => void, done: () => void): void {
  let index = 0;
  const next = (error?: unknown): void => {
    if (error) return fail(error);
    const middleware = before[index++];
    if (!middleware) return done();
    try {
      const pending = middleware(req, res, next);
      if (pending instanceof Promise) pending.catch(fail);
    } catch (thrown) {
      fail(thrown);
    }
  };
  next();
}

/**
 * The webhook routes: `POST /webhooks/<segment>[/<token>]`, one entry per path segment with
 * what it receives. A new sender (another platform's post-call webhook) adds an entry here,
 * not a copy of the route. A payload of a kind its route does not receive is a 422 naming it.
 */
export const WEBHOOK_ROUTES: ReadonlyArray<{ segment: string; receives: readonly PayloadKind[] }> = [
  // Calls, and chats too: a Famulor 2.0 workspace webhook sends every event to one URL.
  { segment: 'post-call', receives: ['call', 'conversation'] },
  // The URL the platform's enable-conversation-ended-webhook registers: chats only.
  { segment: 'conversation-ended', receives: ['conversation'] },
];

const SEGMENTS = new Map(WEBHOOK_ROUTES.map((r) => [r.segment, r.receives]));

/**
 * POST /webhooks/<segment>[/:token][?…], matched as Express would: any case, an optional
 * trailing slash, and the request target in origin form or absolute form (`http://host/…`).
 */
const WEBHOOK_PATH = /^(?:[a-z][a-z\d+.-]*:\/\/[^/?]*)?\/webhooks\/([a-z][a-z\d-]*)(?:\/([^/?]+))?\/?(?:\?(.*))?$/i;

/** The route a request targets: its segment's kinds, path token and query; null when it is no webhook route. */
function matchRoute(url: string | undefined): { receives: readonly PayloadKind[]; pathToken?: string; query?: string } | null {
  const match = WEBHOOK_PATH.exec(url ?? '');
  const receives = match ? SEGMENTS.get(match[1]!.toLowerCase()) : undefined;
  if (!match || !receives) return null;
  return { receives, pathToken: match[2], query: match[3] };
}

export interface WebhookRouteDeps {
  receiver: DeliveryReceiver;
  /** Header carrying the body's HMAC signature (WEBHOOK_SIGNATURE_HEADER), in any case. */
  signatureHeader: string;
  /** Runs first, in order: request id and logging, then the rate limiter. */
  before: EdgeMiddleware[];
  logger: Logger;
  /** REQUEST_TIMEOUT_MS: how long the rest of a refused body may take to arrive. */
  requestTimeoutMs: number;
}

/** Answers after which the connection is closed: a sender without the right credentials, or one that sent what it must not send again. */
const CLOSE_AFTER = new Set([401, 413, 415]);

/**
 * The tokens a delivery carries, in the order the receiver tries them (path, bearer, query);
 * null for a request that is not a delivery. A path token that is not valid percent-encoding
 * counts as none.
 */
export function webhookTokens(req: IncomingMessage): Array<string | undefined> | null {
  if (req.method !== 'POST') return null;
  const route = matchRoute(req.url);
  if (!route) return null;
  let fromPath: string | undefined;
  try {
    fromPath = route.pathToken === undefined ? undefined : decodeURIComponent(route.pathToken);
  } catch {
    fromPath = undefined;
  }
  return [fromPath, bearerToken(req), queryToken(route.query)];
}

/** Serves the request and returns true when it is a webhook delivery; false leaves it to Express. */
export type WebhookRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

export function createWebhookRoute(deps: WebhookRouteDeps): WebhookRoute {
  const signatureHeader = deps.signatureHeader.toLowerCase();

  async function receive(req: IncomingMessage, res: ServerResponse, route: NonNullable<ReturnType<typeof matchRoute>>) {
    const { pathToken, query } = route;
    let fromPath: string | undefined;
    try {
      fromPath = pathToken === undefined ? undefined : decodeURIComponent(pathToken);
    } catch {
      await refuse(req, res, errorReply('BAD_REQUEST', { detail: 'the token in the path is not valid percent-encoding' }));
      return;
    }
    const length = req.headers['content-length'];
    const reply = await deps.receiver.receive({
      requestId: String((req as { id?: unknown }).id),
      tokens: [fromPath, bearerToken(req), queryToken(query)],
      contentType: req.headers['content-type'],
      contentLength: length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined,
      signature: header(req, signatureHeader),
      testMarker: header(req, 'x-aftercall-test'),
      receives: route.receives,
      readBody: (limit) =>
        getRawBody(req, { limit, length: length ?? null }).catch((error: { type?: string }) => {
          throw error.type === 'entity.too.large' ? new BodyTooLargeError('too large') : error;
        }),
    });
    if (req.complete && !CLOSE_AFTER.has(reply.status)) sendReply(res, reply);
    else await refuse(req, res, reply);
  }

  /**
   * A refusal, most often before the body was read (401, 413, 415): the connection is closed
   * after the answer, so a stranger keeps no socket; the rest of the body is read first (see
   * discardBody), and a body still not in after REQUEST_TIMEOUT_MS loses the connection.
   */
  async function refuse(req: IncomingMessage, res: ServerResponse, reply: Reply) {
    if (!(await discardBody(req, deps.requestTimeoutMs))) {
      req.socket.destroy();
      return;
    }
    res.setHeader('connection', 'close');
    sendReply(res, reply);
  }

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const route = matchRoute(req.url);
    if (!route) return false;
    const fail = (error: unknown) => sendError(res, error, deps.logger);
    runEdgeMiddleware(deps.before, req, res, fail, () => receive(req, res, route).catch(fail));
    return true;
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `?token=` given once (given twice it is ambiguous, as Express's query parser makes it an array). */
function queryToken(query: string | undefined): string | undefined {
  if (!query) return undefined;
  const tokens = new URLSearchParams(query).getAll('token');
  return tokens.length === 1 ? tokens[0] : undefined;
}
