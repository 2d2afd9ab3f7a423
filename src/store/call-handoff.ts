// The calls of deliveries this process just accepted, kept for the claim of their runs: the
// worker then starts a run with the Call the receiver already parsed, instead of the store
// reading, inflating and parsing it again (and, on SQLite, copying it back from the store's
// thread). Bounded by the calls' JSON size: once full, later calls are not kept, since runs
// are claimed oldest first and the ones already held are claimed next. A run not held (after a
// restart, past the bound, or a retry of a run whose call was taken) is read from the store.
// Where other processes claim runs too (PostgreSQL), a call is also let go after `maxAgeMs`:
// a run another instance claimed is never taken here, and would hold its room for good.
import type { Call } from '../payload/call.js';

/**
 * Enough for the calls the worker is about to claim when it keeps up. Held calls outlive the
 * young generation, so a larger bound grows the old space by far more than their own size
 * while a backlog waits; past it the store reads the call (docs/performance.md, "call hand-off").
 */
export const HANDOFF_JSON_BYTES = 256 * 1024;

interface Held {
  call: Call;
  bytes: number;
  /** Runs of this call not yet claimed. */
  runs: number;
  /** When it was offered (the clock's ms). */
  at: number;
}

export interface HandoffOptions {
  maxBytes?: number;
  /** Let a call go this long after it was offered; unset: kept until its runs are claimed. */
  maxAgeMs?: number;
  now?: () => number;
}

export class CallHandoff {
  private readonly byRun = new Map<number, Held>();
  private bytes = 0;

  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(options: HandoffOptions = {}) {
    this.maxBytes = options.maxBytes ?? HANDOFF_JSON_BYTES;
    this.maxAgeMs = options.maxAgeMs ?? Infinity;
    this.now = options.now ?? Date.now;
  }

  /** Keeps `call` for these runs (queued runs only: a finished one is never claimed). */
  offer(runIds: readonly number[], call: Call, jsonBytes: number): void {
    this.letGoOfOld();
    if (runIds.length === 0 || this.bytes + jsonBytes > this.maxBytes) return;
    const held: Held = { call, bytes: jsonBytes, runs: runIds.length, at: this.now() };
    for (const id of runIds) this.byRun.set(id, held);
    this.bytes += jsonBytes;
  }

  /** The runs whose call is held, for the claim to leave their calls out. */
  runIds(): number[] {
    this.letGoOfOld();
    return [...this.byRun.keys()];
  }

  /** The held call of a claimed run, forgotten once every run of it was claimed. */
  take(runId: number): Call | undefined {
    const held = this.byRun.get(runId);
    if (!held) return undefined;
    this.forget(runId, held);
    return held.call;
  }

  private forget(runId: number, held: Held): void {
    this.byRun.delete(runId);
    if (--held.runs === 0) this.bytes -= held.bytes;
  }

  /** The map keeps the order of offers, so the old ones are at its start. */
  private letGoOfOld(): void {
    if (this.maxAgeMs === Infinity) return;
    const before = this.now() - this.maxAgeMs;
    for (const [runId, held] of this.byRun) {
      if (held.at >= before) return;
      this.forget(runId, held);
    }
  }

  get heldBytes(): number {
    return this.bytes;
  }
}
