// Twilio through the `twilio` SDK: configuration, clients kept across steps (pointed at
// TWILIO_BASE_URL when set), and what Twilio's errors mean. Imported on first use.
import { z } from 'zod';
import type { Twilio as TwilioClient } from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { classifyFailure, networkCode } from '../classify-failure.js';
import { stepAgent, type Pooled, type StepAgent } from '../client-pool.js';
import { baseUrl, envConfig, type ConnectorConfigOf } from '../connector-config.js';
import { connectorStep, PermanentError, TransientError, type ConnectorInstance, type StepContext } from '../connector.js';
import { DeadlineError } from '../deadline.js';
import { withEvidence } from '../evidence.js';
import { lazyImport } from '../load-sdk.js';
import { pooledSends } from '../pooled-send.js';
import { header, parseRetryAfter } from '../response-headers.js';
import { rebase, StepRequestClient, type TwilioHttp } from './request-client.js';

export const twilioEnv = envConfig(
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
    HTTP_PROXY: z.string().optional().describe("An outbound HTTP proxy: when set, Twilio requests go through the SDK's own HTTP client, which tunnels through it."),
  }).describe('A step without its own from or messaging_service_sid needs TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM.'),
);

export type TwilioConfig = ConnectorConfigOf<typeof twilioEnv.schema>;

/** The SDK, imported on first use. */
const loadTwilio = lazyImport(() => import('twilio'));

interface PooledTwilio extends Pooled {
  agent: StepAgent;
  client: TwilioClient;
  http: TwilioHttp;
}

export interface TwilioConnector extends ConnectorInstance {
  config: TwilioConfig;
  /**
   * Runs `work` (one send) with a Twilio client until the step's deadline. A shutdown stops the
   * step only before the request leaves: once out it is not abandoned, so the step records what
   * really happened. The client and its keep-alive connections are kept for later steps; at the
   * deadline its agent is retired (the request destroyed) and the client discarded. A failure of
   * `work` is classified with the headers of the answer (Retry-After) while the client is still
   * this step's.
   */
  withClient<T>(ctx: StepContext, action: string, work: (client: TwilioClient) => Promise<T>): Promise<T>;
}

/** Twilio for one account: its clients, each with its keep-alive agent, lent one step at a time. */
export function createTwilioConnector(config: TwilioConfig): TwilioConnector {
  const target = config.TWILIO_BASE_URL ?? 'https://api.twilio.com';
  const clients = pooledSends(loadTwilio, ({ default: twilio }, ctx): PooledTwilio => {
    const agent = stepAgent(target);
    // Through the pooled agent on node:http; behind HTTP_PROXY the SDK's own client, whose agent
    // tunnels through the proxy. autoRetry stays off: it ignores Retry-After, only the worker retries.
    const http = config.HTTP_PROXY
      ? new (sdkRequestClient(twilio.RequestClient, config.TWILIO_BASE_URL))({ timeout: ctx.timeoutMs })
      : new StepRequestClient(agent, config.TWILIO_BASE_URL);
    // The SDK takes any object with RequestClient's request(); its type names the whole class.
    return { agent, http, client: twilio(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN, { httpClient: http as unknown as RequestClient }) };
  });
  return {
    config,
    withClient: (ctx, action, work) =>
      clients.send(
        ctx,
        target,
        (pooled) => {
          pooled.http.timeoutMs = ctx.timeoutMs;
          if (pooled.http.log) pooled.http.log.last = undefined;
          return work(pooled.client);
        },
        (error, pooled) => withEvidence(classifyTwilioError(action, error, pooled?.http.lastResponse?.headers), pooled?.http.log?.last),
      ),
    close: clients.close,
  };
}

/** The step kinds of Twilio. */
export const twilioStep = connectorStep<TwilioConnector, TwilioConfig>();

/**
 * The SDK's own HTTP client (axios, its proxy agent) with the step's timeout on every request, sent
 * to `base` when given (see rebase).
 */
function sdkRequestClient(Base: typeof RequestClient, base: string | undefined) {
  const target = base ? new URL(base) : null;
  return class extends Base implements TwilioHttp {
    timeoutMs = 0;
    override request<TData>(opts: RequestClient.RequestOptions<TData>) {
      const uri = rebase(opts.uri, target).href;
      return super.request<TData>({ ...opts, uri, ...(this.timeoutMs > 0 ? { timeout: this.timeoutMs } : {}) });
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
