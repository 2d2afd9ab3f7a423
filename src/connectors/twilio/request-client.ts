// The HTTP client the `twilio` SDK sends through (its `httpClient` option), on node:http and the
// step's keep-alive agent instead of the SDK's default axios client. The SDK still builds every
// request (resource URL, form fields, User-Agent, auth) and reads every answer (JSON, errors); this
// only carries them (vendor-http.ts): axios's config merging, interceptors, adapter and
// per-request keep-alive setsockopt calls cost more CPU than the request itself.
import type { IncomingHttpHeaders } from 'node:http';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type { StepAgent } from '../client-pool.js';
import { ExchangeLog } from '../evidence.js';
import { sendVendorRequest } from '../vendor-http.js';

/** What the SDK's RequestClient is asked to do and answers (twilio/lib/base/RequestClient). */
type SdkRequest = RequestClient.RequestOptions;
interface SdkResponse {
  statusCode: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/** The SDK's default when a request names none. */
const DEFAULT_TIMEOUT_MS = 30_000;

/** The part of the SDK's RequestClient aftercall relies on: what the connector (client.ts) reads back. */
export interface TwilioHttp {
  /** The step's timeout, given to each request (the client outlives the step that made it). */
  timeoutMs: number;
  /** The last answer (its headers carry Retry-After), undefined when the last request got none. */
  lastResponse?: { headers: unknown };
  /** The last request and its answer, for the evidence of a failed step (the SDK's own client keeps none). */
  log?: ExchangeLog;
  request(opts: SdkRequest): Promise<unknown>;
}

/** `{To: '+1…', MediaUrl: ['a', 'b']}` → `To=%2B1…&MediaUrl=a&MediaUrl=b` (the SDK's `arrayFormat: 'repeat'`). */
export function formEncode(fields: object): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (item === undefined) continue;
      const text = item === null ? '' : typeof item === 'object' ? JSON.stringify(item) : String(item);
      parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(text)}`);
    }
  }
  return parts.join('&');
}

/**
 * `uri` (https://api.twilio.com/2010-04-01/…) with the scheme and host of `target` and its path
 * prefixed, or as it is without a target: the SDK has no base-URL option (setting `api.baseUrl`
 * breaks with regions and edges).
 */
export function rebase(uri: string, target: URL | null): URL {
  const url = new URL(uri);
  if (target) {
    url.protocol = target.protocol;
    url.host = target.host;
    url.pathname = `${target.pathname.replace(/\/+$/, '')}${url.pathname}`;
  }
  return url;
}

/**
 * Sends the SDK's requests through `agent` (so the client pool can cut them at the step's
 * deadline) to `base` when given (see rebase). Redirects are not followed (the SDK's default). Errors carry a network code: ETIMEDOUT when no
 * answer came within the timeout, which the classifier reports as "may have gone out".
 */
export class StepRequestClient implements TwilioHttp {
  timeoutMs = 0;
  lastResponse: SdkResponse | undefined;
  readonly log = new ExchangeLog();
  private readonly target: URL | null;

  constructor(
    private readonly agent: StepAgent,
    base: string | undefined,
  ) {
    this.target = base ? new URL(base) : null;
  }

  async request(opts: SdkRequest): Promise<SdkResponse> {
    this.lastResponse = undefined;
    const url = rebase(opts.uri, this.target);
    if (opts.params) {
      const query = formEncode(opts.params);
      if (query) url.search = url.search ? `${url.search}&${query}` : `?${query}`;
    }
    const headers: Record<string, string> = { ...(opts.headers as Record<string, string> | undefined) };
    if (opts.username && opts.password) headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
    else if (opts.authStrategy) headers.Authorization = await opts.authStrategy.getAuthString();
    let body: string | undefined;
    if (opts.data) {
      const type = headers['Content-Type'];
      if (type === 'application/x-www-form-urlencoded') body = formEncode(opts.data);
      else if (type === 'application/json') body = JSON.stringify(opts.data);
    }
    const timeoutMs = this.timeoutMs > 0 ? this.timeoutMs : (opts.timeout ?? DEFAULT_TIMEOUT_MS);
    const answer = await sendVendorRequest(url, { method: opts.method.toUpperCase(), headers, agent: this.agent, body, timeoutMs, log: this.log });
    this.lastResponse = { statusCode: answer.status, body: answer.body.toString('utf8'), headers: answer.headers };
    return this.lastResponse;
  }
}
