// The one HTTP client of the platform's API, shared by the platform.* steps and `aftercall
// connect`: the base and key of the configuration, a keep-alive agent lent one step at a time,
// the client-side rate limiter, a deadline on every request, and what the platform's answers
// mean (errors.ts). There is no vendor SDK: requests go through vendor-http.ts.
import { ClientPool, stepAgent, withPooledClient, type Pooled, type StepAgent } from '../client-pool.js';
import { TransientError, type StepContext } from '../connector.js';
import { DeadlineError, sendContext } from '../deadline.js';
import { ExchangeLog, withEvidence } from '../evidence.js';
import { sendVendorRequest } from '../vendor-http.js';
import { API_PREFIX, platformTarget, RATE_WINDOWS, type PlatformApi, type PlatformConfig } from './config.js';
import { answerFailure, classifyPlatformError } from './errors.js';
import { RateLimiter } from './rate-limiter.js';

export interface PlatformRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Under the API prefix: `/user/sms` on the classic API, `/sms/send` on 2.0. */
  path: string;
  body?: unknown;
  /**
   * A request that does something the platform cannot undo or deduplicate (an SMS, a call): once
   * it left, a shutdown does not abandon it, and no answer means "may have happened" (permanent,
   * for an operator), not a blind retry.
   */
  sends?: boolean;
}

export interface PlatformClient {
  api: PlatformApi;
  /** Scheme and host the API paths are appended to. */
  base: string;
  title: string;
  /** Sends one request within the step's deadline; the answer's JSON, or a classified error. */
  request<T = unknown>(ctx: StepContext, action: string, request: PlatformRequest): Promise<T>;
  close(): void;
}

interface PooledPlatform extends Pooled {
  agent: StepAgent;
  log: ExchangeLog;
}

export function createPlatformClient(config: PlatformConfig, limiter = new RateLimiter(RATE_WINDOWS)): PlatformClient {
  const target = platformTarget(config);
  const pool = new ClientPool<PooledPlatform>();
  const headers = {
    Authorization: `Bearer ${config.PLATFORM_API_KEY}`,
    Accept: 'application/json',
    'User-Agent': 'aftercall',
  };
  return {
    ...target,
    async request<T>(ctx: StepContext, action: string, request: PlatformRequest): Promise<T> {
      const label = `${target.title} (${action})`;
      const url = new URL(`${target.base}${API_PREFIX[target.api]}${request.path}`);
      const body = request.body === undefined ? undefined : JSON.stringify(request.body);
      const create = (): PooledPlatform => ({ agent: stepAgent(target.base), log: new ExchangeLog() });
      let lent: PooledPlatform | undefined;
      try {
        const started = Date.now();
        await waitForSlot(ctx, limiter, label);
        // The time spent waiting for a slot counts against the step's deadline.
        const left = Math.max(1, ctx.timeoutMs - (Date.now() - started));
        const base = request.sends ? sendContext(ctx) : ctx;
        const runCtx = Object.create(base, { timeoutMs: { value: left, enumerable: true } }) as StepContext;
        const answer = await withPooledClient(runCtx, pool, target.base, create, (client) => {
          lent = client;
          client.log.last = undefined;
          return sendVendorRequest(url, {
            method: request.method,
            headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
            agent: client.agent,
            log: client.log,
            timeoutMs: left,
            ...(body === undefined ? {} : { body }),
          });
        });
        if (answer.status < 200 || answer.status >= 300) throw answerFailure(label, answer, limiter);
        const text = answer.body.toString('utf8');
        return (text.trim() === '' ? null : JSON.parse(text)) as T;
      } catch (error) {
        throw withEvidence(classifyPlatformError(label, error, request.sends === true), lent?.log.last);
      }
    },
    close: () => pool.close(),
  };
}

/**
 * Waits for the limiter's next slot. A wait longer than the step has left fails now, as a
 * transient error whose retry delay is the wait: the worker tries again when a slot is free.
 */
async function waitForSlot(ctx: StepContext, limiter: RateLimiter, label: string): Promise<void> {
  const { waitMs, slot } = limiter.reserve();
  if (waitMs === 0) return;
  if (waitMs >= ctx.timeoutMs) {
    limiter.release(slot);
    const error = new TransientError(`${label}: held back by the platform's rate limit (100 requests a minute); next free slot in ${Math.ceil(waitMs / 1000)} s`, waitMs);
    throw error;
  }
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      limiter.release(slot);
      reject(new DeadlineError(ctx.timeoutMs, true));
    };
    const timer = setTimeout(() => {
      ctx.signal.removeEventListener('abort', onAbort);
      resolve();
    }, waitMs);
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}
