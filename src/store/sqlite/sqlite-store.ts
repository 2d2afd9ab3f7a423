// The embedded default store: one SQLite file in WAL mode with synchronous=FULL, so a
// committed (and acknowledged) call survives power loss, not only a process crash.
// Single instance per file; several instances share PostgreSQL instead.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Call } from '../../payload/call.js';
import type { AcceptInput, AcceptResult, ClaimedRun, PurgeCounts } from '../records.js';
import { STEP_COLUMNS, toClaimedRun, toStepResult, type ClaimedRow, type StepRow } from '../rows.js';
import { DUE, sqlList, UNFINISHED } from '../run-status.js';
import { callKey, StoreUnavailableError, withoutTranscripts } from '../store.js';
import { migrate } from '../sql/migrate.js';
import { raw, sql } from '../sql/query.js';
import { insertReceipt } from '../sql/receipts.js';
import { UNCLAIMED, sweepExpiredLeases } from '../sql/run-ends.js';
import { SqlStore } from '../sql/sql-store.js';
import { all, driveSync, get, run, type Flavor, type How, type Op, type Work } from '../sql/work.js';
import { GroupCommit, isUnavailable } from './group-commit.js';
import { MIGRATIONS } from './migrations.js';
import { searchDocument } from '../search-document.js';
import { DEFLATED_PAYLOADS, packBytes, packText, registerPayloadFunctions, unpackText } from './stored-payload.js';

export { listRunsQuery, walkNewestFirst, type RunSpan } from '../sql/list-runs.js';

/** How long /readyz stays unready after a commit failed (it then tries a write of its own). */
const COMMIT_FAILURE_UNREADY_MS = 10_000;
const PURGE_BATCH = 500;
const FLAVOR: Flavor = { kind: 'sqlite', stepOrder: 'started_at, step_id', forShare: '', payloads: DEFLATED_PAYLOADS };

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
  registerPayloadFunctions(db);
  const apply = executor(db);
  db.transaction(() => driveSync(migrate(MIGRATIONS, 'INTEGER'), apply)).immediate();
  if (options.ownsQueue) driveSync(run(sql`UPDATE runs SET ${raw(UNCLAIMED)} WHERE status = 'running'`), apply);
  return new SqliteStore(db);
}

/** Runs an operation's statements on `db`, each prepared once. */
function executor(db: Database.Database): (op: Op) => unknown {
  const prepared = new Map<string, Database.Statement>();
  return (op) => {
    if (op.kind === 'script') return db.exec(op.text), undefined;
    const text = op.query.text('sqlite');
    let statement = prepared.get(text);
    if (!statement) prepared.set(text, (statement = db.prepare(text)));
    return op.kind === 'all' ? statement.all(...op.query.values) : statement.run(...op.query.values).changes;
  };
}

export class SqliteStore extends SqlStore {
  readonly kind = 'sqlite' as const;
  protected readonly flavor = FLAVOR;
  private readonly writes: GroupCommit;
  private readonly apply: (op: Op) => unknown;
  private readonly indexedWords = new IndexedWords();

  constructor(private readonly db: Database.Database) {
    super();
    this.writes = new GroupCommit(db);
    this.apply = executor(db);
  }

  /**
   * Every write runs through the group commit; errors the disk raises become 503s upstream.
   * A claimed run's writes pass its id as `chain`: they stop at the first that fails (RunQueue).
   */
  protected exec<T>(work: Work<T>, how: How = {}): Promise<T> {
    if (!how.write) return new Promise<T>((resolve) => resolve(driveSync(work, this.apply)));
    return this.writes.run(() => {
      try {
        return driveSync(work, this.apply);
      } catch (error) {
        throw isUnavailable(error) ? new StoreUnavailableError(error) : error;
      }
    }, how.chain);
  }

  acceptDelivery(input: AcceptInput): Promise<AcceptResult> {
    return this.exec(accept(input, this.indexedWords), { write: true }).catch((error: unknown) => {
      // Its words may not have been written after all: write every word again from now on.
      this.indexedWords.clear();
      throw error;
    });
  }

  claimRuns(owner: string, limit: number, now: number, leaseMs: number): Promise<ClaimedRun[]>;
  /** With `callsHeld` (the threaded store's hand-off, call-handoff.ts), those runs come without their call. */
  claimRuns(owner: string, limit: number, now: number, leaseMs: number, callsHeld: readonly number[]): Promise<ClaimWithoutCall[]>;
  claimRuns(owner: string, limit: number, now: number, leaseMs: number, callsHeld: readonly number[] = []): Promise<ClaimWithoutCall[]> {
    const writes = this.writes;
    const held = new Set(callsHeld);
    return this.exec(
      (function* (): Work<ClaimWithoutCall[]> {
        // INDEXED BY: left alone, the planner picks runs_by_status and sorts every waiting
        // run, so claiming slows down linearly with the queue.
        const due = yield* all<{ id: number }>(sql`SELECT r.id FROM runs r INDEXED BY runs_due
          WHERE r.status IN ${raw(sqlList(DUE))} AND r.next_run_at <= ${now}
            AND NOT EXISTS (
              SELECT 1 FROM runs e
              WHERE e.call_row_id = r.call_row_id AND e.mapping_name = r.mapping_name
                AND e.revision < r.revision AND e.status IN ${raw(sqlList(UNFINISHED))})
          ORDER BY r.next_run_at, r.id LIMIT ${limit}`);
        const claimed: ClaimWithoutCall[] = [];
        for (const { id } of due) {
          const leased = yield* run(sql`UPDATE runs SET status = 'running', lease_owner = ${owner}, lease_until = ${now + leaseMs},
            updated_at = ${now} WHERE id = ${id} AND status IN ${raw(sqlList(DUE))}`);
          if (leased === 0) continue;
          writes.restart(id);
          const steps = yield* all<StepRow>(sql`SELECT ${raw(STEP_COLUMNS)} FROM step_results WHERE run_id = ${id} ORDER BY ${raw(FLAVOR.stepOrder)}`);
          if (held.has(id)) {
            const bare = yield* get<Omit<ClaimedRow, 'call_json'>>(sql`SELECT id, mapping_name, mapping_hash, attempts, is_test, call_row_id,
              revision, next_run_at FROM runs WHERE id = ${id}`);
            claimed.push({ ...toClaimedRun({ ...bare!, call_json: 'null' }, owner, steps.map(toStepResult)), call: null });
            continue;
          }
          const row = yield* get<StoredRow<ClaimedRow>>(sql`SELECT r.id, r.mapping_name, r.mapping_hash, r.attempts, r.is_test, r.call_row_id,
            r.revision, r.next_run_at, v.call_json FROM runs r JOIN revisions v ON v.id = r.revision_id WHERE r.id = ${id}`);
          claimed.push(toClaimedRun({ ...row!, call_json: unpackText(row!.call_json) }, owner, steps.map(toStepResult)));
        }
        return claimed;
      })(),
      { write: true },
    );
  }

  sweepExpiredLeases(now: number): Promise<number> {
    return this.exec(sweepExpiredLeases(now, ''), { write: true });
  }

  async purgePayloads(before: number, at: number): Promise<PurgeCounts> {
    const receipts = await this.exec(run(sql`UPDATE receipts SET raw_body = NULL WHERE received_at < ${before} AND raw_body IS NOT NULL`), {
      write: true,
    });
    let revisions = 0;
    // In batches, so a large backlog never holds the write lock for long.
    for (;;) {
      const purged = await this.exec(purgeRevisions(before, at), { write: true });
      revisions += purged;
      if (purged < PURGE_BATCH) return { receipts, revisions };
    }
  }

  async countRunsByStatus(): Promise<Record<string, number>> {
    const rows = await this.exec(all<{ status: string; n: number }>(sql`SELECT status, n FROM run_counts WHERE n > 0`));
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  override async ping(): Promise<void> {
    const failed = this.writes.lastFailure;
    // A failed commit counts for a while even when later ones pass: a full disk can still take
    // the heartbeat, or the worker's small writes, where a delivery no longer fits.
    if (failed && Date.now() - failed.at < COMMIT_FAILURE_UNREADY_MS) throw new StoreUnavailableError(failed.error);
    await super.ping();
  }

  async close(): Promise<void> {
    // Let queued writes settle before the handle goes away.
    await this.writes.run(() => undefined).catch(() => undefined);
    if (this.db.open) this.db.close();
  }
}

function* accept(input: AcceptInput, indexedWords: IndexedWords): Work<AcceptResult> {
  const key = callKey(input.call);
  const at = input.receivedAt;
  const call = (yield* get<{ id: number; latest_revision: number }>(
    sql`INSERT INTO calls (sender, call_key, latest_revision, created_at, updated_at) VALUES (${input.sender}, ${key}, 0, ${at}, ${at})
        ON CONFLICT (sender, call_key) DO UPDATE SET updated_at = excluded.updated_at RETURNING id, latest_revision`,
  ))!;
  const known = yield* get<{ id: number; revision: number }>(
    sql`SELECT id, revision FROM revisions WHERE call_row_id = ${call.id} AND content_hash = ${input.contentHash}`,
  );
  if (known) {
    // Same content as ANY earlier revision: a resend or a late retry, never a rollback.
    const receipt = yield* get<{ id: number }>(insertReceipt(input, 'duplicate', { callKey: key, revisionId: known.id }));
    return { outcome: 'duplicate', receiptId: receipt!.id, revision: known.revision };
  }
  const revision = call.latest_revision + 1;
  const isTest = input.isTest ? 1 : 0;
  const revisionId = (yield* get<{ id: number }>(
    sql`INSERT INTO revisions (call_row_id, revision, content_hash, call_json, variant, call_status, is_test, created_at, customer_phone)
        VALUES (${call.id}, ${revision}, ${input.contentHash}, ${packText(input.callJson ?? JSON.stringify(input.call))}, ${input.call.variant},
          ${input.call.status}, ${isTest}, ${at}, ${input.call.customer_phone}) RETURNING id`,
  ))!.id;
  yield* run(sql`UPDATE calls SET latest_revision = ${revision} WHERE id = ${call.id}`);
  const words = input.searchText ?? searchDocument(input.call, input.runs);
  yield* run(sql`INSERT INTO revision_search (rowid, words) VALUES (${revisionId}, ${words})`);
  const fresh = indexedWords.unseen(words);
  if (fresh.length) yield* run(sql`INSERT OR IGNORE INTO search_words (word) SELECT value FROM json_each(${JSON.stringify(fresh)})`);
  const runIds: number[] = [];
  for (const planned of input.runs) {
    const skip = planned.skipReason ?? null;
    const row = yield* get<{ id: number }>(
      sql`INSERT INTO runs (revision_id, call_row_id, revision, mapping_name, mapping_hash, status, is_test, next_run_at, created_at,
            updated_at, last_error, finished_at)
          VALUES (${revisionId}, ${call.id}, ${revision}, ${planned.mappingName}, ${planned.mappingHash}, ${skip ? 'skipped' : 'pending'},
            ${isTest}, ${skip ? null : at}, ${at}, ${at}, ${skip}, ${skip ? at : null}) RETURNING id`,
    );
    runIds.push(row!.id);
  }
  const receipt = yield* get<{ id: number }>(insertReceipt(input, 'accepted', { callKey: key, revisionId, rawBody: packBytes(input.rawBody) }));
  return { outcome: 'accepted', receiptId: receipt!.id, revision, runIds };
}

function* purgeRevisions(before: number, at: number): Work<number> {
  const rows = yield* all<{ id: number; call_json: Buffer | string }>(
    sql`SELECT v.id, v.call_json FROM revisions v
        WHERE v.purged_at IS NULL AND v.created_at < ${before}
          AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.revision_id = v.id AND r.status IN ${raw(sqlList(UNFINISHED))})
        LIMIT ${PURGE_BATCH}`,
  );
  for (const row of rows) {
    const call = packText(JSON.stringify(withoutTranscripts(JSON.parse(unpackText(row.call_json)) as Call)));
    yield* run(sql`UPDATE revisions SET call_json = ${call}, purged_at = ${at} WHERE id = ${row.id}`);
    yield* run(sql`UPDATE step_results SET input = NULL WHERE run_id IN (SELECT id FROM runs WHERE revision_id = ${row.id})`);
  }
  return rows.length;
}

/**
 * The words this store wrote to search_words lately, so a delivery writes only the few it
 * brings new (its call id, a new phone): most of a revision's words are in every call. A
 * word forgotten (the set is bounded) is written again, which INSERT OR IGNORE makes harmless.
 */
export class IndexedWords {
  private readonly seen = new Set<string>();

  constructor(private readonly limit = 100_000) {}

  clear(): void {
    this.seen.clear();
  }

  unseen(words: string): string[] {
    const fresh: string[] = [];
    for (const word of words.split(' ')) {
      if (!word || this.seen.has(word)) continue;
      if (this.seen.size >= this.limit) this.seen.clear();
      this.seen.add(word);
      fresh.push(word);
    }
    return fresh;
  }
}

/** A claimed run as claimRuns gives it with `callsHeld`: null where the caller holds the call. */
export type ClaimWithoutCall = Omit<ClaimedRun, 'call'> & { call: Call | null };

/** A row as read from the file: its call deflated (stored-payload.ts). */
type StoredRow<T extends { call_json: string }> = Omit<T, 'call_json'> & { call_json: Buffer | string };
