// A client-side limiter for the platform's documented request rate, so aftercall's own steps
// do not provoke 429s: each request takes a slot in every window (sliding, by start time), and
// a 429 pauses all requests until the platform's `retry_after` has passed.

export interface RateWindow {
  limit: number;
  windowMs: number;
}

export class RateLimiter {
  /** Start times of the requests in the longest window, oldest first. */
  private readonly starts: number[] = [];
  private pausedUntil = 0;
  private readonly longest: number;

  constructor(
    private readonly windows: readonly RateWindow[],
    private readonly now: () => number = Date.now,
  ) {
    this.longest = Math.max(...windows.map((w) => w.windowMs));
  }

  /**
   * Takes a slot for a request and says how long to wait before sending it (0: now). The slot
   * is taken at once, so requests asking together are spread out, not sent together later.
   */
  reserve(): { waitMs: number; slot: number } {
    const now = this.now();
    while (this.starts.length > 0 && this.starts[0]! <= now - this.longest) this.starts.shift();
    let at = Math.max(now, this.pausedUntil);
    for (const { limit, windowMs } of this.windows) {
      const inWindow = this.starts.filter((t) => t > at - windowMs);
      // The slot frees when the oldest request that would make the window overfull leaves it.
      if (inWindow.length >= limit) at = Math.max(at, inWindow[inWindow.length - limit]! + windowMs);
    }
    this.starts.push(at);
    this.starts.sort((a, b) => a - b);
    return { waitMs: at - now, slot: at };
  }

  /** Gives back a slot taken by `reserve` for a request that was not sent (its step ran out of time). */
  release(slot: number): void {
    const i = this.starts.indexOf(slot);
    if (i >= 0) this.starts.splice(i, 1);
  }

  /** The platform answered 429: no request before `ms` from now. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }
}
