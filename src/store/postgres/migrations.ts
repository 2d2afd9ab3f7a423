// Numbered, append-only schema migrations of the PostgreSQL store, applied in list order. Never
// edit a shipped one: add the next number at the end of the list (a long one in a file of its
// own under migrations/). The numbering is this backend's own.
import type pg from 'pg';
import { migrate, type Migration } from '../sql/migrate.js';
import { driveAsync } from '../sql/work.js';
import { ACCEPT_BATCH } from './migrations/accept-batch.js';
import { ACCEPT_DELIVERIES } from './migrations/accept-deliveries.js';
import { LZ4_PAYLOADS } from './migrations/lz4-payloads.js';
import { RUN_WRITES } from './migrations/run-writes.js';
import { RUNS_PAGE } from './migrations/runs-page.js';
import { TABLES } from './migrations/tables.js';
import { WORKER_WRITES } from './migrations/worker-writes.js';

export type { Migration };

export const MIGRATIONS: Migration[] = [
  TABLES,
  {
    version: 2,
    name: "a failed step's request and answer",
    sql: `ALTER TABLE step_results ADD COLUMN evidence TEXT;`,
  },
  {
    version: 3,
    name: 'admin sessions; the readiness heartbeat',
    sql: `
      CREATE TABLE admin_sessions (id TEXT PRIMARY KEY, expires_at BIGINT NOT NULL);
      CREATE TABLE heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), beat_at BIGINT NOT NULL);
    `,
  },
  {
    version: 4,
    name: "test runs end succeeded like others (is_test marks them), not with status 'test'",
    sql: `UPDATE runs SET status = 'succeeded' WHERE status = 'test';`,
  },
  ACCEPT_BATCH,
  RUN_WRITES,
  LZ4_PAYLOADS,
  ACCEPT_DELIVERIES,
  WORKER_WRITES,
  {
    version: 10,
    name: 'inbound-call variable requests: receipt, answer, lookup outcomes',
    sql: `CREATE TABLE inbound_requests (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        request_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        outcome TEXT NOT NULL,
        status INTEGER NOT NULL,
        customer_phone TEXT,
        assistant_phone TEXT,
        raw_body BYTEA NOT NULL,
        answer TEXT NOT NULL,
        mappings TEXT NOT NULL,
        lookups TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        deadline_hit BOOLEAN NOT NULL,
        problems INTEGER NOT NULL
      );`,
  },
  RUNS_PAGE,
];

/** One key for every aftercall schema in the database: migrations anywhere in it take turns. */
const MIGRATION_LOCK = "hashtext('aftercall schema migrations')";
/** A migration may take longer than an ordinary statement; a peer waits for it this long. */
const MIGRATION_TIMEOUT_MS = 120_000;

/**
 * Applies the missing migrations in ONE transaction under a transaction-level advisory lock:
 * instances starting together queue on the lock, and the ones after the first find
 * everything applied. The lock comes first, before even CREATE TABLE IF NOT EXISTS, which
 * is not safe against a concurrent twin.
 */
export async function applyMigrations(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  let ok = false;
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
    await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await driveAsync(migrate(MIGRATIONS, 'BIGINT'), async (op) => {
      if (op.kind === 'script') return void (await client.query(op.text));
      const result = await client.query(op.query.text('postgres'), [...op.query.values]);
      return op.kind === 'all' ? result.rows : result.rowCount;
    });
    await client.query('COMMIT');
    ok = true;
  } finally {
    // On failure the connection is dropped, which rolls back and frees the lock.
    client.release(ok ? undefined : true);
  }
}
