// Group commit's queue on PostgreSQL: what is queued in one event-loop turn, or while the
// previous batch's round trip is under way, goes to the server as the next batch. One batch is
// out at a time, so a batch's commit is known before the next is sent (call order holds).

/**
 * NUL cannot be stored in TEXT nor JSONB; JSON text escapes it as \u0000, which JSONB refuses
 * too, failing the whole batch. Free text (a receiver's error, a skip reason quoting the
 * payload) gets U+FFFD instead, as every other write of the store does (pg-pool.ts).
 */
export function jsonWithoutNul(value: unknown): string {
  const text = JSON.stringify(value);
  // JSON.stringify writes NUL as the escape \u0000: without one, the text is already right.
  if (!text.includes('\\u0000')) return text;
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' && v.includes('\0') ? v.replaceAll('\0', '\uFFFD') : v));
}

export class RoundTripQueue<T> {
  private queue: T[] = [];
  private scheduled = false;
  private inFlight: Promise<void> | null = null;

  /** `flush` sends one batch (at most `maxBatch` items) and answers each item itself; it must not throw. */
  constructor(
    private readonly maxBatch: number,
    private readonly flush: (items: T[]) => Promise<void>,
  ) {}

  push(item: T): void {
    this.queue.push(item);
    this.schedule();
  }

  /** Resolves once nothing is queued or in flight (close() waits for it before ending the pool). */
  async drain(): Promise<void> {
    while (this.inFlight || this.queue.length > 0) {
      if (this.inFlight) await this.inFlight;
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** When idle, at the end of this event-loop turn, so the turn's items go together. */
  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.send();
    });
  }

  private send(): void {
    const items = this.queue.splice(0, this.maxBatch);
    this.inFlight = (items.length > 0 ? this.flush(items) : Promise.resolve()).finally(() => {
      this.inFlight = null;
      // What queued during the round trip goes at once: waiting for the turn's end would hold it
      // behind every request the turn still has to read.
      if (this.queue.length > 0 && !this.scheduled) this.send();
    });
  }
}
