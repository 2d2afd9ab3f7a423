// What a POST to a webhook URL carries and how a refused one is answered, for the post-call
// and the inbound-call routes alike: its tokens (path, bearer, query), headers, body reader.
import type { IncomingMessage, ServerResponse } from 'node:http';
import getRawBody from 'raw-body';
import type { Reply } from '../errors.js';
import { BodyTooLargeError } from '../ingest/receive-delivery.js';
import { bearerToken } from './bearer-auth.js';
import { discardBody, sendReply } from './json-reply.js';

/** Answers after which the connection is closed: a sender without the right credentials, or one that sent what it must not send again. */
export const CLOSE_AFTER = new Set([401, 413, 415]);

/** The path token decoded; undefined when there is none, null when it is not valid percent-encoding. */
export function decodePathToken(raw: string | undefined): string | undefined | null {
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** The tokens in the order the receiver tries them: path, bearer, query. */
export function requestTokens(req: IncomingMessage, pathToken: string | undefined, query: string | undefined): Array<string | undefined> {
  return [pathToken, bearerToken(req), queryToken(query)];
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The declared length (when it is a number) and a reader of the body up to a limit. */
export function requestBody(req: IncomingMessage): { contentLength: number | undefined; readBody: (limit: number) => Promise<Buffer> } {
  const length = req.headers['content-length'];
  return {
    contentLength: length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined,
    readBody: (limit) =>
      getRawBody(req, { limit, length: length ?? null }).catch((error: { type?: string }) => {
        throw error.type === 'entity.too.large' ? new BodyTooLargeError('too large') : error;
      }),
  };
}

/**
 * A refusal, most often before the body was read (401, 413, 415): the connection is closed
 * after the answer, so a stranger keeps no socket; the rest of the body is read first (see
 * discardBody), and a body still not in after REQUEST_TIMEOUT_MS loses the connection.
 */
export async function refuse(req: IncomingMessage, res: ServerResponse, reply: Reply, requestTimeoutMs: number): Promise<void> {
  if (!(await discardBody(req, requestTimeoutMs))) {
    req.socket.destroy();
    return;
  }
  res.setHeader('connection', 'close');
  sendReply(res, reply);
}

/** `?token=` given once (given twice it is ambiguous, as Express's query parser makes it an array). */
function queryToken(query: string | undefined): string | undefined {
  if (!query) return undefined;
  const tokens = new URLSearchParams(query).getAll('token');
  return tokens.length === 1 ? tokens[0] : undefined;
}
