// One deadline per step: the step's timeout or the service's shutdown, whichever comes first.
import type { StepContext } from './connector.js';

/**
 * A signal that aborts when `parent` does or after `ms`. Not `AbortSignal.any` with
 * `AbortSignal.timeout`: on Node 20 a garbage collection can drop the unreferenced timeout
 * signal and the deadline never fires (nodejs/node#57736). Here the timer holds the
 * controller; `clear()` when the work settles.
 */
export function deadlineSignal(parent: AbortSignal, ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort(parent.aborted ? parent.reason : new DOMException(`no answer within ${ms} ms`, 'TimeoutError'));
  if (parent.aborted) abort();
  parent.addEventListener('abort', abort, { once: true });
  const timer = setTimeout(abort, ms);
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      parent.removeEventListener('abort', abort);
    },
  };
}

/** The step's deadline passed (`shutdown`: the worker is stopping and releases the run). */
export class DeadlineError extends Error {
  constructor(
    readonly timeoutMs: number,
    readonly shutdown: boolean,
  ) {
    super(shutdown ? 'aborted: the service is shutting down' : `no answer within ${timeoutMs} ms`);
    this.name = 'DeadlineError';
  }
}

/**
 * Runs `work` (one or more SDK calls) until the step's deadline. SDKs that cannot take an
 * AbortSignal still get a timeout of their own; `cancel` (e.g. destroying an HTTP agent) stops
 * their request when the deadline passes first, so nothing keeps running behind the step.
 */
export async function untilDeadline<T>(ctx: StepContext, work: (signal: AbortSignal) => Promise<T>, cancel?: () => void): Promise<T> {
  // Aborts at the step's timeout or when the worker shuts down, whichever comes first.
  const deadline$ = deadlineSignal(ctx.signal, ctx.timeoutMs);
  const { signal } = deadline$;
  if (signal.aborted) {
    deadline$.clear();
    throw new DeadlineError(ctx.timeoutMs, ctx.signal.aborted);
  }
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    onAbort = () => {
      cancel?.();
      reject(new DeadlineError(ctx.timeoutMs, ctx.signal.aborted));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const running = work(signal);
    running.catch(() => undefined); // settled later than the deadline: already reported
    return await Promise.race([running, deadline]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
    deadline$.clear();
  }
}

/**
 * The context of a send that must not be abandoned once under way (an SMS, an email): a
 * shutdown that has begun stops the step now (DeadlineError, the run is released); one that
 * comes later does not, so the step records what really happened. The step's deadline holds.
 */
export function sendContext(ctx: StepContext): StepContext {
  if (ctx.signal.aborted) throw new DeadlineError(ctx.timeoutMs, true);
  // ctx as the prototype, not spread: its logger is made on first use (execute-run.ts).
  return Object.create(ctx, { signal: { value: new AbortController().signal, enumerable: true } }) as StepContext;
}
