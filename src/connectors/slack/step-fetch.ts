// The `fetch` Slack's clients are given (both @slack/web-api and @slack/webhook take one): their
// requests go out on node:http through the lent client's keep-alive agent, so the client pool can
// cut a step's request at its deadline, the exchange is noted for a failed step's evidence, and the
// answer's headers (Retry-After) stay readable after the SDK has turned the answer into an error
// (IncomingWebhookHTTPError keeps no headers).
import { STATUS_CODES } from 'node:http';
import type { FetchFunction } from '@slack/web-api';
import type { StepAgent } from '../client-pool.js';
import { ExchangeLog } from '../evidence.js';
import { header } from '../response-headers.js';
import { sendVendorRequest, type VendorAnswer } from '../vendor-http.js';

/** A pooled client's transport: its fetch, what it last sent and got, and the step's timeout. */
export interface SlackHttp {
  fetch: FetchFunction;
  log: ExchangeLog;
  /** The answer to the latest request, until the next one leaves. */
  lastAnswer: VendorAnswer | undefined;
  /** Each request fails with ETIMEDOUT when no answer came within this (the step's timeout). */
  timeoutMs: number;
}

/**
 * A fetch on `agent`. `shownUrl` is how a request's URL is kept in the evidence: an incoming
 * webhook's path is its credential.
 */
export function stepFetch(agent: StepAgent, shownUrl: (url: URL) => string = (url) => url.href): SlackHttp {
  const http: SlackHttp = {
    log: new ExchangeLog(),
    lastAnswer: undefined,
    timeoutMs: 0,
    async fetch(input, init = {}) {
      if (init.body !== undefined && typeof init.body !== 'string') {
        // The SDK sends multipart only for file uploads, which no step makes.
        throw new TypeError('Slack: multipart request bodies are not sent by this connector');
      }
      const url = new URL(String(input));
      http.lastAnswer = undefined;
      const answer = sendVendorRequest(url, {
        method: init.method ?? 'POST',
        headers: init.headers ?? {},
        agent,
        ...(init.body !== undefined ? { body: init.body } : {}),
        timeoutMs: http.timeoutMs,
        log: http.log,
      });
      // sendVendorRequest notes the request as it leaves, synchronously: the URL is replaced at once.
      if (http.log.last) http.log.last.url = shownUrl(url);
      const got = await answer;
      http.lastAnswer = got;
      return fetchResponse(url, got);
    },
  };
  return http;
}

/** The parts of a WHATWG Response the Slack clients read. */
function fetchResponse(url: URL, answer: VendorAnswer): Awaited<ReturnType<FetchFunction>> {
  const text = () => answer.body.toString('utf8');
  return {
    ok: answer.status >= 200 && answer.status < 300,
    status: answer.status,
    statusText: STATUS_CODES[answer.status] ?? '',
    url: url.href,
    headers: {
      get: (name) => header(answer.headers, name.toLowerCase()) ?? null,
      entries: () =>
        Object.entries(answer.headers).flatMap(([name, value]) =>
          value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : String(value)] as [string, string]],
        ),
    },
    text: async () => text(),
    json: async () => JSON.parse(text()) as unknown,
    arrayBuffer: async () => answer.body.buffer.slice(answer.body.byteOffset, answer.body.byteOffset + answer.body.byteLength) as ArrayBuffer,
  };
}
