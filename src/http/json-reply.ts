// JSON replies written on Node's own response, so the Express routes and the webhook route
// (which Express never sees) answer alike: status, JSON body, the request id in both.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorReply, type Reply } from '../errors.js';
import type { Logger } from '../logger.js';

export function sendReply(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return;
  const body = JSON.stringify(reply.exact ? reply.body : { ...reply.body, request_id: res.getHeader('x-request-id') });
  res.statusCode = reply.status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * An error nothing answered: a client's fault (a 4xx the body reader or Express raised)
 * says so; anything else is logged and answered 500, and the process goes on.
 */
export function sendError(res: ServerResponse, error: unknown, logger: Logger): void {
  const { status, type } = (error ?? {}) as { status?: unknown; type?: unknown };
  if (typeof status === 'number' && status >= 400 && status < 500) {
    sendReply(res, { ...errorReply('BAD_REQUEST', { detail: typeof type === 'string' ? type : 'bad request' }), status });
    return;
  }
  logger.error({ err: error }, 'unhandled error');
  sendReply(res, errorReply('INTERNAL'));
}

const DISCARD_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Reads the rest of a body that was refused unread (401, 413, …) and throws it away; true once
 * it has all arrived. Answering and closing with it unread makes the kernel reset the
 * connection, and the sender never sees the answer. Bounded in bytes and time (false), so a
 * client cannot keep us reading forever: the caller then drops the connection unanswered.
 */
export function discardBody(req: IncomingMessage, maxMs: number): Promise<boolean> {
  if (req.complete) return Promise.resolve(true);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (complete: boolean) => {
      clearTimeout(stop);
      req.off('data', count);
      resolve(complete);
    };
    const stop = setTimeout(() => finish(false), maxMs);
    stop.unref();
    const count = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DISCARD_MAX_BYTES) finish(false);
    };
    req.on('data', count);
    req.once('end', () => finish(true));
    req.once('close', () => finish(req.complete));
    req.resume();
  });
}
