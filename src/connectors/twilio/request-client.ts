// The HTTP client the `twilio` SDK sends through (its `httpClient` option), on node:http and the
// step's keep-alive agent instead of the SDK's default axios client. The SDK still builds every
// request (resource URL, form fields, User-Agent, auth) and reads every answer (JSON, errors); this
// only carries them. Measured on the e2e bench host: one messages.create cost ~370-510 µs of CPU
// through axios and ~190-240 µs this way (axios's config merging, interceptors and adapter, and its
// keep-alive setsockopt calls on every request, came to more than the request itself).
import { request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type { StepAgent } from '../client-pool.js';

/** What the SDK's RequestClient is asked to do and answers (twilio/lib/base/RequestClient). */
type SdkRequest = RequestClient.RequestOptions;
interface SdkResponse {
  statusCode: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/** The SDK's default when a request names none. */
const DEFAULT_TIMEOUT_MS = 30_000;
/** Twilio's answers are a few KB; anything this large is not one, and is not read to its end. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/** The part of the SDK's RequestClient aftercall relies on: what `withTwilio` reads back. */
export interface TwilioHttp {
  /** The step's timeout, given to each request (the client outlives the step that made it). */
  timeoutMs: number;
  /** The last answer (its headers carry Retry-After), undefined when the last request got none. */
  lastResponse?: { headers: unknown };
  request(opts: SdkRequest): Promise<unknown>;
}

/** An error with the code networkCode() and the Twilio classifier read. */
function networkError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
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
 * Sends the SDK's requests through `agent` (so the client pool can cut them at the step's
 * deadline) to `base` when given: the SDK has no base-URL option (setting `api.baseUrl` breaks with
 * regions and edges), so each request's scheme and host are replaced and the base's path prefixed.
 * Redirects are not followed (the SDK's default). Errors carry a network code: ETIMEDOUT when no
 * answer came within the timeout, which the classifier reports as "may have gone out".
 */
export class StepRequestClient implements TwilioHttp {
  timeoutMs = 0;
  lastResponse: SdkResponse | undefined;
  private readonly target: URL | null;

  constructor(
    private readonly agent: StepAgent,
    base: string | undefined,
  ) {
    this.target = base ? new URL(base) : null;
  }

  async request(opts: SdkRequest): Promise<SdkResponse> {
    this.lastResponse = undefined;
    const url = new URL(opts.uri);
    if (this.target) {
      url.protocol = this.target.protocol;
      url.host = this.target.host;
      url.pathname = `${this.target.pathname.replace(/\/+$/, '')}${url.pathname}`;
    }
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
    if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
    const timeoutMs = this.timeoutMs > 0 ? this.timeoutMs : (opts.timeout ?? DEFAULT_TIMEOUT_MS);
    const response = await send(url, { method: opts.method.toUpperCase(), headers, agent: this.agent }, body, timeoutMs);
    this.lastResponse = response;
    return response;
  }
}

function send(url: URL, options: RequestOptions, body: string | undefined, timeoutMs: number): Promise<SdkResponse> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) req.destroy(networkError(`the answer exceeds ${MAX_ANSWER_BYTES} bytes`, 'ECONNABORTED'));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers });
      });
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail(networkError('the connection closed before the answer ended', 'ECONNRESET'));
      });
    });
    const timer = setTimeout(() => req.destroy(networkError(`no answer within ${timeoutMs} ms`, 'ETIMEDOUT')), timeoutMs);
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    req.on('error', fail);
    req.end(body);
  });
}
