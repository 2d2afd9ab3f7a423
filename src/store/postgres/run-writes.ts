// Group commit of the worker's writes on PostgreSQL, across runs: the writes of claimed runs
// (step records, score, the run's end), lease renewals and claims queue here and go to the
// server in call order, one batch at a time, as ONE call of aftercall_worker_writes
// (routines/worker-writes.ts): one statement, one commit, one round trip for what the worker
// sent meanwhile.
// Since they land in call order (as RunQueue promises), the worker lets a step's record share
// the commit of the next write (finishing step k with starting k+1, the last finish with
// completing the run), as it does on SQLite.
// A run's writes stop at the first that fails, until the run is claimed again (`restart`):
// one queued before that failure was answered is refused instead of landing after it. A lease
// renewal stands outside that chain, as it did as a statement of its own.
import type pg from 'pg';
import type { Call } from '../../payload/call.js';
import type { StepRow } from '../rows.js';
import { StoreUnavailableError } from '../store.js';
import { isUnavailable } from './pg-errors.js';
import { jsonWithoutNul, RoundTripQueue } from './round-trip-queue.js';

/** One write, as aftercall_worker_writes takes it: `op`, `run`, `owner`, `at` and the op's fields. */
export interface RunWrite {
  op: 'start' | 'finish' | 'score' | 'complete' | 'retry' | 'kill' | 'release' | 'renew';
  run: number;
  owner: string;
  at?: number;
  [field: string]: unknown;
}

interface Pending {
  /** Made when the batch is built, so a write that cannot be serialized fails in its place. */
  wire: () => string;
  /** The run whose chain the write is part of; null for a claim or a lease renewal. */
  run: number | null;
  resolve: (row: WriteRow) => void;
  reject: (error: unknown) => void;
}

interface WriteRow {
  r_ord: number;
  r_changed: boolean | null;
  r_sqlstate: string | null;
  r_message: string | null;
  /** A claim's runs (json_agg: node-postgres parses it), null when it claimed none. */
  r_claimed: ClaimedJson[] | null;
}

/** A claimed run as the claim op returns it; `call` null where the caller holds the call. */
export interface ClaimedJson {
  id: number;
  mapping_name: string;
  mapping_hash: string;
  attempts: number;
  is_test: boolean;
  call_row_id: number;
  revision: number;
  next_run_at: number;
  call: Call | null;
  steps: StepRow[] | null;
}

export interface ClaimRequest {
  owner: string;
  limit: number;
  now: number;
  until: number;
  /** Runs whose call the caller holds: they come without it. */
  held: readonly number[];
}

/** A write not applied because an earlier write of its run failed. */
export class RunWriteRefusedError extends Error {
  constructor(run: number) {
    super(`not applied: an earlier write of run ${run} failed`);
    this.name = 'RunWriteRefusedError';
  }
}

/** A write the server refused; `code` is its SQLSTATE. */
export class RunWriteError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'RunWriteError';
  }
}

const WORKER_WRITES = { name: 'aftercall_worker_writes', text: 'SELECT * FROM aftercall_worker_writes($1::jsonb)' };
const MAX_BATCH = 512;

export class RunWrites {
  private readonly queue = new RoundTripQueue<Pending>(MAX_BATCH, (items) => this.flush(items));
  private readonly broken = new Set<number>();
  /** Batches sent and writes in them, for tests. */
  readonly stats = { batches: 0, writes: 0 };

  /** `connection` runs the batch's query the way the store runs the worker's (its share of the pool). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly connection: <T>(work: () => Promise<T>) => Promise<T>,
  ) {}

  /** Queues `write` (its fields made by `fields`, called when the batch is built); true when it changed the run. */
  write(op: RunWrite['op'], run: number, owner: string, fields: () => Record<string, unknown> = () => ({})): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const wire = () => jsonWithoutNul({ op, run, owner, ...fields() });
      this.queue.push({ wire, run: op === 'renew' ? null : run, resolve: (row) => resolve(row.r_changed === true), reject });
    });
  }

  /** Claims due runs behind the writes queued before it (restarting each claimed run's chain). */
  claim(request: ClaimRequest): Promise<ClaimedJson[]> {
    const { owner, limit, now, until, held } = request;
    return new Promise<ClaimedJson[]>((resolve, reject) => {
      const wire = () => JSON.stringify({ op: 'claim', owner, at: now, limit, until, held });
      this.queue.push({
        wire,
        run: null,
        resolve: (row) => {
          const claimed = row.r_claimed ?? [];
          for (const run of claimed) this.restart(run.id);
          resolve(claimed);
        },
        reject,
      });
    });
  }

  /** A new beginning for `run` (claimed again): its writes are applied again. */
  restart(run: number): void {
    this.broken.delete(run);
  }

  drain(): Promise<void> {
    return this.queue.drain();
  }

  private async flush(items: Pending[]): Promise<void> {
    // Refused or unserializable writes are answered here, in their place in the order.
    const sent: Pending[] = [];
    const wires: string[] = [];
    for (const item of items) {
      if (item.run !== null && this.broken.has(item.run)) {
        item.reject(new RunWriteRefusedError(item.run));
        continue;
      }
      try {
        wires.push(item.wire());
        sent.push(item);
      } catch (error) {
        this.breakChain(item);
        item.reject(error);
      }
    }
    if (sent.length === 0) return;
    this.stats.batches += 1;
    this.stats.writes += sent.length;
    let rows: WriteRow[];
    try {
      rows = (await this.connection(() => this.pool.query<WriteRow>({ ...WORKER_WRITES, values: [`[${wires.join(',')}]`] }))).rows;
    } catch (error) {
      // Nothing of the batch is known to be committed: every run in it stops here.
      const failure = isUnavailable(error) ? new StoreUnavailableError(error) : error;
      for (const item of sent) {
        this.breakChain(item);
        item.reject(failure);
      }
      return;
    }
    const byOrd = new Map(rows.map((row) => [row.r_ord, row]));
    sent.forEach((item, i) => {
      const row = byOrd.get(i + 1);
      if (row && row.r_changed !== null) return item.resolve(row);
      this.breakChain(item);
      if (row?.r_message === 'chain' && row.r_sqlstate === null && item.run !== null) return item.reject(new RunWriteRefusedError(item.run));
      const error = new RunWriteError(row?.r_message ?? 'aftercall_worker_writes returned no result for a write', row?.r_sqlstate ?? 'XX000');
      item.reject(isUnavailable(error) ? new StoreUnavailableError(error) : error);
    });
  }

  private breakChain(item: Pending): void {
    if (item.run !== null) this.broken.add(item.run);
  }
}
