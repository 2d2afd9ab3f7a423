// The translation of a vendor's answer into TransientError / PermanentError. Only the worker
// decides whether to retry; these helpers only say which kind of failure it was.
import { PermanentError, TransientError } from './connector.js';
import { DeadlineError } from './deadline.js';

/** Runs one SDK call, tagging a failure with what was tried ("search contacts") for the message. */
export async function during<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error && typeof error === 'object' && !('vendorAction' in error)) (error as { vendorAction?: string }).vendorAction = action;
    throw error;
  }
}

/** The action an error was tagged with by `during`, else `fallback`. */
export function actionOf(error: unknown, fallback: string): string {
  const tagged = (error as { vendorAction?: unknown } | null)?.vendorAction;
  return typeof tagged === 'string' ? tagged : fallback;
}

/** One failed vendor call, as far as the SDK tells it. */
export interface VendorFailure {
  /** HTTP status of the vendor's answer; absent when there was none. */
  status?: number;
  /** What the vendor said (its error message, code, category). */
  detail?: string;
  retryAfterMs?: number;
  /** Network error code (ECONNREFUSED, ETIMEDOUT, …) when no answer came. */
  network?: string;
}

/** 408, 429 and 5xx may pass on retry; every other answer will fail the same way again. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * The classified error for a vendor call: `action` names what was tried ("HubSpot: search
 * contacts"). Timeouts and network errors are transient.
 */
export function classifyFailure(action: string, failure: VendorFailure): TransientError | PermanentError {
  const said = failure.detail ? `: ${clip(failure.detail)}` : '';
  const summary =
    failure.status !== undefined ? `${action} answered ${failure.status}` : `${action} failed: ${failure.network ?? 'network error'}`;
  const error =
    failure.status !== undefined && !isTransientStatus(failure.status)
      ? new PermanentError(`${summary}${said}`)
      : new TransientError(`${summary}${said}`, failure.retryAfterMs);
  if (said) error.summary = summary;
  return error;
}

/**
 * For a deadline, a network error or an error of the code itself: the classified error, else
 * null. A TypeError, SyntaxError or zod error inside a vendor call means the answer had a shape
 * the code did not expect (or a bug): the same answer comes again, so it is permanent, and the
 * step's evidence shows the answer.
 */
export function classifyCommon(action: string, error: unknown): TransientError | PermanentError | null {
  if (error instanceof TransientError || error instanceof PermanentError) return error;
  if (error instanceof DeadlineError) {
    return new TransientError(`${action}: ${error.message}`);
  }
  const code = networkCode(error);
  if (code) return new TransientError(`${action} failed: ${code}`);
  if (isProgrammingError(error)) {
    const e = error as Error;
    const failure = new PermanentError(`${action}: unexpected answer (${e.name}: ${clip(e.message)})`);
    failure.summary = `${action}: unexpected answer (${e.name})`;
    return failure;
  }
  return null;
}

/** Errors no retry can mend: the code met a value it does not handle. */
function isProgrammingError(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    error instanceof SyntaxError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    (error instanceof Error && error.name === 'ZodError')
  );
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'EPIPE',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The system error code of a network failure, looking through `cause`, else null. */
export function networkCode(error: unknown): string | null {
  for (let e = error as { code?: unknown; errno?: unknown; cause?: unknown } | null | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
    if (typeof e.errno === 'string' && NETWORK_CODES.has(e.errno)) return e.errno;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string') {
      const found = /\b(E[A-Z_]{4,})\b/.exec(message)?.[1];
      if (found && NETWORK_CODES.has(found)) return found;
      if (/socket hang up/i.test(message)) return 'ECONNRESET';
    }
  }
  return null;
}

export function clip(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
