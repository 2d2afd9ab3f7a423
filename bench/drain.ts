// Reads the service's store from the side to see how far the worker is: runs by status, when
// they were created and finished, accepted receipts. SQLite through a read-only second
// connection (WAL lets it read while the service writes); PostgreSQL through a small pool in
// the bench's schema. Queries about one round take the id of the newest run before the round
// (`sinceId`), so they read a rowid range instead of scanning a large pre-filled table.
import Database from 'better-sqlite3';
import pg from 'pg';

const OPEN = `('pending', 'running', 'retrying')`;

export interface DrainResult {
  /** Runs still open (pending, running, retrying) at the first look after the last ack. */
  openAtLastAck: number;
  /** Runs that finished after the last ack. */
  finishedAfterAck: number;
  /** From the last ack to the last run finishing, in seconds (0 when nothing was left). */
  seconds: number;
  /** finishedAfterAck / seconds, or null when there was nothing to drain. */
  runsPerSec: number | null;
  /** Newest finished_at among the round's runs (epoch ms), or null. */
  lastFinishedAt: number | null;
  timedOut: boolean;
}

export interface RunsSource {
  openRuns(): Promise<number>;
  countsByStatus(): Promise<Record<string, number>>;
  /** Id of the newest run (0 when none): the `sinceId` of the next round. */
  maxRunId(): Promise<number>;
  /** Runs with id > sinceId that finished within [fromMs, toMs]. */
  finishedIn(sinceId: number, fromMs: number, toMs: number): Promise<number>;
  lastFinished(sinceId: number): Promise<number | null>;
  /** finished_at − created_at (ms) of the succeeded runs with id > sinceId, ascending. */
  latencies(sinceId: number): Promise<number[]>;
  acceptedReceipts(): Promise<number>;
  close(): Promise<void>;
}

export class SqliteRuns implements RunsSource {
  private readonly db: Database.Database;
  private readonly sql;

  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
    this.sql = {
      open: this.db.prepare(`SELECT COUNT(*) FROM runs WHERE status IN ${OPEN}`).pluck(),
      byStatus: this.db.prepare('SELECT status, COUNT(*) AS n FROM runs GROUP BY status'),
      maxId: this.db.prepare('SELECT COALESCE(MAX(id), 0) FROM runs').pluck(),
      finishedBetween: this.db.prepare('SELECT COUNT(*) FROM runs WHERE id > ? AND finished_at >= ? AND finished_at <= ?').pluck(),
      lastFinished: this.db.prepare('SELECT MAX(finished_at) FROM runs WHERE id > ?').pluck(),
      latencies: this.db
        .prepare(`SELECT finished_at - created_at FROM runs WHERE id > ? AND status = 'succeeded' ORDER BY 1`)
        .pluck(),
      accepted: this.db.prepare(`SELECT COUNT(*) FROM receipts WHERE outcome = 'accepted'`).pluck(),
    };
  }

  async openRuns(): Promise<number> {
    return this.sql.open.get() as number;
  }

  async countsByStatus(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const row of this.sql.byStatus.all() as Array<{ status: string; n: number }>) counts[row.status] = row.n;
    return counts;
  }

  async maxRunId(): Promise<number> {
    return this.sql.maxId.get() as number;
  }

  async finishedIn(sinceId: number, fromMs: number, toMs: number): Promise<number> {
    return this.sql.finishedBetween.get(sinceId, fromMs, toMs) as number;
  }

  async lastFinished(sinceId: number): Promise<number | null> {
    return (this.sql.lastFinished.get(sinceId) as number | null) ?? null;
  }

  async latencies(sinceId: number): Promise<number[]> {
    return this.sql.latencies.all(sinceId) as number[];
  }

  async acceptedReceipts(): Promise<number> {
    return this.sql.accepted.get() as number;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

export class PostgresRuns implements RunsSource {
  private readonly pool: pg.Pool;

  /** `url` points into the bench's schema (search_path). */
  constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5_000, statement_timeout: 10_000 });
    this.pool.on('error', () => undefined); // a dropped idle connection is replaced on the next query
  }

  private async value(sql: string, params: unknown[] = []): Promise<number | null> {
    const { rows } = await this.pool.query<{ v: string | number | null }>(sql, params);
    const v = rows[0]?.v ?? null;
    return v === null ? null : Number(v);
  }

  async openRuns(): Promise<number> {
    return (await this.value(`SELECT COUNT(*) AS v FROM runs WHERE status IN ${OPEN}`)) ?? 0;
  }

  async countsByStatus(): Promise<Record<string, number>> {
    const { rows } = await this.pool.query<{ status: string; n: string }>('SELECT status, COUNT(*) AS n FROM runs GROUP BY status');
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async maxRunId(): Promise<number> {
    return (await this.value('SELECT COALESCE(MAX(id), 0) AS v FROM runs')) ?? 0;
  }

  async finishedIn(sinceId: number, fromMs: number, toMs: number): Promise<number> {
    return (await this.value('SELECT COUNT(*) AS v FROM runs WHERE id > $1 AND finished_at >= $2 AND finished_at <= $3', [sinceId, fromMs, toMs])) ?? 0;
  }

  async lastFinished(sinceId: number): Promise<number | null> {
    return this.value('SELECT MAX(finished_at) AS v FROM runs WHERE id > $1', [sinceId]);
  }

  async latencies(sinceId: number): Promise<number[]> {
    const { rows } = await this.pool.query<{ v: string }>(
      `SELECT finished_at - created_at AS v FROM runs WHERE id > $1 AND status = 'succeeded' ORDER BY 1`,
      [sinceId],
    );
    return rows.map((r) => Number(r.v));
  }

  async acceptedReceipts(): Promise<number> {
    return (await this.value(`SELECT COUNT(*) AS v FROM receipts WHERE outcome = 'accepted'`)) ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

/**
 * Polls until no run is open, at most `timeoutMs`. The drain time is measured with the
 * service's own finished_at stamps (same machine clock), not with the poll interval.
 */
export async function waitForDrain(
  source: RunsSource,
  sinceId: number,
  lastAckAt: number,
  timeoutMs: number,
  aborted: () => boolean,
): Promise<DrainResult> {
  const openAtLastAck = await source.openRuns();
  const deadline = Date.now() + timeoutMs;
  let timedOut = false;
  while ((await source.openRuns()) > 0) {
    if (aborted()) throw new Error('stopped while waiting for the worker');
    if (Date.now() > deadline) {
      timedOut = true;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const lastFinishedAt = await source.lastFinished(sinceId);
  const last = lastFinishedAt ?? lastAckAt;
  const finishedAfterAck = await source.finishedIn(sinceId, lastAckAt, Number.MAX_SAFE_INTEGER);
  const seconds = Math.max(0, last - lastAckAt) / 1000;
  return {
    openAtLastAck,
    finishedAfterAck,
    seconds,
    runsPerSec: finishedAfterAck > 0 && seconds > 0 ? finishedAfterAck / seconds : null,
    lastFinishedAt,
    timedOut,
  };
}

/** The value below which `share` of the sorted values lie (nearest rank). */
export function percentile(sorted: readonly number[], share: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1));
  return sorted[rank]!;
}
