// The one backoff function. `now` and `random` are injected so tests pin exact delays.
//
//   attempt:  1     2     3     4      5      6      …  (base 2 s, max 1 h)
//   delay:    1-2s  2-4s  4-8s  8-16s  16-32s 32-64s …  capped at max, "equal jitter"
//
// A Retry-After from the vendor wins over the table (bounded by MAX_RETRY_AFTER_MS).

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** A vendor asking for more than a day is not honoured literally. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

export function nextRunAt(
  attempt: number,
  now: number,
  policy: BackoffPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return now + Math.min(Math.max(0, retryAfterMs), MAX_RETRY_AFTER_MS);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return now + Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
