// One slow vendor must not hold the runs bound elsewhere. At most `limit` steps of one
// connector (for http.request: of one receiver host) execute at once. A step that finds its
// connector full does not wait for it holding a worker slot: its run is given back without
// spending an attempt and claimed again shortly, so the worker's slots keep going to runs
// whose vendors answer. Without it, 32 runs stuck on a hanging vendor filled every slot and a
// healthy vendor's runs were not claimed until those steps timed out.

export interface Bulkhead {
  /** A slot for a step of `key` (call it to leave), or null when `key` has `limit` steps running. */
  tryEnter(key: string): (() => void) | null;
  /** Steps executing now, by key (metrics, tests). */
  running(): Record<string, number>;
}

/** How long a run whose connector was full waits before it is claimed again (jittered ±50%). */
export const CONNECTOR_BUSY_RETRY_MS = 1_000;

export function createBulkhead(limit: number): Bulkhead {
  const counts = new Map<string, number>();
  return {
    tryEnter(key) {
      const n = counts.get(key) ?? 0;
      if (n >= limit) return null;
      counts.set(key, n + 1);
      let left = false;
      return () => {
        if (left) return;
        left = true;
        const now = (counts.get(key) ?? 1) - 1;
        if (now === 0) counts.delete(key);
        else counts.set(key, now);
      };
    },
    running: () => Object.fromEntries(counts),
  };
}

/** The default per-connector limit: half the worker's concurrency, so the other half stays for the rest. */
export function connectorLimit(configured: number, workerConcurrency: number): number {
  return configured > 0 ? configured : Math.max(1, Math.floor(workerConcurrency / 2));
}
