// The PostgreSQL store, for several instances behind a load balancer sharing one database.
// Same semantics as the SQLite store; what SQLite gets from its single writer is done here
// with row locks: a delivery locks its call's row, runs are claimed with
// FOR UPDATE SKIP LOCKED, and every write after a claim checks the lease in the same
// statement. All times are the callers' epoch-ms numbers, never the database clock.
import pLimit, { type LimitFunction } from 'p-limit';
import type pg from 'pg';
import type { Call } from '../../payload/call.js';
import {
  pageSize,
  searchTerms,
  StoreUnavailableError,
  withoutTranscripts,
  type AcceptInput,
  type AcceptResult,
  type CallPayload,
  type ClaimedRun,
  type EarlierEffect,
  type PurgeCounts,
  type QuarantineInput,
  type Receipt,
  type RunDetail,
  type RunFilter,
  type RunScore,
  type RunStatus,
  type RunSummary,
  type StepFinish,
  type StepResult,
  type Store,
} from '../store.js';
import { BatchedAccept } from './batched-accept.js';
import { applyMigrations } from './migrations.js';
import { RunWrites } from './run-writes.js';
import { isUnavailable } from './pg-errors.js';
import { createPgPool, DEFAULT_POOL_SIZE, inTransaction, sqlOn, type PgPoolOptions, type Sql } from './pg-pool.js';
import {
  CALL_PAYLOAD_SQL,
  json,
  RUN_COLUMNS,
  STEP_COLUMNS,
  toCallPayload,
  toClaimedRun,
  toEarlierEffect,
  toReceipt,
  toRunSummary,
  toStepResult,
  type CallPayloadRow,
  type ClaimedRow,
  type EarlierEffectRow,
  type ReceiptRow,
  type RunRow,
  type StepRow,
} from '../rows.js';

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

const UNFINISHED = `('pending', 'running', 'retrying')`;
// Step records as getStepResults and claimRuns read them. COLLATE "C": byte order, as SQLite
// sorts, whatever the database's locale.
const STEP_ORDER = 'started_at NULLS FIRST, step_id COLLATE "C"';
const PURGE_BATCH = 500;

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

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  // The claimed runs' writes go through one queue, applied in call order (run-writes.ts).
  readonly ordersWrites = true;
  private readonly sql: Sql;
  private closing: Promise<void> | null = null;
  /** Every worker call runs through this: at most workerConnections(pool size) at once. */
  private readonly work: LimitFunction;

  private readonly accepts: BatchedAccept;
  private readonly runWrites: RunWrites;

  constructor(private readonly pool: pg.Pool) {
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

  /** A worker's write guarded by the lease: true when it changed the run. */
  private changed(text: string, values: unknown[]): Promise<boolean> {
    return this.work(async () => ((await this.query(text, values)).rowCount ?? 0) === 1);
  }

  acceptDelivery(input: AcceptInput): Promise<AcceptResult> {
    // Batched with the deliveries of the same moment; aftercall_accept_batch (migration 5)
    // keeps each one's semantics: the calls row locked until COMMIT, a content seen in ANY
    // earlier revision a duplicate (never a rollback), new contents consecutive revisions.
    return this.accepts.accept(input);
  }

  quarantineDelivery(input: QuarantineInput): Promise<{ receiptId: number }> {
    return this.guard(async () => ({
      receiptId: await insertReceipt(this.sql, input, 'quarantined', {
        reason: input.reason, issues: JSON.stringify(input.issues), rawBody: input.rawBody,
      }),
    }));
  }

  async getReceipt(id: number): Promise<Receipt | null> {
    const { rows } = await this.query<ReceiptRow>(
      `SELECT t.id, t.request_id, t.sender, t.received_at, t.outcome, t.reason, t.issues, t.raw_body, t.call_key,
         v.revision, t.replayed_at
       FROM receipts t LEFT JOIN revisions v ON v.id = t.revision_id WHERE t.id = $1`,
      [id],
    );
    return rows[0] ? toReceipt(rows[0]) : null;
  }

  async listQuarantine(limit = 100): Promise<Receipt[]> {
    const { rows } = await this.query<ReceiptRow>(
      `SELECT t.id, t.request_id, t.sender, t.received_at, t.outcome, t.reason, t.issues, t.raw_body, t.call_key,
         NULL::integer AS revision, t.replayed_at
       FROM receipts t WHERE t.outcome = 'quarantined' ORDER BY t.id DESC LIMIT $1`,
      [limit],
    );
    return rows.map(toReceipt);
  }

  async getCallPayloads(callId: string, revision?: number): Promise<CallPayload[]> {
    const { rows } = await this.query<CallPayloadRow>(CALL_PAYLOAD_SQL({ revision: '$1::integer', callId: '$2' }), [revision ?? null, callId]);
    return rows.map(toCallPayload);
  }

  async markReplayed(receiptId: number, at: number): Promise<void> {
    await this.query(`UPDATE receipts SET replayed_at = $1 WHERE id = $2 AND outcome = 'quarantined'`, [at, receiptId]);
  }

  async claimRuns(owner: string, limit: number, now: number, leaseMs: number): Promise<ClaimedRun[]> {
    // SKIP LOCKED: instances claiming at the same moment pass over each other's rows instead
    // of waiting; a row another instance claimed first fails the re-check of the status and
    // drops out. A run waits while an earlier revision's run of the same call and mapping
    // is unfinished, so revisions execute in order (and `repeat` sees its predecessor).
    const { rows } = await this.workQuery<ClaimedRow>(
      `WITH due AS (
         SELECT r.id FROM runs r
         WHERE r.status IN ('pending', 'retrying') AND r.next_run_at <= $1
           AND NOT EXISTS (
             SELECT 1 FROM runs e
             WHERE e.call_row_id = r.call_row_id AND e.mapping_name = r.mapping_name
               AND e.revision < r.revision AND e.status IN ${UNFINISHED})
         ORDER BY r.next_run_at, r.id
         LIMIT $2
         FOR UPDATE OF r SKIP LOCKED
       )
       UPDATE runs r SET status = 'running', lease_owner = $3, lease_until = $4, updated_at = $1
       FROM due, revisions v
       WHERE r.id = due.id AND v.id = r.revision_id AND r.status IN ('pending', 'retrying')
       RETURNING r.id, r.mapping_name, r.mapping_hash, r.attempts, r.is_test, r.call_row_id, r.revision, r.next_run_at, v.call_json`,
      [now, limit, owner, now + leaseMs],
    );
    if (rows.length === 0) return [];
    for (const row of rows) this.runWrites.restart(row.id);
    // The claimed runs' step records in one query (the runs are ours now: nobody else writes them).
    const { rows: stepRows } = await this.workQuery<StepRow & { run_id: number }>(
      `SELECT run_id, ${STEP_COLUMNS} FROM step_results WHERE run_id = ANY($1::bigint[]) ORDER BY run_id, ${STEP_ORDER}`,
      [rows.map((row) => row.id)],
    );
    const steps = new Map<number, StepResult[]>();
    for (const row of stepRows) {
      const list = steps.get(row.run_id) ?? [];
      list.push(toStepResult(row));
      steps.set(row.run_id, list);
    }
    return rows
      .sort((a, b) => a.next_run_at - b.next_run_at || a.id - b.id)
      .map((row) => toClaimedRun(row, owner, steps.get(row.id) ?? []));
  }

  extendLease(runId: number, owner: string, until: number): Promise<boolean> {
    return this.changed(`UPDATE runs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running'`, [until, runId, owner]);
  }

  async getStepResults(runId: number): Promise<StepResult[]> {
    const { rows } = await this.workQuery<StepRow>(`SELECT ${STEP_COLUMNS} FROM step_results WHERE run_id = $1 ORDER BY ${STEP_ORDER}`, [runId]);
    return rows.map(toStepResult);
  }

  // The lease check and the write are one statement (aftercall_run_writes): a step is recorded
  // only while the run is ours, and the row lock (FOR SHARE) keeps a sweep from taking the run
  // until it is committed, so whoever claims the run next reads it. A step recorded succeeded
  // is therefore never executed by another instance.
  startStep(runId: number, owner: string, stepId: string, input: unknown, inputHash: string, at: number): Promise<boolean> {
    return this.runWrites.write('start', runId, owner, () => ({ at, step: stepId, input: json(input), inputHash }));
  }

  finishStep(runId: number, owner: string, stepId: string, result: StepFinish, at: number): Promise<boolean> {
    return this.runWrites.write('finish', runId, owner, () => ({
      at, step: stepId, status: result.status, input: json(result.input), output: json(result.output), error: result.error ?? null,
      evidence: json(result.evidence),
    }));
  }

  async findEarlierEffect(
    callRowId: number,
    mappingName: string,
    stepId: string,
    beforeRevision: number,
    includeUnknown = false,
  ): Promise<EarlierEffect | null> {
    const { rows } = await this.workQuery<EarlierEffectRow>(
      `SELECT r.revision, s.status, s.input_hash, s.output FROM step_results s JOIN runs r ON r.id = s.run_id
       WHERE r.call_row_id = $1 AND r.mapping_name = $2 AND s.step_id = $3 AND s.status IN ('succeeded', $4) AND r.revision < $5
       ORDER BY r.revision DESC LIMIT 1`,
      [callRowId, mappingName, stepId, includeUnknown ? 'started' : 'succeeded', beforeRevision],
    );
    const row = rows[0];
    return row ? toEarlierEffect(row) : null;
  }

  completeRun(runId: number, owner: string, at: number): Promise<boolean> {
    return this.runWrites.write('complete', runId, owner, () => ({ at }));
  }

  retryRunLater(runId: number, owner: string, error: string, nextRunAt: number, at: number): Promise<boolean> {
    return this.runWrites.write('retry', runId, owner, () => ({ at, error, nextRunAt }));
  }

  killRun(runId: number, owner: string, error: string, at: number, status: 'dead' | 'invalid-variables' = 'dead'): Promise<boolean> {
    return this.runWrites.write('kill', runId, owner, () => ({ at, error, status }));
  }

  saveRunScore(runId: number, owner: string, score: RunScore): Promise<boolean> {
    return this.runWrites.write('score', runId, owner, () => ({ score: JSON.stringify(score) }));
  }

  releaseRun(runId: number, owner: string, notBefore?: number): Promise<boolean> {
    return this.runWrites.write('release', runId, owner, () => ({ notBefore: notBefore ?? null }));
  }

  async sweepExpiredLeases(now: number): Promise<number> {
    // This is how a dead instance's runs come back: there is no `ownsQueue` release at start
    // here, since the other instances' runs are live. Every instance sweeps; SKIP LOCKED
    // keeps two sweeps from deadlocking on each other's rows, and leaves a run whose old
    // owner is writing a step right now (FOR SHARE) to the next sweep, after that write.
    const result = await this.workQuery(
      `WITH expired AS (SELECT id FROM runs WHERE status = 'running' AND lease_until < $1 FOR UPDATE SKIP LOCKED)
       UPDATE runs r SET status = CASE WHEN r.attempts > 0 THEN 'retrying' ELSE 'pending' END,
         lease_owner = NULL, lease_until = NULL, next_run_at = $1
       FROM expired WHERE r.id = expired.id`,
      [now],
    );
    return result.rowCount ?? 0;
  }

  requeueDeadRun(runId: number, at: number): Promise<'requeued' | 'not-found' | 'not-dead'> {
    return this.transaction(async (sql) => {
      // mapping_hash is cleared: an operator retry runs the current version of the mapping
      // (the operator may have fixed it); the registry resolves an unknown hash by name.
      const requeued = await sql(
        `UPDATE runs SET status = 'pending', attempts = 0, next_run_at = $1, updated_at = $1, finished_at = NULL,
           mapping_hash = 'operator-retry' WHERE id = $2 AND status IN ('dead', 'invalid-variables')`,
        [at, runId],
      );
      if (requeued.rowCount === 0) {
        const exists = await sql('SELECT 1 FROM runs WHERE id = $1', [runId]);
        return exists.rowCount === 0 ? 'not-found' : 'not-dead';
      }
      // An operator retry is the decision that an interrupted step did not take effect.
      await sql(
        `UPDATE step_results SET status = 'failed', error = 'interrupted; retried by an operator' WHERE run_id = $1 AND status = 'started'`,
        [runId],
      );
      return 'requeued';
    });
  }

  requeueForRerun(runId: number, at: number): Promise<'requeued' | 'not-found' | 'not-finished'> {
    return this.transaction(async (sql) => {
      const rerun = await sql(
        `UPDATE runs SET status = 'pending', attempts = 0, next_run_at = $1, updated_at = $1, finished_at = NULL,
           last_error = NULL, mapping_hash = 'operator-retry'
         WHERE id = $2 AND status IN ('succeeded', 'dead', 'invalid-variables')`,
        [at, runId],
      );
      if (rerun.rowCount === 0) {
        const exists = await sql('SELECT 1 FROM runs WHERE id = $1', [runId]);
        return exists.rowCount === 0 ? 'not-found' : 'not-finished';
      }
      await sql(`UPDATE step_results SET status = 'done-before' WHERE run_id = $1 AND status = 'succeeded'`, [runId]);
      await sql(`DELETE FROM step_results WHERE run_id = $1 AND status = 'skipped'`, [runId]);
      await sql(
        `UPDATE step_results SET status = 'failed', error = 'interrupted; retried by an operator' WHERE run_id = $1 AND status = 'started'`,
        [runId],
      );
      return 'requeued';
    });
  }

  async queueStats(now: number): Promise<{ depth: number; oldestDueAt: number | null }> {
    const { rows } = await this.query<{ depth: number; oldest: number | null }>(
      `SELECT COUNT(*) AS depth, MIN(next_run_at) AS oldest FROM runs WHERE status IN ('pending', 'retrying') AND next_run_at <= $1`,
      [now],
    );
    return { depth: rows[0]!.depth, oldestDueAt: rows[0]!.oldest };
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
             AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.revision_id = v.id AND r.status IN ${UNFINISHED})
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

  async listRuns(filter: RunFilter = {}): Promise<RunSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status) {
      params.push(filter.status);
      where.push(`r.status = $${params.length}`);
    }
    if (filter.beforeId) {
      params.push(filter.beforeId);
      where.push(`r.id < $${params.length}`);
    }
    if (filter.mappingName) {
      params.push(filter.mappingName);
      where.push(`r.mapping_name = $${params.length}`);
    }
    if (filter.createdFrom !== undefined) {
      params.push(filter.createdFrom);
      where.push(`r.created_at >= $${params.length}`);
    }
    if (filter.createdTo !== undefined) {
      params.push(filter.createdTo);
      where.push(`r.created_at < $${params.length}`);
    }
    if (filter.search) {
      const { callKey: key, phone } = searchTerms(filter.search);
      params.push(key, phone);
      const [k, p] = [`$${params.length - 1}`, `$${params.length}`];
      // The few calls whose id or customer phone match first (by index), then their runs.
      where.push(
        `r.call_row_id IN (SELECT id FROM calls WHERE call_key = ${k} UNION SELECT call_row_id FROM revisions WHERE customer_phone = ${p})
         AND (c.call_key = ${k} OR v.customer_phone = ${p})`,
      );
    }
    params.push(pageSize(filter));
    const { rows } = await this.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs r JOIN calls c ON c.id = r.call_row_id JOIN revisions v ON v.id = r.revision_id
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toRunSummary);
  }

  async getRun(id: number): Promise<RunDetail | null> {
    const { rows } = await this.query<RunRow & { call_json: string }>(
      `SELECT ${RUN_COLUMNS}, v.call_json FROM runs r JOIN calls c ON c.id = r.call_row_id
       JOIN revisions v ON v.id = r.revision_id WHERE r.id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    return { ...toRunSummary(row), call: JSON.parse(row.call_json) as Call, steps: await this.getStepResults(id) };
  }

  async countRunsByStatus(): Promise<Record<string, number>> {
    const { rows } = await this.query<{ status: RunStatus; n: number }>('SELECT status, COUNT(*) AS n FROM runs GROUP BY status');
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  async ping(): Promise<void> {
    await this.query(
      'INSERT INTO heartbeat (id, beat_at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET beat_at = EXCLUDED.beat_at',
      [Date.now()],
    );
  }

  async startAdminSession(id: string, expiresAt: number, now: number): Promise<void> {
    await this.query('DELETE FROM admin_sessions WHERE expires_at <= $1', [now]);
    await this.query('INSERT INTO admin_sessions (id, expires_at) VALUES ($1, $2)', [id, expiresAt]);
  }

  async adminSessionActive(id: string, now: number): Promise<boolean> {
    const { rows } = await this.query('SELECT 1 FROM admin_sessions WHERE id = $1 AND expires_at > $2', [id, now]);
    return rows.length > 0;
  }

  async endAdminSession(id: string): Promise<void> {
    await this.query('DELETE FROM admin_sessions WHERE id = $1', [id]);
  }

  close(): Promise<void> {
    // pool.end() waits for checked-out connections, so writes in flight settle first.
    this.closing ??= Promise.all([this.accepts.drain(), this.runWrites.drain()])
      .then(() => this.pool.end())
      .catch(() => undefined);
    return this.closing;
  }
}

async function insertReceipt(
  sql: Sql,
  input: { requestId: string; sender: string; receivedAt: number },
  outcome: Receipt['outcome'],
  extra: { reason?: string; issues?: string; rawBody?: Buffer; callKey?: string; revisionId?: number },
): Promise<number> {
  const { rows } = await sql<{ id: number }>(
    `INSERT INTO receipts (request_id, sender, received_at, outcome, reason, issues, raw_body, call_key, revision_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [
      input.requestId, input.sender, input.receivedAt, outcome, extra.reason ?? null, extra.issues ?? null,
      extra.rawBody ?? null, extra.callKey ?? null, extra.revisionId ?? null,
    ],
  );
  return rows[0]!.id;
}
