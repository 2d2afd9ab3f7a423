// What Slack's answers mean for the worker. The Web API answers HTTP 200 with `ok: false` and an
// error code for most failures (https://docs.slack.dev/reference/methods/chat.postMessage#errors),
// 429 with Retry-After when rate limited (https://docs.slack.dev/apis/web-api/rate-limits);
// incoming webhooks answer 400/403/404/410 with the code as plain text, 500 for Slack's own
// trouble (api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks).
// A message cannot be deduplicated, so a request that left without an answer may have been posted:
// reported for an operator, not retried blindly.
import { classifyCommon, classifyFailure, clip, networkCode } from '../classify-failure.js';
import { PermanentError, TransientError } from '../connector.js';
import { DeadlineError } from '../deadline.js';
import { header, parseRetryAfter } from '../response-headers.js';
import type { VendorAnswer } from '../vendor-http.js';

/**
 * `ok: false` codes that may pass on retry: rate limits, and Slack's own passing trouble
 * (`internal_error` is "likely due to a transient issue", `service_unavailable`, `request_timeout`:
 * the POST data arrived truncated, `team_added_to_org`: a migration, "intermittently unavailable").
 * Every other code (channel_not_found, not_in_channel, invalid_auth, missing_scope, …) fails again.
 */
const TRANSIENT_CODES = new Set(['ratelimited', 'rate_limited', 'internal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);

/** What an operator does about the common permanent codes. */
const HINTS: Record<string, string> = {
  channel_not_found: 'check the channel id or name; a private channel needs the app invited',
  not_in_channel: 'invite the app to the channel (/invite @your-app)',
  is_archived: 'the channel is archived',
  invalid_auth: 'SLACK_BOT_TOKEN is not valid',
  not_authed: 'SLACK_BOT_TOKEN is not set',
  account_inactive: 'the token belongs to a deleted user or workspace',
  token_revoked: 'the token was revoked or the app removed',
  missing_scope: 'the app needs the chat:write scope',
  invalid_blocks: 'the blocks are not valid Block Kit',
  msg_too_long: 'the text is too long',
  action_prohibited: 'the workspace restricts this webhook',
  no_service: 'the webhook URL is disabled or wrong',
  invalid_token: 'the webhook URL is no longer valid',
};

/** Network failures before the request left: nothing can have been posted. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'ENETDOWN', 'EHOSTUNREACH', 'EHOSTDOWN']);

interface SlackErrorShape {
  code?: unknown;
  data?: { error?: unknown; needed?: unknown };
  retryAfter?: unknown;
  statusCode?: unknown;
  body?: unknown;
  original?: unknown;
  message?: string;
}

/**
 * The classified error of a failed send. `answer` is the last answer the step's client got (its
 * status and headers: the SDKs keep Retry-After only on a rate-limit error of their own).
 */
export function classifySlackError(action: string, error: unknown, answer: VendorAnswer | undefined): TransientError | PermanentError {
  const e = (error ?? {}) as SlackErrorShape;
  const retryAfterMs = parseRetryAfter(header(answer?.headers, 'retry-after'));
  // The Web API's 429, rejected at once by the SDK (rejectRateLimitedCalls).
  if (e.code === 'slack_webapi_rate_limited_error' && typeof e.retryAfter === 'number') {
    return classifyFailure(action, { status: 429, detail: 'ratelimited', retryAfterMs: e.retryAfter * 1000 });
  }
  if (e.code === 'slack_webapi_platform_error' && typeof e.data?.error === 'string') return platformError(action, e.data.error, e.data.needed, retryAfterMs);
  // A non-2xx answer: the Web API's 5xx (or a 429 without a usable Retry-After), a webhook's error.
  const status = typeof e.statusCode === 'number' ? e.statusCode : answer && answer.status >= 300 ? answer.status : undefined;
  if (status !== undefined) {
    const said = typeof e.body === 'string' ? e.body.trim() : (answer?.body.toString('utf8').trim() ?? '');
    const hint = HINTS[said];
    return classifyFailure(action, { status, detail: `${clip(said, 200)}${hint ? ` (${hint})` : ''}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  }
  const cause = e.code === 'slack_webapi_request_error' || e.code === 'slack_webhook_request_error' ? e.original : error;
  const network = networkCode(cause);
  if (network && NOT_SENT.has(network)) return classifyFailure(action, { network });
  if (cause instanceof DeadlineError || network) {
    const what = cause instanceof DeadlineError ? cause.message : network;
    const failure = new PermanentError(
      `${action}: ${what} after the request was sent, so the message may have been posted; ` +
        'check the channel, then retry the run to post it (again)',
    );
    failure.summary = `${action}: ${what} after the request was sent`;
    return failure;
  }
  return classifyCommon(action, cause) ?? new PermanentError(`${action} failed: ${clip(e.message ?? String(error))}`);
}

function platformError(action: string, code: string, needed: unknown, retryAfterMs: number | undefined): TransientError | PermanentError {
  const hint = code === 'missing_scope' && typeof needed === 'string' ? `the app needs the ${needed} scope` : HINTS[code];
  const message = `${action}: Slack answered ${code}${hint ? ` (${hint})` : ''}`;
  if (TRANSIENT_CODES.has(code)) return new TransientError(message, retryAfterMs);
  // "It's possible some aspect of the operation succeeded before the error was raised."
  if (code === 'fatal_error') {
    return new PermanentError(`${message}: the message may have been posted; check the channel, then retry the run to post it (again)`);
  }
  return new PermanentError(message);
}
