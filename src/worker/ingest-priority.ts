// Deliveries come first. The worker shares the event loop (and, on small machines, the cores)
// with the HTTP server, and acks must be fast: a sender that waits too long retries, and
// every retry is a duplicate to store and dedupe. So while deliveries arrive, the number of
// steps executing at once follows how busy the event loop is: halved while the loop's
// utilization is above the ceiling, one more while it is below (AIMD, as in TCP congestion
// control). Runs already in flight wait at their next step boundary, so the worker gives
// way within one step rather than one run. It never goes below one step, so a steady stream
// of deliveries cannot starve the queue, and with no delivery in the last window it is back
// at full concurrency at once.
import { performance } from 'node:perf_hooks';

export interface IngestPriorityOptions {
  /** The worker's configured concurrency: the limit when no delivery is arriving. */
  concurrency: number;
  /**
   * Highest event-loop utilization (0–1) the worker may add to while deliveries arrive;
   * 1 turns yielding off.
   */
  ceiling: number;
  /** How often utilization is sampled, and how recent a delivery must be to count (ms). */
  windowMs?: number;
  now?: () => number;
  /** Utilization (0–1) of the event loop since the previous call; default: this thread's. */
  utilization?: () => number;
}

export interface IngestPriority {
  /** A delivery is being received. */
  noteDelivery(): void;
  /** How many runs, and steps, may be active now. */
  limit(): number;
  /** Waits until a step may execute; resolves to the function that gives the slot back. */
  stepSlot(): Promise<() => void>;
  /** The limit as it stands (without sampling), steps executing and waiting for a slot (metrics). */
  stats(): { limit: number; executing: number; waiting: number };
}

export const DEFAULT_WINDOW_MS = 50;

export function createIngestPriority(options: IngestPriorityOptions): IngestPriority {
  const { concurrency, ceiling } = options;
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  const now = options.now ?? (() => performance.now());
  const utilization = options.utilization ?? loopUtilization();
  let lastDelivery = -Infinity;
  let sampledAt = now();
  let allowed = concurrency;
  let executing = 0;
  const waiting: Array<() => void> = [];
  let recheck: NodeJS.Timeout | null = null;
  utilization(); // the first window starts here

  function limit(): number {
    if (ceiling >= 1) return concurrency;
    const at = now();
    const pressed = at - lastDelivery < windowMs;
    let next = pressed ? allowed : concurrency;
    if (at - sampledAt >= windowMs) {
      const busy = utilization();
      sampledAt = at;
      if (pressed) next = busy > ceiling ? Math.floor(next / 2) : next + 1;
    }
    allowed = Math.max(1, Math.min(next, concurrency));
    return allowed;
  }

  function admit(): void {
    while (waiting.length > 0 && executing < limit()) {
      executing++;
      waiting.shift()!();
    }
    // Nobody may give a slot back for a while (slow vendor calls): look again when the
    // window turns, since the limit may have risen by then.
    if (waiting.length > 0 && !recheck) {
      recheck = setTimeout(() => {
        recheck = null;
        admit();
      }, windowMs);
      recheck.unref();
    }
  }

  function release(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      executing--;
      admit();
    };
  }

  return {
    noteDelivery() {
      lastDelivery = now();
    },
    limit,
    stepSlot() {
      if (waiting.length === 0 && executing < limit()) {
        executing++;
        return Promise.resolve(release());
      }
      return new Promise((resolve) => {
        waiting.push(() => resolve(release()));
        admit();
      });
    },
    stats: () => ({
      limit: ceiling < 1 && now() - lastDelivery < windowMs ? allowed : concurrency,
      executing,
      waiting: waiting.length,
    }),
  };
}

/** Event-loop utilization of this thread since the previous call. */
function loopUtilization(): () => number {
  let previous = performance.eventLoopUtilization();
  return () => {
    const current = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(current, previous);
    previous = current;
    return delta.utilization;
  };
}
