// The calls of deliveries this process just accepted, kept for the claim of their runs: the
// worker then starts a run with the Call the receiver already parsed, instead of the store
// reading, inflating and parsing it again (and, on SQLite, copying it back from the store's
// thread). Bounded by the calls' JSON size: once full, later calls are not kept, since runs
// are claimed oldest first and the ones already held are claimed next. A run not held (after a
// restart, past the bound, or a retry of a run whose call was taken) is read from the store.
import type { Call } from '../payload/call.js';

/** About 2 MB of parsed calls per MB of their JSON. */
export const HANDOFF_JSON_BYTES = 4 * 1024 * 1024;

interface Held {
  call: Call;
  bytes: number;
  /** Runs of this call not yet claimed. */
  runs: number;
}

export class CallHandoff {
  private readonly byRun = new Map<number, Held>();
  private bytes = 0;

  constructor(private readonly maxBytes = HANDOFF_JSON_BYTES) {}

  /** Keeps `call` for these runs (queued runs only: a finished one is never claimed). */
  offer(runIds: readonly number[], call: Call, jsonBytes: number): void {
    if (runIds.length === 0 || this.bytes + jsonBytes > this.maxBytes) return;
    const held: Held = { call, bytes: jsonBytes, runs: runIds.length };
    for (const id of runIds) this.byRun.set(id, held);
    this.bytes += jsonBytes;
  }

  /** The runs whose call is held, for the claim to leave their calls out. */
  runIds(): number[] {
    return [...this.byRun.keys()];
  }

  /** The held call of a claimed run, forgotten once every run of it was claimed. */
  take(runId: number): Call | undefined {
    const held = this.byRun.get(runId);
    if (!held) return undefined;
    this.byRun.delete(runId);
    if (--held.runs === 0) this.bytes -= held.bytes;
    return held.call;
  }

  get heldBytes(): number {
    return this.bytes;
  }
}
