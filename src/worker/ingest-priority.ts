// Deliveries come first. The worker shares the event loop (and, on small machines, the cores)
// with the HTTP server, and acks must be fast: a sender that waits too long retries, and
// every retry is a duplicate to store and dedupe. So while deliveries arrive in numbers (at
// least `minRate` a second), the number of steps executing at once follows how busy the event
// loop is: halved each window while its utilization is above the ceiling, one more while it is
// below (AIMD, as in TCP congestion control). A trickle of deliveries changes nothing: a
// backlog draining after an outage keeps its full speed while a few calls a second come in,
// and their acks, a few ms slower, are still far inside any sender's timeout. Runs already in
// flight wait at their next step boundary, so the worker gives way within one step rather than
// one run. It never goes below one step, so a steady stream of deliveries cannot starve the
// queue, and with no delivery in the last window it is back at full concurrency at once.
import { performance } from 'node:perf_hooks';

export interface IngestPriorityOptions {
  /** The worker's configured concurrency: the limit when no delivery is arriving. */
  concurrency: number;
  /**
   * Highest event-loop utilization (0–1) the worker may add to while deliveries arrive;
   * 1 turns yielding off.
   */
  ceiling: number;
  /** Deliveries a second from which the worker gives way (0: any delivery). */
  minRate?: number;
  /** How often utilization and the delivery rate are sampled (ms). */
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

const DEFAULT_WINDOW_MS = 50;
const DEFAULT_MIN_RATE = 100;

export function createIngestPriority(options: IngestPriorityOptions): IngestPriority {
  const { concurrency, ceiling } = options;
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  const minRate = options.minRate ?? DEFAULT_MIN_RATE;
  const now = options.now ?? (() => performance.now());
  const utilization = options.utilization ?? loopUtilization();
  let lastDelivery = -Infinity;
  let deliveries = 0; // since the window began
  let sampledAt = now();
  let allowed = concurrency;
  let executing = 0;
  const waiting: Array<() => void> = [];
  let recheck: NodeJS.Timeout | null = null;
  utilization(); // the first window starts here

  function limit(): number {
    if (ceiling >= 1) return concurrency;
    const at = now();
    if (at - sampledAt >= windowMs) {
      const busy = utilization() > ceiling;
      const pressed = deliveries > 0 && (deliveries * 1000) / (at - sampledAt) >= minRate;
      sampledAt = at;
      deliveries = 0;
      allowed = pressed ? (busy ? Math.floor(allowed / 2) : allowed + 1) : concurrency;
    }
    // The deliveries stopped: no need to wait for the window to turn.
    if (at - lastDelivery >= windowMs) allowed = concurrency;
    allowed = Math.max(1, Math.min(allowed, concurrency));
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
      deliveries++;
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
      // Lowered only by a window with deliveries in numbers; stale once they stopped.
      limit: now() - lastDelivery < windowMs ? allowed : concurrency,
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
