// What the platform's answers mean. Both APIs answer errors as JSON: the classic API
// `{message}` (422: `{message, errors: {field: [..]}}`, 429: `{message, retry_after}`), 2.0
// `{error: "code"}` or `{error: {code, message}}`. 408, 429 and 5xx may pass on retry (429 after
// its `retry_after`, which also pauses the client's limiter); other answers are permanent and
// carry the platform's words ("Insufficient balance to send SMS", …).
import { classifyCommon, classifyFailure, networkCode } from '../classify-failure.js';
import { PermanentError, TransientError } from '../connector.js';
import { DeadlineError } from '../deadline.js';
import { header, parseRetryAfter } from '../response-headers.js';
import type { VendorAnswer } from '../vendor-http.js';
import type { RateLimiter } from './rate-limiter.js';

/** The classified error of a non-2xx answer. */
export function answerFailure(label: string, answer: VendorAnswer, limiter: RateLimiter): TransientError | PermanentError {
  const body = parsedBody(answer.body);
  const retryAfterMs = retryAfter(body, answer.headers);
  if (answer.status === 429 && retryAfterMs !== undefined) limiter.pause(retryAfterMs);
  return classifyFailure(label, { status: answer.status, detail: platformMessage(body), retryAfterMs });
}

/** `retry_after` seconds of the body, else the Retry-After header. */
function retryAfter(body: unknown, headers: VendorAnswer['headers']): number | undefined {
  const seconds = (body as { retry_after?: unknown } | null)?.retry_after;
  if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  if (typeof seconds === 'string' && /^\d+(\.\d+)?$/.test(seconds)) return Math.round(Number(seconds) * 1000);
  return parseRetryAfter(header(headers, 'retry-after'));
}

function parsedBody(bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The platform's own words: message, error code or message, and field errors. */
export function platformMessage(body: unknown): string {
  if (typeof body === 'string') return body;
  if (!body || typeof body !== 'object') return '';
  const b = body as { message?: unknown; error?: unknown; errors?: unknown };
  const parts: string[] = [];
  if (typeof b.message === 'string') parts.push(b.message);
  if (typeof b.error === 'string' && b.error !== b.message) parts.push(b.error);
  if (b.error && typeof b.error === 'object') {
    const e = b.error as { code?: unknown; message?: unknown };
    parts.push([e.code, e.message].filter((v) => typeof v === 'string').join(': '));
  }
  if (b.errors && typeof b.errors === 'object' && !Array.isArray(b.errors)) {
    const fields = Object.entries(b.errors as Record<string, unknown>).map(([field, list]) => `${field}: ${Array.isArray(list) ? list.join(' ') : String(list)}`);
    if (fields.length) parts.push(`(${fields.join('; ')})`);
  }
  return parts.filter(Boolean).join(' ');
}

/** Network failures that happen before a request leaves: nothing can have been sent. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'ENETDOWN', 'EHOSTUNREACH', 'EHOSTDOWN']);

/**
 * Any failure of a request, classified. A send (SMS, call) that got no answer may have
 * happened: permanent, so an operator checks before it is sent again; other requests are
 * retried after a timeout or a network error.
 */
export function classifyPlatformError(label: string, error: unknown, sends: boolean): TransientError | PermanentError {
  if (error instanceof TransientError || error instanceof PermanentError) return error;
  const network = networkCode(error);
  if (sends && !(error instanceof DeadlineError && error.shutdown) && (error instanceof DeadlineError || (network && !NOT_SENT.has(network)))) {
    const what = error instanceof DeadlineError ? error.message : network;
    return new PermanentError(`${label}: ${what} after the request was sent, so it may have gone out; check the platform's logs, then retry the run to send it (again)`);
  }
  return classifyCommon(label, error) ?? new PermanentError(`${label} failed: ${error instanceof Error ? error.message : String(error)}`);
}
