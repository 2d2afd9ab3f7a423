// The embedded default store: one SQLite file in WAL mode with synchronous=FULL, so a
// committed (and acknowledged) call survives power loss, not only a process crash.
// Single instance per file; several instances share PostgreSQL instead.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Call } from '../../payload/call.js';
import {
  callKey,
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
import { GroupCommit, isUnavailable } from './group-commit.js';
import { MIGRATIONS } from './migrations.js';

/** How long /readyz stays unready after a commit failed (it then tries a write of its own). */
const COMMIT_FAILURE_UNREADY_MS = 10_000;

export interface SqliteStoreOptions {
  path: string;
  /**
   * Set by the serving process, which owns the run queue of its file: runs still marked
   * running were cut off by a crash and become claimable at once instead of after their
   * lease. CLI commands open the same file without it.
   */
  ownsQueue?: boolean;
  busyTimeoutMs?: number;
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // The group commit's savepoints journal in memory: on disk, SQLite would make, write and
  // delete a temporary file per batch (past 64 KiB).
  db.pragma('temp_store = MEMORY');
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  db.pragma('foreign_keys = ON');
  migrate(db);
  if (options.ownsQueue) {
    db.prepare(
    `UPDATE runs SET status = CASE WHEN attempts > 0 THEN 'retrying' ELSE 'pending' END,
       lease_owner = NULL, lease_until = NULL WHERE status = 'running'`,
    ).run();
  }
  return new SqliteStore(db);
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const apply = db.transaction(() => {
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    }
  });
  apply.immediate();
}


export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly ordersWrites = true;
  private readonly writes: GroupCommit;
  private readonly sql;

  constructor(private readonly db: Database.Database) {
    this.writes = new GroupCommit(db);
    this.sql = {
      upsertCall: db.prepare(
        `INSERT INTO calls (sender, call_key, latest_revision, created_at, updated_at) VALUES (?, ?, 0, ?, ?)
         ON CONFLICT (sender, call_key) DO UPDATE SET updated_at = excluded.updated_at
         RETURNING id, latest_revision`,
      ),
      revisionByHash: db.prepare('SELECT id, revision FROM revisions WHERE call_row_id = ? AND content_hash = ?'),
      insertRevision: db.prepare(
        `INSERT INTO revisions (call_row_id, revision, content_hash, call_json, variant, call_status, is_test, created_at, customer_phone)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      bumpRevision: db.prepare('UPDATE calls SET latest_revision = ? WHERE id = ?'),
      insertRun: db.prepare(
        `INSERT INTO runs (revision_id, call_row_id, revision, mapping_name, mapping_hash, status, is_test, next_run_at, created_at, updated_at,
           last_error, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertReceipt: db.prepare(
        `INSERT INTO receipts (request_id, sender, received_at, outcome, reason, issues, raw_body, call_key, revision_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      dueRuns: db.prepare(
        // INDEXED BY: left alone, the planner picks runs_by_status and sorts every waiting
        // run, so claiming slows down linearly with the queue.
        `SELECT r.id FROM runs r INDEXED BY runs_due
         WHERE r.status IN ('pending', 'retrying') AND r.next_run_at <= ?
           AND NOT EXISTS (
             SELECT 1 FROM runs e
             WHERE e.call_row_id = r.call_row_id AND e.mapping_name = r.mapping_name
               AND e.revision < r.revision AND e.status IN ('pending', 'running', 'retrying'))
         ORDER BY r.next_run_at, r.id LIMIT ?`,
      ),
      lease: db.prepare(
        `UPDATE runs SET status = 'running', lease_owner = ?, lease_until = ?, updated_at = ?
         WHERE id = ? AND status IN ('pending', 'retrying')`,
      ),
      claimedRun: db.prepare(
        `SELECT r.id, r.mapping_name, r.mapping_hash, r.attempts, r.is_test, r.call_row_id, r.revision, r.next_run_at, v.call_json
         FROM runs r JOIN revisions v ON v.id = r.revision_id WHERE r.id = ?`,
      ),
      extendLease: db.prepare(`UPDATE runs SET lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'running'`),
      stepResults: db.prepare(
        `SELECT ${STEP_COLUMNS} FROM step_results WHERE run_id = ? ORDER BY started_at, step_id`,
      ),
      ownsRun: db.prepare(`SELECT 1 FROM runs WHERE id = ? AND lease_owner = ? AND status = 'running'`),
      startStep: db.prepare(
        `INSERT INTO step_results (run_id, step_id, status, input, input_hash, attempts, started_at)
         VALUES (?, ?, 'started', ?, ?, 1, ?)
         ON CONFLICT (run_id, step_id) DO UPDATE SET status = 'started', input = excluded.input,
           input_hash = excluded.input_hash, attempts = step_results.attempts + 1,
           started_at = excluded.started_at, finished_at = NULL, error = NULL, evidence = NULL`,
      ),
      finishStep: db.prepare(
        `INSERT INTO step_results (run_id, step_id, status, input, output, error, attempts, started_at, finished_at, evidence)
         VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
         ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, output = excluded.output,
           error = excluded.error, finished_at = excluded.finished_at, evidence = excluded.evidence,
           input = COALESCE(excluded.input, step_results.input)`,
      ),
      earlierEffect: db.prepare(
        `SELECT r.revision, s.status, s.input_hash, s.output FROM step_results s JOIN runs r ON r.id = s.run_id
         WHERE r.call_row_id = ? AND r.mapping_name = ? AND s.step_id = ? AND s.status IN ('succeeded', ?) AND r.revision < ?
         ORDER BY r.revision DESC LIMIT 1`,
      ),
      complete: db.prepare(
        `UPDATE runs SET status = 'succeeded', lease_owner = NULL, lease_until = NULL, next_run_at = NULL,
           updated_at = ?, finished_at = ? WHERE id = ? AND lease_owner = ? AND status = 'running'`,
      ),
      retryLater: db.prepare(
        `UPDATE runs SET status = 'retrying', attempts = attempts + 1, last_error = ?, next_run_at = ?,
           lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ? AND lease_owner = ? AND status = 'running'`,
      ),
      kill: db.prepare(
        `UPDATE runs SET status = ?, attempts = attempts + 1, last_error = ?, next_run_at = NULL,
           lease_owner = NULL, lease_until = NULL, updated_at = ?, finished_at = ?
         WHERE id = ? AND lease_owner = ? AND status = 'running'`,
      ),
      saveScore: db.prepare(`UPDATE runs SET score = ? WHERE id = ? AND lease_owner = ? AND status = 'running'`),
      release: db.prepare(
        `UPDATE runs SET status = CASE WHEN attempts > 0 THEN 'retrying' ELSE 'pending' END,
           lease_owner = NULL, lease_until = NULL, next_run_at = COALESCE(?, next_run_at)
         WHERE id = ? AND lease_owner = ? AND status = 'running'`,
      ),
      sweep: db.prepare(
        `UPDATE runs SET status = CASE WHEN attempts > 0 THEN 'retrying' ELSE 'pending' END,
           lease_owner = NULL, lease_until = NULL, next_run_at = ?
         WHERE status = 'running' AND lease_until < ?`,
      ),
      runStatus: db.prepare('SELECT status FROM runs WHERE id = ?'),
      // An operator retry is the decision that an interrupted step did not take effect.
      confirmStarted: db.prepare(
        `UPDATE step_results SET status = 'failed', error = 'interrupted; retried by an operator' WHERE run_id = ? AND status = 'started'`,
      ),
      requeue: db.prepare(
        // mapping_hash is cleared: an operator retry runs the current version of the mapping
        // (the operator may have fixed it); the registry resolves an unknown hash by name.
        `UPDATE runs SET status = 'pending', attempts = 0, next_run_at = ?, updated_at = ?, finished_at = NULL,
           mapping_hash = 'operator-retry' WHERE id = ? AND status IN ('dead', 'invalid-variables')`,
      ),
      run: db.prepare(
        `SELECT ${RUN_COLUMNS}, v.call_json FROM runs r JOIN calls c ON c.id = r.call_row_id
         JOIN revisions v ON v.id = r.revision_id WHERE r.id = ?`,
      ),
      countByStatus: db.prepare('SELECT status, n FROM run_counts WHERE n > 0'),
      // Each subquery is one index lookup (min/max optimization).
      runSpan: db.prepare(
        `SELECT (SELECT min(created_at) FROM runs) AS first, (SELECT max(created_at) FROM runs) AS last,
           (SELECT max(id) FROM runs) AS count`,
      ),
      receipt: db.prepare(
        `SELECT t.id, t.request_id, t.sender, t.received_at, t.outcome, t.reason, t.issues, t.raw_body, t.call_key,
           v.revision, t.replayed_at
         FROM receipts t LEFT JOIN revisions v ON v.id = t.revision_id WHERE t.id = ?`,
      ),
      quarantine: db.prepare(
        `SELECT t.id, t.request_id, t.sender, t.received_at, t.outcome, t.reason, t.issues, t.raw_body, t.call_key,
           NULL AS revision, t.replayed_at
         FROM receipts t WHERE t.outcome = 'quarantined' ORDER BY t.id DESC LIMIT ?`,
      ),
      rerun: db.prepare(
        `UPDATE runs SET status = 'pending', attempts = 0, next_run_at = ?, updated_at = ?, finished_at = NULL,
           last_error = NULL, mapping_hash = 'operator-retry'
         WHERE id = ? AND status IN ('succeeded', 'dead', 'invalid-variables')`,
      ),
      rerunDoneBefore: db.prepare(`UPDATE step_results SET status = 'done-before' WHERE run_id = ? AND status = 'succeeded'`),
      rerunForgetSkipped: db.prepare(`DELETE FROM step_results WHERE run_id = ? AND status = 'skipped'`),
      queueStats: db.prepare(
        `SELECT COUNT(*) AS depth, MIN(next_run_at) AS oldest FROM runs WHERE status IN ('pending', 'retrying') AND next_run_at <= ?`,
      ),
      purgeReceipts: db.prepare('UPDATE receipts SET raw_body = NULL WHERE received_at < ? AND raw_body IS NOT NULL'),
      purgeable: db.prepare(
        `SELECT v.id, v.call_json FROM revisions v
         WHERE v.purged_at IS NULL AND v.created_at < ?
           AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.revision_id = v.id AND r.status IN ('pending', 'running', 'retrying'))
         LIMIT 500`,
      ),
      purgeRevision: db.prepare('UPDATE revisions SET call_json = ?, purged_at = ? WHERE id = ?'),
      purgeStepInputs: db.prepare('UPDATE step_results SET input = NULL WHERE run_id IN (SELECT id FROM runs WHERE revision_id = ?)'),
      callPayloads: db.prepare(CALL_PAYLOAD_SQL({ revision: '?', callId: '?' })),
      markReplayed: db.prepare(`UPDATE receipts SET replayed_at = ? WHERE id = ? AND outcome = 'quarantined'`),
      heartbeat: db.prepare('INSERT INTO heartbeat (id, beat_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET beat_at = excluded.beat_at'),
      forgetExpiredSessions: db.prepare('DELETE FROM admin_sessions WHERE expires_at <= ?'),
      startSession: db.prepare('INSERT INTO admin_sessions (id, expires_at) VALUES (?, ?)'),
      sessionActive: db.prepare('SELECT 1 FROM admin_sessions WHERE id = ? AND expires_at > ?'),
      endSession: db.prepare('DELETE FROM admin_sessions WHERE id = ?'),
    };
  }

  /**
   * Runs every write through the group commit; errors the disk raises become 503s upstream.
   * A claimed run's writes pass its id as `run`: they stop at the first that fails (ordersWrites).
   */
  private write<T>(fn: () => T, run?: number): Promise<T> {
    return this.writes.run(() => {
      try {
        return fn();
      } catch (error) {
        throw isUnavailable(error) ? new StoreUnavailableError(error) : error;
      }
    }, run);
  }

  acceptDelivery(input: AcceptInput): Promise<AcceptResult> {
    const key = callKey(input.call);
    return this.write((): AcceptResult => {
      const at = input.receivedAt;
      const call = this.sql.upsertCall.get(input.sender, key, at, at) as { id: number; latest_revision: number };
      const known = this.sql.revisionByHash.get(call.id, input.contentHash) as { id: number; revision: number } | undefined;
      if (known) {
        // Same content as ANY earlier revision: a resend or a late retry, never a rollback.
        const receipt = this.sql.insertReceipt.run(input.requestId, input.sender, at, 'duplicate', null, null, null, key, known.id);
        return { outcome: 'duplicate', receiptId: Number(receipt.lastInsertRowid), revision: known.revision };
      }
      const revision = call.latest_revision + 1;
      const inserted = this.sql.insertRevision.run(
        call.id, revision, input.contentHash, input.callJson ?? JSON.stringify(input.call), input.call.variant, input.call.status,
        input.isTest ? 1 : 0, at, input.call.customer_phone,
      );
      const revisionId = Number(inserted.lastInsertRowid);
      this.sql.bumpRevision.run(revision, call.id);
      const runIds = input.runs.map((run) =>
        Number(
          this.sql.insertRun.run(
            revisionId, call.id, revision, run.mappingName, run.mappingHash, run.skipReason ? 'skipped' : 'pending',
            input.isTest ? 1 : 0, run.skipReason ? null : at, at, at, run.skipReason ?? null, run.skipReason ? at : null,
          ).lastInsertRowid,
        ),
      );
      const receipt = this.sql.insertReceipt.run(input.requestId, input.sender, at, 'accepted', null, null, input.rawBody, key, revisionId);
      return { outcome: 'accepted', receiptId: Number(receipt.lastInsertRowid), revision, runIds };
    });
  }

  quarantineDelivery(input: QuarantineInput): Promise<{ receiptId: number }> {
    return this.write(() => {
      const receipt = this.sql.insertReceipt.run(
        input.requestId, input.sender, input.receivedAt, 'quarantined', input.reason, JSON.stringify(input.issues),
        input.rawBody, null, null,
      );
      return { receiptId: Number(receipt.lastInsertRowid) };
    });
  }

  async getReceipt(id: number): Promise<Receipt | null> {
    const row = this.sql.receipt.get(id) as ReceiptRow | undefined;
    return row ? toReceipt(row) : null;
  }

  async listQuarantine(limit = 100): Promise<Receipt[]> {
    return (this.sql.quarantine.all(limit) as ReceiptRow[]).map(toReceipt);
  }

  async getCallPayloads(callId: string, revision?: number): Promise<CallPayload[]> {
    return (this.sql.callPayloads.all(revision ?? null, callId) as CallPayloadRow[]).map(toCallPayload);
  }

  async markReplayed(receiptId: number, at: number): Promise<void> {
    await this.write(() => this.sql.markReplayed.run(at, receiptId));
  }

  claimRuns(owner: string, limit: number, now: number, leaseMs: number): Promise<ClaimedRun[]> {
    return this.write(() => {
      const ids = this.sql.dueRuns.pluck().all(now, limit) as number[];
      const claimed: ClaimedRun[] = [];
      for (const id of ids) {
        if (this.sql.lease.run(owner, now + leaseMs, now, id).changes === 0) continue;
        this.writes.restart(id);
        const steps = (this.sql.stepResults.all(id) as StepRow[]).map(toStepResult);
        claimed.push(toClaimedRun(this.sql.claimedRun.get(id) as ClaimedRow, owner, steps));
      }
      return claimed;
    });
  }

  extendLease(runId: number, owner: string, until: number): Promise<boolean> {
    return this.write(() => this.sql.extendLease.run(until, runId, owner).changes === 1);
  }

  async getStepResults(runId: number): Promise<StepResult[]> {
    return (this.sql.stepResults.all(runId) as StepRow[]).map(toStepResult);
  }

  startStep(runId: number, owner: string, stepId: string, input: unknown, inputHash: string, at: number): Promise<boolean> {
    return this.write(() => {
      if (!this.sql.ownsRun.get(runId, owner)) return false;
      this.sql.startStep.run(runId, stepId, json(input), inputHash, at);
      return true;
    }, runId);
  }

  finishStep(
    runId: number,
    owner: string,
    stepId: string,
    result: StepFinish,
    at: number,
  ): Promise<boolean> {
    return this.write(() => {
      if (!this.sql.ownsRun.get(runId, owner)) return false;
      this.sql.finishStep.run(runId, stepId, result.status, json(result.input), json(result.output), result.error ?? null, at, at, json(result.evidence));
      return true;
    }, runId);
  }

  async findEarlierEffect(
    callRowId: number,
    mappingName: string,
    stepId: string,
    beforeRevision: number,
    includeUnknown = false,
  ): Promise<EarlierEffect | null> {
    const row = this.sql.earlierEffect.get(callRowId, mappingName, stepId, includeUnknown ? 'started' : 'succeeded', beforeRevision) as
      | EarlierEffectRow
      | undefined;
    return row ? toEarlierEffect(row) : null;
  }

  completeRun(runId: number, owner: string, at: number): Promise<boolean> {
    return this.write(() => this.sql.complete.run(at, at, runId, owner).changes === 1, runId);
  }

  retryRunLater(runId: number, owner: string, error: string, nextRunAt: number, at: number): Promise<boolean> {
    return this.write(() => this.sql.retryLater.run(error, nextRunAt, at, runId, owner).changes === 1, runId);
  }

  killRun(runId: number, owner: string, error: string, at: number, status: 'dead' | 'invalid-variables' = 'dead'): Promise<boolean> {
    return this.write(() => this.sql.kill.run(status, error, at, at, runId, owner).changes === 1, runId);
  }

  saveRunScore(runId: number, owner: string, score: RunScore): Promise<boolean> {
    return this.write(() => this.sql.saveScore.run(JSON.stringify(score), runId, owner).changes === 1, runId);
  }

  releaseRun(runId: number, owner: string, notBefore?: number): Promise<boolean> {
    return this.write(() => this.sql.release.run(notBefore ?? null, runId, owner).changes === 1, runId);
  }

  sweepExpiredLeases(now: number): Promise<number> {
    return this.write(() => this.sql.sweep.run(now, now).changes);
  }

  requeueDeadRun(runId: number, at: number): Promise<'requeued' | 'not-found' | 'not-dead'> {
    return this.write(() => {
      const row = this.sql.runStatus.get(runId) as { status: RunStatus } | undefined;
      if (!row) return 'not-found';
      if (this.sql.requeue.run(at, at, runId).changes === 0) return 'not-dead';
      this.sql.confirmStarted.run(runId);
      return 'requeued';
    });
  }

  requeueForRerun(runId: number, at: number): Promise<'requeued' | 'not-found' | 'not-finished'> {
    return this.write(() => {
      if (!this.sql.runStatus.get(runId)) return 'not-found';
      if (this.sql.rerun.run(at, at, runId).changes === 0) return 'not-finished';
      this.sql.rerunDoneBefore.run(runId);
      this.sql.rerunForgetSkipped.run(runId);
      this.sql.confirmStarted.run(runId);
      return 'requeued';
    });
  }

  async queueStats(now: number): Promise<{ depth: number; oldestDueAt: number | null }> {
    const row = this.sql.queueStats.get(now) as { depth: number; oldest: number | null };
    return { depth: row.depth, oldestDueAt: row.oldest };
  }

  async purgePayloads(before: number, at: number): Promise<PurgeCounts> {
    const receipts = await this.write(() => this.sql.purgeReceipts.run(before).changes);
    let revisions = 0;
    // In batches, so a large backlog never holds the write lock for long.
    for (;;) {
      const purged = await this.write(() => {
        const rows = this.sql.purgeable.all(before) as Array<{ id: number; call_json: string }>;
        for (const row of rows) {
          this.sql.purgeRevision.run(JSON.stringify(withoutTranscripts(JSON.parse(row.call_json) as Call)), at, row.id);
          this.sql.purgeStepInputs.run(row.id);
        }
        return rows.length;
      });
      revisions += purged;
      if (purged < 500) return { receipts, revisions };
    }
  }

  async listRuns(filter: RunFilter = {}): Promise<RunSummary[]> {
    const timed = filter.createdFrom !== undefined || filter.createdTo !== undefined;
    const { sql, params } = listRunsQuery(filter, timed ? (this.sql.runSpan.get() as RunSpan) : undefined);
    return (this.db.prepare(sql).all(...params) as RunRow[]).map(toRunSummary);
  }

  async getRun(id: number): Promise<RunDetail | null> {
    const row = this.sql.run.get(id) as (RunRow & { call_json: string }) | undefined;
    if (!row) return null;
    return { ...toRunSummary(row), call: JSON.parse(row.call_json) as Call, steps: await this.getStepResults(id) };
  }

  async countRunsByStatus(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const row of this.sql.countByStatus.all() as Array<{ status: string; n: number }>) counts[row.status] = row.n;
    return counts;
  }

  async ping(): Promise<void> {
    const failed = this.writes.lastFailure;
    // A failed commit counts for a while even when later ones pass: a full disk can still take
    // the heartbeat, or the worker's small writes, where a delivery no longer fits.
    if (failed && Date.now() - failed.at < COMMIT_FAILURE_UNREADY_MS) throw new StoreUnavailableError(failed.error);
    const now = Date.now();
    await this.write(() => this.sql.heartbeat.run(now));
  }

  async startAdminSession(id: string, expiresAt: number, now: number): Promise<void> {
    await this.write(() => {
      this.sql.forgetExpiredSessions.run(now);
      this.sql.startSession.run(id, expiresAt);
    });
  }

  async adminSessionActive(id: string, now: number): Promise<boolean> {
    return this.sql.sessionActive.get(id, now) !== undefined;
  }

  async endAdminSession(id: string): Promise<void> {
    await this.write(() => this.sql.endSession.run(id));
  }

  async close(): Promise<void> {
    // Let queued writes settle before the handle goes away.
    await this.writes.run(() => undefined).catch(() => undefined);
    if (this.db.open) this.db.close();
  }
}

/** How many runs there are (about: the highest id) and the times of the first and last. */
export interface RunSpan {
  first: number | null;
  last: number | null;
  count: number | null;
}

/**
 * Finding a match's id through the time index (two index-only scans of the range, for its
 * lowest and highest id) costs about this many steps of a walk over the runs (calibrated on
 * 1M runs: docs/performance.md).
 */
const INDEX_WEIGHT = 1.5;

/**
 * Whether a time filter is better served by walking the runs newest first (checking each
 * one's time, stopping at a full page) than by the time index (the lowest and highest id in
 * the range, then a walk within them). SQLite keeps no statistics on the range to decide this
 * itself; here the runs are taken as spread evenly over their time span. A walk passes every
 * run newer than the range, then a page of matches (or, finding fewer, all runs); the index
 * scans every match.
 */
export function walkNewestFirst(filter: RunFilter, span: RunSpan | undefined): boolean {
  if (!span || span.first === null || span.last === null || span.count === null) return false;
  const from = Math.max(filter.createdFrom ?? span.first, span.first);
  const to = Math.min(filter.createdTo ?? span.last + 1, span.last + 1);
  if (to <= from) return false;
  const perMs = span.count / Math.max(1, span.last + 1 - span.first);
  const matches = perMs * (to - from);
  const page = pageSize(filter);
  const walk = matches >= page ? perMs * (span.last + 1 - to) + page : span.count;
  return walk < INDEX_WEIGHT * matches;
}

/**
 * The Runs page's query. Each filter has an index to start from (status, mapping, the ids of
 * a time range; see walkNewestFirst for wide ones); a search first finds the few calls whose id or
 * customer phone match (calls_by_key, revisions_by_phone) and takes their runs by
 * runs_by_call, instead of checking every run.
 */
export function listRunsQuery(filter: RunFilter, span?: RunSpan): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const times: Array<[operator: string, at: number]> = [];
  if (filter.createdFrom !== undefined) times.push(['>=', filter.createdFrom]);
  if (filter.createdTo !== undefined) times.push(['<', filter.createdTo]);
  if (times.length > 0 && !walkNewestFirst(filter, span)) {
    // A narrow range: the time index gives the ids of its runs (an index-only scan), and the
    // page is walked newest first within them, without sorting every match by id on the
    // thread that commits deliveries.
    const range = `FROM runs INDEXED BY runs_by_created WHERE ${times.map(([op]) => `created_at ${op} ?`).join(' AND ')}`;
    where.push(`r.id BETWEEN (SELECT min(id) ${range}) AND (SELECT max(id) ${range})`);
    for (let i = 0; i < 2; i++) params.push(...times.map(([, at]) => at));
  }
  if (filter.status) {
    where.push('r.status = ?');
    params.push(filter.status);
  }
  if (filter.beforeId) {
    where.push('r.id < ?');
    params.push(filter.beforeId);
  }
  if (filter.mappingName) {
    where.push('r.mapping_name = ?');
    params.push(filter.mappingName);
  }
  // A unary + keeps SQLite off the time index for the page itself: it is walked by id.
  for (const [op, at] of times) {
    where.push(`+r.created_at ${op} ?`);
    params.push(at);
  }
  if (filter.search) {
    const { callKey: key, phone } = searchTerms(filter.search);
    where.push(
      `r.call_row_id IN (SELECT id FROM calls WHERE call_key = ? UNION SELECT call_row_id FROM revisions WHERE customer_phone = ?)
       AND (c.call_key = ? OR v.customer_phone = ?)`,
    );
    params.push(key, phone, key, phone);
  }
  params.push(pageSize(filter));
  return {
    sql: `SELECT ${RUN_COLUMNS} FROM runs r JOIN calls c ON c.id = r.call_row_id JOIN revisions v ON v.id = r.revision_id
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC LIMIT ?`,
    params,
  };
}
