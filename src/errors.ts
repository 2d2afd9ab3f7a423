// The one registry of error codes aftercall answers with or records on a run.
// docs/errors.md lists the same codes; test/errors-doc.test.ts keeps the two in step.

export interface ErrorCode {
  /** HTTP status for codes a reply can carry; null for codes recorded on runs only. */
  status: number | null;
  message: string;
  /** Whether the sender (or the worker) should try again. */
  retryable: boolean;
}

export const ERRORS = {
  UNAUTHORIZED: { status: 401, message: 'missing or unknown webhook token', retryable: false },
  BAD_SIGNATURE: { status: 401, message: 'missing or wrong body signature', retryable: false },
  ADMIN_UNAUTHORIZED: { status: 401, message: 'missing or wrong admin token', retryable: false },
  METRICS_UNAUTHORIZED: { status: 401, message: 'missing or wrong metrics token', retryable: false },
  NOT_FOUND: { status: 404, message: 'no such route', retryable: false },
  RUN_NOT_FOUND: { status: 404, message: 'no such run', retryable: false },
  RECEIPT_NOT_FOUND: { status: 404, message: 'no quarantined delivery with that id', retryable: false },
  METHOD_NOT_ALLOWED: { status: 405, message: 'the webhook takes POST only', retryable: false },
  RUN_NOT_RETRYABLE: { status: 409, message: 'only dead runs can be retried', retryable: false },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'the body must be application/json', retryable: false },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'the body is larger than BODY_LIMIT_BYTES', retryable: false },
  BAD_REQUEST: { status: 400, message: 'the request could not be read', retryable: false },
  HEADERS_TOO_LARGE: { status: 431, message: 'the request headers are too large', retryable: false },
  REQUEST_TIMEOUT: {
    status: 408,
    message: 'the request did not arrive in time (headers within HEADERS_TIMEOUT_MS, all of it within REQUEST_TIMEOUT_MS)',
    retryable: true,
  },
  MALFORMED_JSON: { status: 400, message: 'the body is not valid JSON', retryable: false },
  INVALID_PAYLOAD: { status: 422, message: 'the payload does not match the post-call webhook schema', retryable: false },
  RATE_LIMITED: { status: 429, message: 'too many requests', retryable: true },
  STORE_UNAVAILABLE: { status: 503, message: 'the store cannot commit right now; nothing was accepted', retryable: true },
  SHUTTING_DOWN: { status: 503, message: 'the service is shutting down', retryable: true },
  INTERNAL: { status: 500, message: 'internal error', retryable: true },
  STEP_TRANSIENT: { status: null, message: 'a step failed in a way that may pass on retry', retryable: true },
  STEP_PERMANENT: { status: null, message: 'a step failed in a way a retry cannot fix', retryable: false },
  STEP_INVALID_INPUT: { status: null, message: "a step's rendered input does not fit its kind", retryable: false },
  STEP_OUTCOME_UNKNOWN: {
    status: null,
    message: 'a step that must not repeat was interrupted after it started; an operator decides',
    retryable: false,
  },
  INVALID_VARIABLES: {
    status: null,
    message: "the call's extracted variables do not fit the mapping's `variables` declaration",
    retryable: false,
  },
  RETRIES_EXHAUSTED: { status: null, message: 'the run failed RETRY_MAX_ATTEMPTS times', retryable: false },
  MAPPING_MISSING: { status: null, message: "the run's mapping is no longer loaded", retryable: false },
} as const satisfies Record<string, ErrorCode>;

export type ErrorCodeName = keyof typeof ERRORS;

/** The JSON body of every error reply. */
export function errorBody(code: ErrorCodeName, details?: Record<string, unknown>) {
  return { status: 'error' as const, code, message: ERRORS[code].message, ...details };
}

/** A reply of any transport: an HTTP status and a JSON body. */
export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** A whole error reply: the registry's HTTP status and the JSON body. */
export function errorReply(code: ErrorCodeName, details?: Record<string, unknown>): Reply {
  return { status: ERRORS[code].status ?? 500, body: errorBody(code, details) };
}
