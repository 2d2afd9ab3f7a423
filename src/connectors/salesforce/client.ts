// Salesforce through jsforce: configuration (an access token + instance URL, or OAuth2 client
// credentials), one Connection object per step, and what Salesforce's errors mean. jsforce is
// imported on first use (it is heavy and reads HTTP(S)_PROXY when loaded).
//
// jsforce takes no HTTP agent (its fetch gets only a proxy agent), so its requests use Node's
// global agent, which keeps connections alive (Node >= 19: keepAlive, idle sockets closed after
// 5 s and unref'd): consecutive steps reuse the connection. The deadline holds through jsforce's
// own per-request timeout, which aborts that request alone. A Connection is cheap to make and
// keeps the step's answer tracker, so it is not pooled.
import { z } from 'zod';
import type { Connection, HttpRequest, HttpRequestOptions, HttpResponse, OAuth2 } from 'jsforce';
import { classifyCommon, classifyFailure, clip } from '../classify-failure.js';
import { baseUrl, envConfig, joinNames, type ConnectorConfigOf } from '../connector-config.js';
import { connectorStep, PermanentError, TransientError, type ConnectorInstance, type StepContext } from '../connector.js';
import { untilDeadline } from '../deadline.js';
import { ExchangeLog, withEvidence } from '../evidence.js';
import { lazyImport } from '../load-sdk.js';
import { header, parseRetryAfter } from '../response-headers.js';

export const API_VERSION = '59.0';

export const salesforceEnv = envConfig(
  z.object({
    SALESFORCE_INSTANCE_URL: baseUrl
      .optional()
      .describe('Your org\'s URL, e.g. https://acme.my.salesforce.com (with SALESFORCE_ACCESS_TOKEN; with client credentials the token answer names it).'),
    SALESFORCE_ACCESS_TOKEN: z.string().optional().describe('An OAuth access token (session id) for the REST API; used when set.'),
    SALESFORCE_LOGIN_URL: baseUrl
      .optional()
      .describe('My Domain login URL for the OAuth2 client credentials flow, e.g. https://acme.my.salesforce.com.'),
    SALESFORCE_CLIENT_ID: z.string().optional().describe('Consumer key of a connected app with the client credentials flow enabled.'),
    SALESFORCE_CLIENT_SECRET: z.string().optional().describe('Consumer secret of that connected app.'),
  }).describe(
    'Sign in with SALESFORCE_ACCESS_TOKEN and SALESFORCE_INSTANCE_URL, or with the OAuth2 client credentials flow: SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET and SALESFORCE_LOGIN_URL (its token is reused until Salesforce refuses it, then requested again once).',
  ),
  (v) => {
    if (v.SALESFORCE_ACCESS_TOKEN) return v.SALESFORCE_INSTANCE_URL ? null : 'SALESFORCE_INSTANCE_URL';
    const oauth = ['SALESFORCE_CLIENT_ID', 'SALESFORCE_CLIENT_SECRET', 'SALESFORCE_LOGIN_URL'] as const;
    if (v.SALESFORCE_CLIENT_ID || v.SALESFORCE_CLIENT_SECRET) {
      const missing = oauth.filter((name) => !v[name]);
      return missing.length > 0 ? joinNames([...missing]) : null;
    }
    return 'SALESFORCE_ACCESS_TOKEN and SALESFORCE_INSTANCE_URL, or SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET and SALESFORCE_LOGIN_URL';
  },
);

export type SalesforceConfig = ConnectorConfigOf<typeof salesforceEnv.schema>;

interface Session {
  instanceUrl: string;
  accessToken: string;
}

/** The output of Salesforce's create and upsert steps. */
export const salesforceRecord = z.object({
  id: z.string().describe('Salesforce record id.'),
  created: z.boolean().describe('True when this step created the record, false when it found or updated one.'),
});

/** jsforce, imported on first use; exported for the lookup's preload (it answers within a deadline). */
export const loadJsforce = lazyImport(() => import('jsforce'));

/**
 * Keeps the status and headers of the last answer (jsforce's errors carry neither) and gives
 * every request what is left of the step's time as its timeout, so none outlives the step's
 * deadline, without jsforce's own retries (they ignore Retry-After; the worker retries).
 */
class ResponseTracker {
  last: HttpResponse | undefined;
  /** The last request and its answer, for the evidence of a failed step. */
  readonly log = new ExchangeLog();
  /** `deadline`: when the step's time is up (epoch ms); each request gets what is left of it. */
  constructor(private readonly deadline: number) {}
  attach(transport: { httpRequest(req: HttpRequest, options?: HttpRequestOptions): Promise<HttpResponse> }): void {
    const send = transport.httpRequest.bind(transport);
    transport.httpRequest = ((req: HttpRequest, options?: HttpRequestOptions) => {
      this.last = undefined;
      const exchange = this.log.sent(req.method, req.url);
      const timeout = Math.max(1, this.deadline - Date.now());
      const pending = send(req, { ...options, retry: { maxRetries: 0 }, timeout });
      pending.then(
        (res) => {
          this.last = res;
          exchange.status = res.statusCode;
          exchange.body = res.body;
        },
        () => undefined,
      );
      return pending;
    }) as typeof transport.httpRequest;
  }
}

export interface SalesforceConnector extends ConnectorInstance {
  /**
   * Runs `work` with a connected jsforce Connection until the step's deadline; Salesforce errors
   * come back as TransientError / PermanentError. A cached client-credentials token that is
   * refused (401) is replaced once.
   */
  withConnection<T>(ctx: StepContext, action: string, work: (conn: Connection) => Promise<T>): Promise<T>;
}

/** Salesforce for one org: its sign-in, and the client-credentials token kept until refused. */
export function createSalesforceConnector(config: SalesforceConfig): SalesforceConnector {
  let token: Session | null = null;
  const openSession = async (OAuth2Client: typeof OAuth2, tracker: ResponseTracker, renew: boolean): Promise<Session> => {
    if (config.SALESFORCE_ACCESS_TOKEN) {
      return { instanceUrl: config.SALESFORCE_INSTANCE_URL!, accessToken: config.SALESFORCE_ACCESS_TOKEN };
    }
    if (token && !renew) return token;
    token = null;
    const oauth2 = new OAuth2Client({
      clientId: config.SALESFORCE_CLIENT_ID,
      clientSecret: config.SALESFORCE_CLIENT_SECRET,
      loginUrl: config.SALESFORCE_LOGIN_URL,
    });
    tracker.attach(oauth2._transport);
    const answer = (await oauth2.requestToken({ grant_type: 'client_credentials' })) as { access_token?: string; instance_url?: string };
    const instanceUrl = answer.instance_url ?? config.SALESFORCE_INSTANCE_URL;
    if (!answer.access_token || !instanceUrl) throw new PermanentError('Salesforce (sign in): the token answer has no access_token or instance_url');
    token = { instanceUrl: instanceUrl.replace(/\/+$/, ''), accessToken: answer.access_token };
    return token;
  };
  return {
    async withConnection(ctx, action, work) {
      const jsforce = await loadJsforce();
      const tracker = new ResponseTracker(Date.now() + ctx.timeoutMs);
      let stage = action;
      const attempt = async (renew: boolean) => {
        stage = 'sign in';
        const session = await openSession(jsforce.OAuth2, tracker, renew);
        stage = action;
        const conn = new jsforce.Connection({ instanceUrl: session.instanceUrl, accessToken: session.accessToken, version: API_VERSION });
        tracker.attach(conn._transport);
        return work(conn);
      };
      try {
        return await untilDeadline(ctx, async () => {
          try {
            return await attempt(false);
          } catch (error) {
            const refused = tracker.last?.statusCode === 401 && stage === action;
            if (!refused || config.SALESFORCE_ACCESS_TOKEN || !config.SALESFORCE_CLIENT_ID) throw error;
            ctx.logger.info('Salesforce refused the cached token; signing in again');
            return attempt(true);
          }
        });
      } catch (error) {
        throw withEvidence(classifySalesforceError(`Salesforce (${stage})`, error, tracker.last), tracker.log.last);
      }
    },
  };
}

/** The step kinds of Salesforce. */
export const salesforceStep = connectorStep<SalesforceConnector, SalesforceConfig>();

/** Error codes Salesforce answers with a 4xx that pass when tried again later. */
const TRANSIENT_CODES = new Set(['UNABLE_TO_LOCK_ROW', 'REQUEST_LIMIT_EXCEEDED', 'SERVER_UNAVAILABLE', 'QUERY_TIMEOUT']);

/**
 * jsforce throws `HttpApiError` (name = Salesforce's errorCode) without the status; the
 * tracker saw the answer. Sign-in errors are `Error`s named after the OAuth error.
 */
export function classifySalesforceError(action: string, error: unknown, response: HttpResponse | undefined): TransientError | PermanentError {
  const common = classifyCommon(action, error);
  if (common) return common;
  const e = error as { name?: string; errorCode?: string; message?: string; data?: unknown };
  if (e?.name === 'AbortError') return new TransientError(`${action}: no answer in time`);
  if (!response || response.statusCode < 400) {
    return new PermanentError(`${action} failed: ${clip(e?.message ?? String(error))}`);
  }
  const code = e.errorCode ?? (e.name && e.name !== 'Error' && e.name !== 'HttpApiError' ? e.name : undefined);
  const html = /^\s*</.test(response.body ?? '');
  const said = html || !e.message ? (code ?? `HTTP ${response.statusCode}`) : code && !e.message.startsWith(code) ? `${code}: ${e.message}` : e.message;
  const retryAfterMs = parseRetryAfter(header(response.headers, 'retry-after'));
  if (code && TRANSIENT_CODES.has(code)) {
    const failure = new TransientError(`${action} answered ${response.statusCode}: ${clip(said)}`, retryAfterMs);
    failure.summary = `${action} answered ${response.statusCode}: ${code}`;
    return failure;
  }
  return classifyFailure(action, { status: response.statusCode, detail: said, retryAfterMs });
}

/** SOQL string literal. */
export function soql(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}

/** Field values as Salesforce takes them; null leaves a field alone. */
export function salesforceFields(values: Record<string, unknown>): Record<string, string | number | boolean> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null && v !== undefined)) as Record<string, string | number | boolean>;
}

/** jsforce's SaveResult / UpsertResult: a failed save is a permanent error with Salesforce's words. */
export function savedId(action: string, result: unknown): string | null {
  const r = result as { id?: string; success?: boolean; errors?: Array<{ message?: string; statusCode?: string; errorCode?: string }> };
  if (r && r.success === false) {
    const said = (r.errors ?? []).map((x) => `${x.statusCode ?? x.errorCode ?? 'ERROR'}: ${x.message ?? ''}`).join('; ');
    throw new PermanentError(`Salesforce (${action}) refused the record: ${said || 'no reason given'}`);
  }
  return r?.id ?? null;
}
