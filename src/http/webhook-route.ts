// The webhook route, served on Node's own request handler ahead of Express: every delivery
// takes this path, and Express's router, request/response decoration and res.json cost more
// CPU per delivery than validating it (docs/performance.md). The edge middleware every route
// shares (request id and logging, the rate limiter) runs here too, in the same order, with
// the same instances.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorReply } from '../errors.js';
import type { Logger } from '../logger.js';
import { sendError, sendReply } from './json-reply.js';
import type { DeliveryReceiver } from '../ingest/receive-delivery.js';
import { senderHeaders } from '../ingest/sender-headers.js';
import { CLOSE_AFTER, decodePathToken, header, refuse, requestBody, requestTokens } from './webhook-request.js';
import type { PayloadKind } from '../payload/parse-payload.js';
import type { OtherPlatform } from '../payload/call.js';
import { RECEIVED_PLATFORMS } from '../payload/platforms/index.js';

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
export const WEBHOOK_ROUTES: ReadonlyArray<{ segment: string; receives: readonly PayloadKind[]; platform?: OtherPlatform }> = [
  // Calls, and chats too: a Famulor 2.0 workspace webhook sends every event to one URL.
  { segment: 'post-call', receives: ['call', 'conversation'] },
  // The URL the platform's enable-conversation-ended-webhook registers: chats only.
  { segment: 'conversation-ended', receives: ['conversation'] },
  // Every other platform's one URL: its end-of-call events, and its pre-call request where it sends one there.
  ...RECEIVED_PLATFORMS.map((platform) => ({ segment: platform, receives: ['call'] as const, platform })),
];

const SEGMENTS = new Map(WEBHOOK_ROUTES.map((r) => [r.segment, r]));

/**
 * POST /webhooks/<segment>[/:token][?…], matched as Express would: any case, an optional
 * trailing slash, and the request target in origin form or absolute form (`http://host/…`).
 */
const WEBHOOK_PATH = /^(?:[a-z][a-z\d+.-]*:\/\/[^/?]*)?\/webhooks\/([a-z][a-z\d-]*)(?:\/([^/?]+))?\/?(?:\?(.*))?$/i;

/** The route a request targets: its segment's kinds, path token and query; null when it is no webhook route. */
function matchRoute(url: string | undefined): { receives: readonly PayloadKind[]; platform?: OtherPlatform; pathToken?: string; query?: string } | null {
  const match = WEBHOOK_PATH.exec(url ?? '');
  const route = match ? SEGMENTS.get(match[1]!.toLowerCase()) : undefined;
  if (!match || !route) return null;
  return { receives: route.receives, platform: route.platform, pathToken: match[2], query: match[3] };
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

/**
 * The tokens a delivery carries, in the order the receiver tries them (path, bearer, query);
 * null for a request that is not a delivery. A path token that is not valid percent-encoding
 * counts as none.
 */
export function webhookTokens(req: IncomingMessage): Array<string | undefined> | null {
  if (req.method !== 'POST') return null;
  const route = matchRoute(req.url);
  if (!route) return null;
  return requestTokens(req, decodePathToken(route.pathToken) ?? undefined, route.query);
}

/** Serves the request and returns true when it is a webhook delivery; false leaves it to Express. */
export type WebhookRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

export function createWebhookRoute(deps: WebhookRouteDeps): WebhookRoute {
  const signatureHeader = deps.signatureHeader.toLowerCase();

  async function receive(req: IncomingMessage, res: ServerResponse, route: NonNullable<ReturnType<typeof matchRoute>>) {
    const fromPath = decodePathToken(route.pathToken);
    if (fromPath === null) {
      await refuse(req, res, errorReply('BAD_REQUEST', { detail: 'the token in the path is not valid percent-encoding' }), deps.requestTimeoutMs);
      return;
    }
    const reply = await deps.receiver.receive({
      requestId: String((req as { id?: unknown }).id),
      tokens: requestTokens(req, fromPath, route.query),
      contentType: req.headers['content-type'],
      ...requestBody(req),
      signature: header(req, signatureHeader),
      testMarker: header(req, 'x-aftercall-test'),
      receives: route.receives,
      platform: route.platform,
      header: (name) => header(req, name),
      senderHeaders: () => senderHeaders(req.headers),
    });
    if (req.complete && !CLOSE_AFTER.has(reply.status)) sendReply(res, reply);
    else await refuse(req, res, reply, deps.requestTimeoutMs);
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
