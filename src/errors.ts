// The one registry of error codes aftercall answers with or records on a run, each with its
// meaning and what to do. docs/errors.md is generated from it (`npm run generate`).

export interface ErrorCode {
  /** HTTP status for codes a reply can carry; null for codes recorded on runs only. */
  status: number | null;
  message: string;
  /** Whether the sender (or the worker) should try again. */
  retryable: boolean;
  /** What to do about it, for docs/errors.md. */
  hint?: string;
}

/** Codes a reply carries, with its HTTP status. */
const REPLY_ERRORS = {
  UNAUTHORIZED: {
    status: 401,
    message: 'missing or unknown webhook token',
    retryable: false,
    hint: 'Check the token in the URL (`/webhooks/post-call/<token>`), `?token=` or `Authorization: Bearer`. Nothing was stored.',
  },
  BAD_SIGNATURE: {
    status: 401,
    message: 'missing or wrong body signature',
    retryable: false,
    hint: '`WEBHOOK_SIGNING_SECRET` is set: the sender must sign the raw body (`sha256=<hex>` in `WEBHOOK_SIGNATURE_HEADER`).',
  },
  ADMIN_UNAUTHORIZED: {
    status: 401,
    message: 'missing or wrong admin token',
    retryable: false,
    hint: 'Send `Authorization: Bearer $ADMIN_TOKEN`.',
  },
  METRICS_UNAUTHORIZED: {
    status: 401,
    message: 'missing or wrong metrics token',
    retryable: false,
    hint: '`METRICS_TOKEN` is set: scrape with `Authorization: Bearer $METRICS_TOKEN`.',
  },
  NOT_FOUND: { status: 404, message: 'no such route', retryable: false },
  INVALID_QUERY: {
    status: 400,
    message: 'a query parameter is not valid',
    retryable: false,
    hint: '`field` names the parameter and `detail` what it takes (see `/api/openapi.json`).',
  },
  RUN_NOT_FOUND: { status: 404, message: 'no such run', retryable: false },
  RECEIPT_NOT_FOUND: { status: 404, message: 'no quarantined delivery with that id', retryable: false },
  METHOD_NOT_ALLOWED: { status: 405, message: 'the webhook takes POST only', retryable: false },
  RUN_NOT_RETRYABLE: { status: 409, message: 'only dead runs can be retried', retryable: false },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: 'the body must be application/json',
    retryable: false,
    hint: 'Send `Content-Type: application/json` (UTF-8).',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    message: 'the body is larger than BODY_LIMIT_BYTES',
    retryable: false,
    hint: 'Raise `BODY_LIMIT_BYTES` if such payloads are real.',
  },
  BAD_REQUEST: {
    status: 400,
    message: 'the request could not be read',
    retryable: false,
    hint: "The body was cut off, did not match its Content-Length, or the HTTP framing was broken (`detail` has the parser's code).",
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    message: 'the request headers are too large',
    retryable: false,
    hint: "Node's limit is 16 KB of headers.",
  },
  REQUEST_TIMEOUT: {
    status: 408,
    message: 'the request did not arrive in time (headers within HEADERS_TIMEOUT_MS, all of it within REQUEST_TIMEOUT_MS)',
    retryable: true,
    hint: 'Answered by the HTTP server to a client too slow to send its request; the connection is closed.',
  },
  MALFORMED_JSON: {
    status: 400,
    message: 'the body is not valid JSON',
    retryable: false,
    hint: 'The body is kept in quarantine (`receipt_id`).',
  },
  INVALID_PAYLOAD: {
    status: 422,
    message: 'the payload does not match the webhook schema',
    retryable: false,
    hint: '`errors` lists each failing path. The body is kept in quarantine and can be replayed (`POST /api/quarantine/<id>/replay`) after a fix or with `SCHEMA_MODE=warn`.',
  },
  INVALID_INBOUND_REQUEST: {
    status: 422,
    message: 'the inbound-call request does not match its documented shape',
    retryable: false,
    hint: '`errors` names each failing field (e.g. `customer_phone` must be a string). The body is kept with the inbound request (`inbound_id`, on the Runs page).',
  },
  UNKNOWN_EVENT: {
    status: 422,
    message: 'the event envelope names an event aftercall does not take',
    retryable: false,
    hint: '`event` is the name sent; aftercall takes `call.*` and `conversation.ended`. The body is kept in quarantine and can be replayed (`aftercall replay`, `POST /api/quarantine/<id>/replay`) once a release takes the event.',
  },
  UNANSWERABLE_REQUEST: {
    status: 400,
    message: 'the body is a request that needs an answer aftercall does not give',
    retryable: false,
    hint: '`event` names it (e.g. a Vapi `tool-calls` message). Point that request at the service that answers it; nothing was stored, so the platform\'s own fallback applies.',
  },
  RATE_LIMITED: {
    status: 429,
    message: 'too many requests',
    retryable: true,
    hint: 'More than `RATE_LIMIT_PER_MINUTE` from one client.',
  },
  STORE_UNAVAILABLE: {
    status: 503,
    message: 'the store cannot commit right now; nothing was accepted',
    retryable: true,
    hint: 'Disk full, read-only or locked database. The sender retries; nothing was acknowledged.',
  },
  SHUTTING_DOWN: {
    status: 503,
    message: 'the service is shutting down',
    retryable: true,
    hint: 'The sender retries against another instance or after the restart.',
  },
  INTERNAL: {
    status: 500,
    message: 'internal error',
    retryable: true,
    hint: 'A bug: the log line with the same `request_id` has the stack.',
  },
} as const satisfies Record<string, ErrorCode & { status: number }>;

/** Codes recorded on runs only: a run's last error is `CODE: what happened` (`runError`). */
export const RUN_ERRORS = {
  STEP_TRANSIENT: {
    status: null,
    message: 'a step failed in a way that may pass on retry',
    retryable: true,
    hint: 'Network error, timeout, 408, 429 or 5xx. Retried with backoff (Retry-After honoured).',
  },
  STEP_PERMANENT: {
    status: null,
    message: 'a step failed in a way a retry cannot fix',
    retryable: false,
    hint: 'A 4xx or a rejected request: the message says what the receiver said. Fix, then `aftercall runs retry <id>`.',
  },
  STEP_INVALID_INPUT: {
    status: null,
    message: "a step's rendered input does not fit its kind",
    retryable: false,
    hint: 'The mapping renders a value the step cannot take (e.g. `with.url` is not a URL).',
  },
  STEP_OUTCOME_UNKNOWN: {
    status: null,
    message: 'a step that must not repeat was interrupted after it started; an operator decides',
    retryable: false,
    hint: 'An SMS or email step was cut off (crash) between "started" and its result. Check whether it arrived; `aftercall runs retry <id>` sends it again.',
  },
  INVALID_VARIABLES: {
    status: null,
    message: "the call's extracted variables do not fit the mapping's `variables` declaration",
    retryable: false,
    hint: 'The run is marked `invalid-variables` with every problem (`extracted.budget: expected number, got "5k"`). Fix the assistant\'s variables or the declaration, then retry the run: it uses the current mapping.',
  },
  RETRIES_EXHAUSTED: {
    status: null,
    message: 'the run failed RETRY_MAX_ATTEMPTS times',
    retryable: false,
    hint: 'The last transient error follows. `aftercall runs retry <id>` once the receiver is back.',
  },
  MAPPING_MISSING: {
    status: null,
    message: "the run's mapping is no longer loaded",
    retryable: false,
    hint: 'The mapping file was removed or renamed after the call arrived.',
  },
} as const satisfies Record<string, ErrorCode & { status: null }>;

export type ErrorCodeName = keyof typeof REPLY_ERRORS | keyof typeof RUN_ERRORS;
export const ERRORS: Readonly<Record<ErrorCodeName, ErrorCode>> = { ...REPLY_ERRORS, ...RUN_ERRORS };

export type RunErrorCode = keyof typeof RUN_ERRORS;
/** The codes a failed step ends its run with. */
export type StepErrorCode = Extract<RunErrorCode, `STEP_${string}`>;

/** A run's recorded error: its code, then what happened. */
export function runError(code: RunErrorCode, detail: string): string {
  return `${code}: ${detail}`;
}

/** The JSON body of every error reply. */
export function errorBody(code: ErrorCodeName, details?: Record<string, unknown>) {
  return { status: 'error' as const, code, message: ERRORS[code].message, ...details };
}

/** A reply of any transport: an HTTP status and a JSON body. */
export interface Reply {
  status: number;
  body: Record<string, unknown>;
  /** Sent exactly as it is, without `request_id`: an answer the platform reads key by key (prompt variables). */
  exact?: boolean;
}

/** A whole error reply: the registry's HTTP status and the JSON body. */
export function errorReply(code: ErrorCodeName, details?: Record<string, unknown>): Reply {
  return { status: ERRORS[code].status ?? 500, body: errorBody(code, details) };
}
