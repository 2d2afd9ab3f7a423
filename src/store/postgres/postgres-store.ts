// The PostgreSQL store, for several instances behind a load balancer sharing one database.
// Same semantics as the SQLite store; what SQLite gets from its single writer is done here
// with row locks: a delivery locks its call's row, runs are claimed with
// FOR UPDATE SKIP LOCKED, and every write after a claim checks the lease in the same
// statement. All times are the callers' epoch-ms numbers, never the database clock.
import pLimit, { type LimitFunction } from 'p-limit';
import type pg from 'pg';
import type { Call } from '../../payload/call.js';
import type { AcceptInput, AcceptResult, ClaimedRun, PurgeCounts, RunScore, StepFinish } from '../records.js';
import { json, toStepResult } from '../rows.js';
import { sqlList, UNFINISHED, type RunStatus } from '../run-status.js';
import { StoreUnavailableError, withoutTranscripts } from '../store.js';
import { sweepExpiredLeases } from '../sql/run-ends.js';
import { SqlStore } from '../sql/sql-store.js';
import { driveAsync, PLAIN_PAYLOADS, type Flavor, type How, type Op, type Work } from '../sql/work.js';
import { CallHandoff } from '../call-handoff.js';
import { BatchedAccept } from './batched-accept.js';
import { applyMigrations } from './migrations.js';
import { RunWrites } from './run-writes.js';
import { isUnavailable } from './pg-errors.js';
import { createPgPool, DEFAULT_POOL_SIZE, inTransaction, sqlOn, type PgPoolOptions, type Sql } from './pg-pool.js';

export type PostgresStoreOptions = PgPoolOptions;

/**
 * Connections of the pool the worker's calls may hold at once; the rest are kept for
 * deliveries (and the admin page and /readyz), which otherwise queue for a connection behind
 * every concurrent step's writes and, with a slow database, time out into 503s while the
 * worker holds the pool. A fifth, at least one, once the pool has two.
 */
export function workerConnections(poolSize: number): number {
  return poolSize < 2 ? poolSize : poolSize - Math.max(1, Math.floor(poolSize / 5));
}

// Step records as getStepResults and claimRuns read them. COLLATE "C": byte order, as SQLite
// sorts, whatever the database's locale.
const STEP_ORDER = 'started_at NULLS FIRST, step_id COLLATE "C"';
/** A claimed run is ours while the lease check holds; FOR SHARE keeps a sweep from taking it mid-write. */
const FLAVOR: Flavor = { kind: 'postgres', stepOrder: STEP_ORDER, forShare: ' FOR SHARE', payloads: PLAIN_PAYLOADS };
const PURGE_BATCH = 500;
/**
 * A held call is let go this long after its delivery: by then its runs were claimed here, or by
 * another instance (and will not be here), or wait behind a backlog and are read when claimed.
 */
const HANDOFF_MAX_AGE_MS = 60_000;

/**
 * Names of prepared statements, one per query text: the server parses and plans a named
 * statement once per connection instead of on every call.
 */
const names = new Map<string, string>();
const nameOf = (text: string): string => {
  let name = names.get(text);
  if (!name) names.set(text, (name = `aftercall-${names.size + 1}`));
  return name;
};

/** Connects, applies the migrations (under an advisory lock) and returns the store. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const pool = createPgPool(options);
  try {
    await applyMigrations(pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw isUnavailable(error) ? new StoreUnavailableError(error) : error;
  }
  return new PostgresStore(pool);
}

export class PostgresStore extends SqlStore {
  readonly kind = 'postgres' as const;
  protected readonly flavor = FLAVOR;
  private readonly sql: Sql;
  private closing: Promise<void> | null = null;
  /** Every worker call runs through this: at most workerConnections(pool size) at once. */
  private readonly work: LimitFunction;
  private readonly accepts: BatchedAccept;
  private readonly runWrites: RunWrites;
  /** Calls of the deliveries accepted here, for the claims of their runs (call-handoff.ts). */
  private readonly handoff = new CallHandoff({ maxAgeMs: HANDOFF_MAX_AGE_MS });

  constructor(private readonly pool: pg.Pool) {
    super();
    this.sql = sqlOn(pool);
    this.accepts = new BatchedAccept(pool);
    this.work = pLimit(workerConnections(pool.options.max ?? DEFAULT_POOL_SIZE));
    this.runWrites = new RunWrites(pool, (work) => this.work(() => this.guard(work)));
  }

  /** Connection-level failures become StoreUnavailableError (503 upstream); the rest propagate. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw isUnavailable(error) ? new StoreUnavailableError(error) : error;
    }
  }

  /** `tx`: on one connection inside BEGIN … COMMIT; `worker`: waits for one of the worker's connections. */
  protected exec<T>(work: Work<T>, how: How = {}): Promise<T> {
    const go = () =>
      this.guard(() =>
        how.tx ? inTransaction(this.pool, (sql) => driveAsync(work, (op) => apply(sql, op))) : driveAsync(work, (op) => apply(this.sql, op)),
      );
    return how.worker ? this.work(go) : go();
  }

  private query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.guard(() => this.sql<R>(text, values));
  }

  private transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.guard(() => inTransaction(this.pool, fn));
  }

  /** A query of the worker's (or retention's): it waits for one of the worker's connections. */
  private workQuery<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.work(() => this.query<R>(text, values));
  }

  async acceptDelivery(input: AcceptInput): Promise<AcceptResult> {
    // Batched with the deliveries of the same moment; aftercall_accept_deliveries (routines/accept-deliveries.ts)
    // keeps each one's semantics: the calls row locked until COMMIT, a content seen in ANY
    // earlier revision a duplicate (never a rollback), new contents consecutive revisions.
    const result = await this.accepts.accept(input);
    if (result.outcome === 'accepted') {
      const queued = result.runIds.filter((_, i) => !input.runs[i]?.skipReason);
      this.handoff.offer(queued, input.call, input.callJson?.length ?? input.rawBody.length);
    }
    return result;
  }

  // The lease check and the write are one statement (aftercall_run_writes): a step is recorded
  // only while the run is ours, and the row lock (FOR SHARE) keeps a sweep from taking the run
  // until it is committed, so whoever claims the run next reads it. A step recorded succeeded
  // is therefore never executed by another instance.
  override startStep(runId: number, owner: string, stepId: string, input: unknown, inputHash: string, at: number): Promise<boolean> {
    return this.runWrites.write('start', runId, owner, () => ({ at, step: stepId, input: json(input), inputHash }));
  }

  override finishStep(runId: number, owner: string, stepId: string, result: StepFinish, at: number): Promise<boolean> {
    return this.runWrites.write('finish', runId, owner, () => ({
      at, step: stepId, status: result.status, input: json(result.input), output: json(result.output), error: result.error ?? null,
      evidence: json(result.evidence),
    }));
  }

  override completeRun(runId: number, owner: string, at: number): Promise<boolean> {
    return this.runWrites.write('complete', runId, owner, () => ({ at }));
  }

  override retryRunLater(runId: number, owner: string, error: string, nextRunAt: number, at: number): Promise<boolean> {
    return this.runWrites.write('retry', runId, owner, () => ({ at, error, nextRunAt }));
  }

  override killRun(runId: number, owner: string, error: string, at: number, status: 'dead' | 'invalid-variables' = 'dead'): Promise<boolean> {
    return this.runWrites.write('kill', runId, owner, () => ({ at, error, status }));
  }

  override saveRunScore(runId: number, owner: string, score: RunScore): Promise<boolean> {
    return this.runWrites.write('score', runId, owner, () => ({ score: JSON.stringify(score) }));
  }

  override releaseRun(runId: number, owner: string, notBefore?: number): Promise<boolean> {
    return this.runWrites.write('release', runId, owner, () => ({ notBefore: notBefore ?? null }));
  }

  override extendLease(runId: number, owner: string, until: number): Promise<boolean> {
    return this.runWrites.write('renew', runId, owner, () => ({ until }));
  }

  async claimRuns(owner: string, limit: number, now: number, leaseMs: number): Promise<ClaimedRun[]> {
    // Through the worker's queue (aftercall_worker_writes, routines/worker-writes.ts), behind the writes sent
    // before it: one statement claims the due runs, with their step records, and the call only
    // of runs whose call this process does not hold.
    const claimed = await this.runWrites.claim({ owner, limit, now, until: now + leaseMs, held: this.handoff.runIds() });
    return claimed.map((row): ClaimedRun => {
      // Taken either way: a run claimed in the statement that accepted it comes with its call.
      const held = this.handoff.take(row.id);
      const call = row.call ?? held;
      if (!call) throw new Error(`run ${row.id} was claimed without its call`);
      return {
        id: row.id,
        mappingName: row.mapping_name,
        mappingHash: row.mapping_hash,
        attempts: row.attempts,
        isTest: row.is_test,
        callRowId: row.call_row_id,
        revision: row.revision,
        call,
        leaseOwner: owner,
        steps: (row.steps ?? []).map(toStepResult),
      };
    });
  }

  sweepExpiredLeases(now: number): Promise<number> {
    // This is how a dead instance's runs come back: there is no `ownsQueue` release at start
    // here, since the other instances' runs are live. Every instance sweeps; SKIP LOCKED
    // keeps two sweeps from deadlocking on each other's rows, and leaves a run whose old
    // owner is writing a step right now (FOR SHARE) to the next sweep, after that write.
    return this.exec(sweepExpiredLeases(now, ' FOR UPDATE SKIP LOCKED'), { write: true, worker: true });
  }

  async purgePayloads(before: number, at: number): Promise<PurgeCounts> {
    // In batches, so a large backlog never holds many row locks or runs into the statement
    // timeout; SKIP LOCKED lets the instances' hourly purges overlap without waiting.
    let receipts = 0;
    for (;;) {
      const purged = await this.workQuery(
        `UPDATE receipts SET raw_body = NULL WHERE id IN (
           SELECT id FROM receipts WHERE received_at < $1 AND raw_body IS NOT NULL LIMIT ${PURGE_BATCH * 10} FOR UPDATE SKIP LOCKED)`,
        [before],
      );
      receipts += purged.rowCount ?? 0;
      if ((purged.rowCount ?? 0) < PURGE_BATCH * 10) break;
    }
    let revisions = 0;
    for (;;) {
      const purged = await this.work(() => this.transaction(async (sql) => {
        const { rows } = await sql<{ id: number; call_json: string }>(
          `SELECT v.id, v.call_json FROM revisions v
           WHERE v.purged_at IS NULL AND v.created_at < $1
             AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.revision_id = v.id AND r.status IN ${sqlList(UNFINISHED)})
           ORDER BY v.id LIMIT ${PURGE_BATCH} FOR UPDATE OF v SKIP LOCKED`,
          [before],
        );
        if (rows.length === 0) return 0;
        const ids = rows.map((r) => r.id);
        const calls = rows.map((r) => JSON.stringify(withoutTranscripts(JSON.parse(r.call_json) as Call)));
        await sql(
          `UPDATE revisions v SET call_json = u.call_json, purged_at = $3
           FROM unnest($1::bigint[], $2::text[]) AS u(id, call_json) WHERE v.id = u.id`,
          [ids, calls, at],
        );
        await sql('UPDATE step_results SET input = NULL WHERE run_id IN (SELECT id FROM runs WHERE revision_id = ANY($1::bigint[]))', [ids]);
        return rows.length;
      }));
      revisions += purged;
      if (purged < PURGE_BATCH) return { receipts, revisions };
    }
  }

  async countRunsByStatus(): Promise<Record<string, number>> {
    const { rows } = await this.query<{ status: RunStatus; n: number }>('SELECT status, COUNT(*) AS n FROM runs GROUP BY status');
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  close(): Promise<void> {
    // pool.end() waits for checked-out connections, so writes in flight settle first.
    this.closing ??= Promise.all([this.accepts.drain(), this.runWrites.drain()])
      .then(() => this.pool.end())
      .catch(() => undefined);
    return this.closing;
  }
}

/** One statement of an operation written once (src/store/sql), as a named prepared statement. */
async function apply(sql: Sql, op: Op): Promise<unknown> {
  if (op.kind === 'script') return void (await sql(op.text));
  const text = op.query.text('postgres');
  const result = await sql(text, [...op.query.values], nameOf(text));
  return op.kind === 'all' ? result.rows : (result.rowCount ?? 0);
}
