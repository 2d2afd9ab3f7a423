// `http.request`: send JSON to a URL (a forward to your own system, Slack, Zapier, …).
import { z } from 'zod';
import { deadlineSignal, defineStep, parseRetryAfter, PermanentError, TransientError, type Connector } from './connector.js';

const MAX_RESPONSE_CHARS = 64 * 1024;

const input = z.strictObject({
  url: z.string().url().describe('Where to send the request (http or https).'),
  method: z.enum(['POST', 'PUT', 'PATCH', 'GET', 'DELETE']).default('POST').describe('HTTP method.'),
  headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers.'),
  body: z.unknown().optional().describe('JSON body; for example "{{ call }}" for the whole normalized call.'),
  timeout_ms: z.number().int().positive().max(120_000).optional().describe('Overrides STEP_TIMEOUT_MS.'),
});

const request = defineStep({
  kind: 'http.request',
  description: 'Send the call (or any rendered value) as JSON to a URL.',
  input,
  defaultRepeat: 'on-change',
  async execute(req, ctx) {
    const deadline = deadlineSignal(ctx.signal, req.timeout_ms ?? ctx.timeoutMs);
    try {
      return await send(req, ctx.idempotencyKey, deadline.signal);
    } finally {
      deadline.clear(); // the answer, its body included, came within the deadline (or never)
    }
  },
});

async function send(req: z.output<typeof input>, idempotencyKey: string, signal: AbortSignal): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(req.url, {
      method: req.method,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'aftercall',
        'idempotency-key': idempotencyKey,
        ...req.headers,
      },
      body: req.method === 'GET' || req.body === undefined ? undefined : JSON.stringify(req.body),
      signal,
      redirect: 'manual',
    });
  } catch (error) {
    const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : describe(error);
    throw new TransientError(`${req.method} ${new URL(req.url).host} ${reason}`);
  }
  const text = (
    await response.text().catch((error: unknown) => {
      if (signal.aborted) throw new TransientError(`${req.method} ${new URL(req.url).host} timed out sending its answer`);
      throw new TransientError(`${req.method} ${new URL(req.url).host} broke off its answer: ${describe(error)}`);
    })
  ).slice(0, MAX_RESPONSE_CHARS);
  const body = parseBody(text);
  const summary = `${req.method} ${new URL(req.url).host} answered ${response.status}`;
  if (response.status === 429 || response.status === 408 || response.status >= 500) {
    throw new TransientError(`${summary}: ${text.slice(0, 300)}`, parseRetryAfter(response.headers.get('retry-after')));
  }
  if (response.status >= 300) throw new PermanentError(`${summary}: ${text.slice(0, 300)}`);
  return { status: response.status, body };
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
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}

export const httpConnector: Connector = { name: 'http', steps: [request] };
