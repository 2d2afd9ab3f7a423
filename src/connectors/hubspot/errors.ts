// What HubSpot's errors mean: the SDK's ApiException (status, parsed body, headers) as a
// TransientError or PermanentError.
import { classifyCommon, classifyFailure } from '../classify-failure.js';
import { header, parseRetryAfter } from '../response-headers.js';

interface ApiExceptionLike {
  code: number;
  body: unknown;
  headers: Record<string, string>;
}

function isApiException(error: unknown): error is ApiExceptionLike {
  const e = error as Partial<ApiExceptionLike> | null;
  return typeof e?.code === 'number' && typeof e.headers === 'object';
}

/** HubSpot's ApiException carries the status, the parsed body and the headers. */
export function classifyHubSpotError(action: string, error: unknown) {
  if (isApiException(error)) {
    return classifyFailure(action, {
      status: error.code,
      detail: hubspotMessage(error.body),
      retryAfterMs: parseRetryAfter(header(error.headers, 'retry-after')),
    });
  }
  return classifyCommon(action, error) ?? classifyFailure(action, { network: error instanceof Error ? error.message : String(error) });
}

/** `{status, message, category, errors: [{message}]}` → "CATEGORY: message (detail; detail)". */
export function hubspotMessage(body: unknown): string {
  if (typeof body === 'string') return body;
  const b = (body ?? {}) as { message?: unknown; category?: unknown; errors?: Array<{ message?: unknown }> };
  const details = Array.isArray(b.errors) ? b.errors.map((e) => e.message).filter((m) => typeof m === 'string' && m !== b.message) : [];
  const text = [typeof b.message === 'string' ? b.message : JSON.stringify(body), details.length ? `(${details.join('; ')})` : '']
    .filter(Boolean)
    .join(' ');
  return typeof b.category === 'string' ? `${b.category}: ${text}` : text;
}

/** The HubSpot status of an error thrown inside `withHubSpot`'s work, if it is one. */
export function hubspotStatus(error: unknown): number | undefined {
  return isApiException(error) ? error.code : undefined;
}
