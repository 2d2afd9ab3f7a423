// `http.request`: send JSON to a URL (a forward to your own system, Slack, Zapier, …).
// Sent with node:http on keep-alive agents rather than fetch: fetch (WHATWG streams and
// Request/Headers objects per request) took about a quarter of the worker's main-thread time
// in a profile of the default mappings, whose runs are mostly forwards.
import { request as httpRequest, type Agent as HttpAgent, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { z } from 'zod';
import { redactSecretValues, revealSecrets, SECRETS_VARIABLE } from '../../../mapping/secrets.js';
import { connectorStep, PermanentError, TransientError } from '../../connector.js';
import { deadlineSignal } from '../../deadline.js';
import { withEvidence, type VendorExchange } from '../../evidence.js';
import { parseRetryAfter } from '../../response-headers.js';
import type { HttpConnector } from '../agents.js';

/** The answer's text kept in the step's output. */
const MAX_RESPONSE_CHARS = 64 * 1024;
/**
 * Bytes of an answer read at most: the rest of a larger one is not read, its connection closed,
 * and the output says `truncated: true`. Read past the kept text so a keep-alive connection
 * survives an ordinary answer; cut off so an endless one cannot hold the step to its deadline.
 */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

const input = z.strictObject({
  url: z.string().url().describe('Where to send the request (http or https).'),
  method: z.enum(['POST', 'PUT', 'PATCH', 'GET', 'DELETE']).default('POST').describe('HTTP method.'),
  headers: z
    .record(z.string(), z.string())
    .default({})
    .describe(`Extra request headers. A secret from the environment by name: "Bearer {{ $secret('CRM_API_KEY') }}" (declared in ${SECRETS_VARIABLE}).`),
  body: z.unknown().optional().describe('JSON body; for example "{{ call }}" for the whole normalized call.'),
  timeout_ms: z.number().int().positive().max(120_000).optional().describe('Overrides STEP_TIMEOUT_MS.'),
});

export const request = connectorStep<HttpConnector>()({
  kind: 'http.request',
  description:
    'Send the call (or any rendered value) as JSON to a URL. Output: `{ status, body }`, the answer parsed as JSON, else its text ' +
    '(the first 64 KiB). An answer over 1 MiB is cut off there and not read further: the step still succeeds (the forward was ' +
    'delivered) and its output adds `truncated: true`. A failure keeps the answer in the step\'s evidence, not in its error message.',
  input,
  defaultRepeat: 'on-change',
  output: z.object({
    status: z.number().int().describe('HTTP status of the answer.'),
    body: z.unknown().describe('The answer parsed as JSON, else its text; null when empty.'),
    truncated: z.literal(true).optional().describe('Present when the answer was cut off at 1 MiB.'),
  }),
  // Forwards go to many receivers: one that hangs must not hold the steps bound for the others.
  bulkheadKey: (req) => `http ${new URL(req.url).host}`,
  async execute(req, ctx, http) {
    const deadline = deadlineSignal(ctx.signal, req.timeout_ms ?? ctx.timeoutMs);
    try {
      return await send(req, ctx.idempotencyKey, deadline.signal, http.agents());
    } finally {
      deadline.clear(); // the answer, its body included, came within the deadline (or never)
    }
  },
});

type Agents = ReturnType<HttpConnector['agents']>;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The answer was longer than MAX_RESPONSE_BYTES and was cut off there. */
  truncated: boolean;
}

async function send(req: z.output<typeof input>, idempotencyKey: string, signal: AbortSignal, agents: Agents): Promise<unknown> {
  const url = new URL(req.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PermanentError(`http.request sends to http and https URLs only, not ${url.protocol}`);
  }
  const target = `${req.method} ${url.host}`;
  const body = req.method === 'GET' || req.body === undefined ? undefined : JSON.stringify(req.body);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'aftercall',
    'idempotency-key': idempotencyKey,
  };
  for (const [name, value] of Object.entries(req.headers)) {
    try {
      headers[name] = revealSecrets(value); // `$secret` markers become the values only here
    } catch (error) {
      throw new PermanentError(`http.request header ${name}: ${(error as Error).message}`);
    }
  }
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  const sent: VendorExchange = { method: req.method, url };
  let answer: Answer;
  try {
    answer = await exchange(url, { method: req.method, headers, signal, agent: url.protocol === 'https:' ? agents.https : agents.http }, body, target);
  } catch (error) {
    throw withEvidence(error, sent);
  }
  // A receiver may echo a header back: the output and the evidence are stored, the secret is not.
  const text = redactSecretValues(answer.text);
  sent.status = answer.status;
  sent.body = text;
  const summary = `${target} answered ${answer.status}`;
  // The answer's text goes in the step's evidence only: it can echo what was sent.
  if (answer.status === 429 || answer.status === 408 || answer.status >= 500) {
    throw withEvidence(new TransientError(summary, parseRetryAfter(firstHeader(answer.headers['retry-after']))), sent);
  }
  // Redirects are not followed: a forward lands where the mapping says, or fails visibly.
  if (answer.status >= 300) throw withEvidence(new PermanentError(summary), sent);
  // A cut-off answer is still a delivered forward: failing the step would send it again.
  return answer.truncated
    ? { status: answer.status, body: parseBody(text), truncated: true }
    : { status: answer.status, body: parseBody(text) };
}

/**
 * One request and its answer: the text kept up to MAX_RESPONSE_CHARS, the rest read and dropped
 * up to MAX_RESPONSE_BYTES, past which the answer is cut off (`truncated`).
 */
function exchange(url: URL, options: RequestOptions & { signal: AbortSignal; agent: HttpAgent }, body: string | undefined, target: string): Promise<Answer> {
  const { signal } = options;
  return new Promise<Answer>((resolve, reject) => {
    let answered = false;
    const failed = (error: unknown) => {
      if (!answered) {
        reject(new TransientError(`${target} ${signal.aborted ? abortReason(signal) : describe(error)}`));
      } else if (signal.aborted) {
        reject(new TransientError(`${target} timed out sending its answer`));
      } else {
        reject(new TransientError(`${target} broke off its answer: ${describe(error)}`));
      }
    };
    const sent = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (response) => {
      answered = true;
      response.setEncoding('utf8');
      let text = '';
      let bytes = 0;
      let ended = false;
      const end = (truncated: boolean) => {
        ended = true;
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text: text.slice(0, MAX_RESPONSE_CHARS), truncated });
      };
      response.on('data', (chunk: string) => {
        if (ended) return;
        if (text.length < MAX_RESPONSE_CHARS) text += chunk;
        bytes += Buffer.byteLength(chunk);
        if (bytes > MAX_RESPONSE_BYTES) {
          end(true);
          response.destroy(); // the socket is not reused: the rest of the answer is never read
        }
      });
      response.on('end', () => {
        if (!ended) end(false);
      });
      response.on('error', failed);
      // Closed without its end: the connection broke (or the deadline cut it) mid-answer.
      response.on('close', () => {
        if (!ended) failed(new Error('the connection closed before the answer ended'));
      });
    });
    sent.on('error', failed);
    sent.end(body);
  });
}

function abortReason(signal: AbortSignal): string {
  const reason = signal.reason as { name?: string; message?: string } | undefined;
  return reason?.name === 'TimeoutError' ? 'timed out' : (reason?.message ?? 'aborted');
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code } = error as { code?: string };
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return code ?? cause?.code ?? cause?.message ?? error.message;
}
