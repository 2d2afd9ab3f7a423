// Lookup results kept briefly per caller: a redial after a dropped call, or the platform's
// retry, answers at once and sends nothing to the CRM again. Bounded: least recently used
// entries go first; an entry older than the TTL is a miss.

export class LookupCache {
  private readonly entries = new Map<string, { at: number; value: unknown }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached value, or undefined (a miss). */
  get(key: string): unknown {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (this.now() - entry.at >= this.ttlMs) return undefined;
    this.entries.set(key, entry); // most recently used last
    return entry.value;
  }

  set(key: string, value: unknown): void {
    if (this.ttlMs <= 0 || value === undefined) return;
    this.entries.delete(key);
    this.entries.set(key, { at: this.now(), value });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
