// One slow vendor must not hold the runs bound elsewhere. At most `limit` steps of one
// connector (for http.request: of one receiver host) execute at once. A step that finds its
// connector full waits a moment for a slot, which a vendor that answers frees within a request's
// time; if none frees, it stops waiting and its run is given back without spending an attempt,
// to be claimed again shortly. So runs stuck on a hanging vendor hold at most `limit` worker
// slots (plus those waiting their moment), and the rest keep going to runs whose vendors answer.
// Without it, 32 runs stuck on a hanging vendor filled every slot and a healthy vendor's runs
// were not claimed until those steps timed out.

export interface Bulkhead {
  /**
   * A slot for a step of `key` (call it to leave), waiting up to CONNECTOR_BUSY_WAIT_MS while
   * `key` has `limit` steps running; null when none came (or `signal` aborted first).
   */
  enter(key: string, signal: AbortSignal): Promise<(() => void) | null>;
  /** Steps executing now, by key (tests). */
  running(): Record<string, number>;
}

/** How long a step waits for its full connector before its run is given back. */
export const CONNECTOR_BUSY_WAIT_MS = 250;
/** How long a run given back for a full connector waits before it is claimed again (jittered ±50%). */
export const CONNECTOR_BUSY_RETRY_MS = 1_000;

interface Waiter {
  grant(leave: () => void): void;
}

export function createBulkhead(limit: number): Bulkhead {
  const counts = new Map<string, number>();
  const queues = new Map<string, Waiter[]>();

  const slot = (key: string): (() => void) => {
    let left = false;
    return () => {
      if (left) return;
      left = true;
      // A waiter takes the slot over: the count stays, first come first served.
      const next = queues.get(key)?.shift();
      if (next) return next.grant(slot(key));
      const n = (counts.get(key) ?? 1) - 1;
      if (n === 0) counts.delete(key);
      else counts.set(key, n);
    };
  };

  return {
    enter(key, signal) {
      const n = counts.get(key) ?? 0;
      if (n < limit) {
        counts.set(key, n + 1);
        return Promise.resolve(slot(key));
      }
      if (signal.aborted) return Promise.resolve(null);
      return new Promise((resolve) => {
        const queue = queues.get(key) ?? [];
        queues.set(key, queue);
        const stop = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', giveUp);
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          if (queue.length === 0 && queues.get(key) === queue) queues.delete(key);
        };
        const giveUp = () => {
          stop();
          resolve(null);
        };
        const waiter: Waiter = {
          grant(leave) {
            stop();
            resolve(leave);
          },
        };
        queue.push(waiter);
        const timer = setTimeout(giveUp, CONNECTOR_BUSY_WAIT_MS);
        signal.addEventListener('abort', giveUp, { once: true });
      });
    },
    running: () => Object.fromEntries(counts),
  };
}

/** The default per-connector limit: half the worker's concurrency, so the other half stays for the rest. */
export function connectorLimit(configured: number, workerConcurrency: number): number {
  return configured > 0 ? configured : Math.max(1, Math.floor(workerConcurrency / 2));
}
