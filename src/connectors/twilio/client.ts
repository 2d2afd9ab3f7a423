// Twilio through the `twilio` SDK: configuration, a client pointed at TWILIO_BASE_URL when set,
// and what Twilio's errors mean. Imported on first use.
import { z } from 'zod';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { parseRetryAfter, PermanentError, type TransientError } from '../connector.js';
import { baseUrl, classifyFailure, DeadlineError, envConfig, header, networkCode } from '../vendor.js';

export const twilioEnv = envConfig(
  'Twilio',
  z.object({
    TWILIO_ACCOUNT_SID: z
      .string()
      .regex(/^AC[0-9a-fA-F]{32}$/, 'must be an account SID: AC and 32 hex digits')
      .describe('Account SID (AC…), from the Twilio console.'),
    TWILIO_AUTH_TOKEN: z.string().describe('Auth token of that account.'),
    TWILIO_FROM: z
      .string()
      .optional()
      .describe('Default sender when a step names none: a number of your account in E.164 (+14155550100), a short code or an alphanumeric sender id.'),
    TWILIO_MESSAGING_SERVICE_SID: z
      .string()
      .regex(/^MG[0-9a-fA-F]{32}$/, 'must be a messaging service SID: MG and 32 hex digits')
      .optional()
      .describe('Default messaging service (MG…); used instead of TWILIO_FROM when set.'),
    TWILIO_BASE_URL: baseUrl.optional().describe('Replaces https://api.twilio.com (scheme and host) in every request, for a local stub or a proxy.'),
  }).describe('A step without its own from or messaging_service_sid needs TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM.'),
);

export type TwilioConfig = ReturnType<typeof twilioEnv.read>;

/** The SDK's client, with its HTTP client kept so the last answer's headers can be read. */
export async function twilioClient(config: TwilioConfig, timeoutMs: number) {
  const { default: twilio } = await import('twilio');
  const http = config.TWILIO_BASE_URL ? new (redirected(twilio.RequestClient, config.TWILIO_BASE_URL))({ timeout: timeoutMs }) : new twilio.RequestClient({ timeout: timeoutMs });
  // autoRetry stays off: it ignores Retry-After, and only the worker decides retries.
  const client = twilio(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN, { httpClient: http });
  return { client, http };
}

/**
 * The SDK has no base-URL option (setting `api.baseUrl` breaks with regions and edges), so the
 * HTTP client rewrites each request's scheme and host and prefixes the base's path.
 */
function redirected(Base: typeof RequestClient, base: string): typeof RequestClient {
  const target = new URL(base);
  return class RedirectedRequestClient extends Base {
    override request<TData>(opts: RequestClient.RequestOptions<TData>) {
      const uri = new URL(opts.uri);
      const rewritten = `${target.origin}${target.pathname.replace(/\/+$/, '')}${uri.pathname}${uri.search}`;
      return super.request<TData>({ ...opts, uri: rewritten });
    }
  };
}

/** Network failures that happen before a request leaves: nothing can have been sent. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'ENETDOWN', 'EHOSTUNREACH', 'EHOSTDOWN']);

/**
 * Twilio's RestException has the status and Twilio's error code, not the headers (the HTTP
 * client's last response has them). A send that got no answer may have gone out: that is not
 * retried blindly but reported for an operator to check (messages.create has no idempotency key).
 */
export function classifyTwilioError(action: string, error: unknown, lastHeaders: unknown): TransientError | PermanentError {
  const e = error as { status?: unknown; code?: unknown; message?: string; moreInfo?: string } | null;
  if (typeof e?.status === 'number' && (e.constructor?.name === 'RestException' || 'moreInfo' in e)) {
    const code = typeof e.code === 'number' ? `${e.code}: ` : '';
    return classifyFailure(action, {
      status: e.status,
      detail: `${code}${e.message ?? ''}${e.moreInfo ? ` (${e.moreInfo})` : ''}`,
      retryAfterMs: parseRetryAfter(header(lastHeaders, 'retry-after')),
    });
  }
  const network = networkCode(error);
  if (network && NOT_SENT.has(network)) return classifyFailure(action, { network });
  if (error instanceof DeadlineError || network || (e as { isAxiosError?: boolean } | null)?.isAxiosError) {
    const what = error instanceof DeadlineError ? error.message : (network ?? e?.message ?? 'no answer');
    return new PermanentError(
      `${action}: ${what} after the request was sent, so the message may have gone out; ` +
        "check Twilio's message log, then retry the run to send it (again)",
    );
  }
  return new PermanentError(`${action} failed: ${e?.message ?? String(error)}`);
}
