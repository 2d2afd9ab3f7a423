// POST /webhooks/inbound-call[/:token][?…]: the platform's inbound-call variable request, on
// Node's request handler ahead of Express like the post-call route (webhook-route.ts), with the
// same edge middleware (request id and logging, the rate limiter) and the same refusals: a
// 401/413/415 closes the connection after the rest of the body is read.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import type { InboundReceiver } from '../ingest/inbound/receive-inbound.js';
import { sendError, sendReply } from './json-reply.js';
import { CLOSE_AFTER, decodePathToken, header, refuse, requestBody, requestTokens } from './webhook-request.js';
import { runEdgeMiddleware, type EdgeMiddleware, type WebhookRoute } from './webhook-route.js';

/** Matched as Express would: any case, an optional trailing slash, origin or absolute form. */
const INBOUND_PATH = /^(?:[a-z][a-z\d+.-]*:\/\/[^/?]*)?\/webhooks\/inbound-call(?:\/([^/?]+))?\/?(?:\?(.*))?$/i;

export interface InboundRouteDeps {
  receiver: InboundReceiver;
  /** WEBHOOK_SIGNATURE_HEADER (Famulor 2.0's X-Famulor-Signature by default). */
  signatureHeader: string;
  before: EdgeMiddleware[];
  logger: Logger;
  requestTimeoutMs: number;
}

/** The tokens an inbound request carries (path, bearer, query); null for any other request. */
export function inboundTokens(req: IncomingMessage): Array<string | undefined> | null {
  if (req.method !== 'POST') return null;
  const match = INBOUND_PATH.exec(req.url ?? '');
  if (!match) return null;
  return requestTokens(req, decodePathToken(match[1]) ?? undefined, match[2]);
}

export function createInboundRoute(deps: InboundRouteDeps): WebhookRoute {
  const signatureHeader = deps.signatureHeader.toLowerCase();

  async function receive(req: IncomingMessage, res: ServerResponse) {
    const tokens = inboundTokens(req)!;
    const reply = await deps.receiver.receive({
      requestId: String((req as { id?: unknown }).id),
      tokens,
      contentType: req.headers['content-type'],
      ...requestBody(req),
      signature: header(req, signatureHeader),
    });
    if (!req.complete || CLOSE_AFTER.has(reply.status)) return refuse(req, res, reply, deps.requestTimeoutMs);
    sendReply(res, reply.status === 200 ? { ...reply, exact: true } : reply);
  }

  return (req, res) => {
    if (req.method !== 'POST' || !INBOUND_PATH.test(req.url ?? '')) return false;
    const fail = (error: unknown) => sendError(res, error, deps.logger);
    runEdgeMiddleware(deps.before, req, res, fail, () => receive(req, res).catch(fail));
    return true;
  };
}
