// What Google's errors mean: the GaxiosError the SDK throws (status, headers, parsed body, and
// the request it answered) as a TransientError or PermanentError, and the exchange a failed
// step keeps as evidence.
import { classifyCommon, classifyFailure, clip } from '../classify-failure.js';
import { PermanentError, TransientError } from '../connector.js';
import type { VendorExchange } from '../evidence.js';
import { header, parseRetryAfter } from '../response-headers.js';

interface GaxiosErrorLike {
  config?: { url?: unknown; method?: string };
  response?: { status: number; headers?: unknown; data?: unknown };
}

/** Gaxios errors carry the request's configuration; the ones with an answer carry it too. */
function gaxiosParts(error: unknown): GaxiosErrorLike | null {
  const e = error as GaxiosErrorLike | null;
  return e && typeof e === 'object' && e.config && typeof e.config === 'object' ? e : null;
}

/**
 * 403s Google asks to retry with backoff: the per-user and per-calendar rate limits and the
 * Calendar usage limits, which replenish (https://developers.google.com/workspace/calendar/api/guides/errors).
 * Every other 403 (no access to the calendar, forbiddenForServiceAccounts, …) stays refused.
 */
const RETRYABLE_403 = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']);

/** The `reason`s of a Calendar error body: `{ error: { code, message, errors: [{ domain, reason, message }] } }`. */
function reasons(data: unknown): string[] {
  const errors = (data as { error?: { errors?: Array<{ reason?: unknown }> } } | null)?.error?.errors;
  return Array.isArray(errors) ? errors.map((e) => e.reason).filter((r): r is string => typeof r === 'string') : [];
}

/** What Google said: the API's "reason: message", or the token endpoint's "error: error_description". */
export function googleMessage(data: unknown): string | undefined {
  if (typeof data === 'string') return /^\s*</.test(data) || !data.trim() ? undefined : data;
  const body = (data ?? {}) as { error?: unknown; error_description?: unknown };
  if (typeof body.error === 'string') return typeof body.error_description === 'string' ? `${body.error}: ${body.error_description}` : body.error;
  const error = body.error as { message?: unknown } | undefined;
  if (error && typeof error.message === 'string') {
    const [reason] = reasons(data);
    return reason ? `${reason}: ${error.message}` : error.message;
  }
  return undefined;
}

/** The failure of a Google call, classified; `action` names what was tried ("Google Calendar (create event)"). */
export function classifyGoogleError(action: string, error: unknown): TransientError | PermanentError {
  const parts = gaxiosParts(error);
  const response = parts?.response;
  if (response && typeof response.status === 'number') {
    const detail = googleMessage(response.data);
    const retryAfterMs = parseRetryAfter(header(response.headers, 'retry-after'));
    const rateLimit = reasons(response.data).find((r) => RETRYABLE_403.has(r));
    if (response.status === 403 && rateLimit) {
      const failure = new TransientError(`${action} answered 403: ${clip(detail ?? rateLimit)}`, retryAfterMs);
      failure.summary = `${action} answered 403 (${rateLimit})`;
      return failure;
    }
    return classifyFailure(action, { status: response.status, detail, retryAfterMs });
  }
  const common = classifyCommon(action, error);
  if (common) return common;
  // A Gaxios error without an answer is a request that did not get through; anything else is ours.
  const message = error instanceof Error ? error.message : String(error);
  return parts ? classifyFailure(action, { network: clip(message) }) : new PermanentError(`${action} failed: ${clip(message)}`);
}

/** The request a Gaxios error is about and its answer, if one came. */
export function googleExchange(error: unknown): VendorExchange | undefined {
  const parts = gaxiosParts(error);
  const url = parts?.config?.url;
  if (!parts || (typeof url !== 'string' && !(url instanceof URL))) return undefined;
  return { method: parts.config?.method ?? 'GET', url, status: parts.response?.status, body: parts.response?.data };
}

/** The status of a Google answer the error carries, if any. */
export function googleStatus(error: unknown): number | undefined {
  return gaxiosParts(error)?.response?.status;
}

/** The URL of the request a Gaxios error is about. */
export function googleRequestUrl(error: unknown): unknown {
  return gaxiosParts(error)?.config?.url;
}
