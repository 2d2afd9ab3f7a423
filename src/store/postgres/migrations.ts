// Numbered, append-only schema migrations of the PostgreSQL store, applied in list order. Never
// edit a shipped one: add the next number at the end of the list (a long one in a file of its
// own under migrations/). The numbering is this backend's own. Functions are not migrations:
// each is written once, as it is now, in routines/ (applied after the migrations).
import type pg from 'pg';
import { migrate, type Migration } from '../sql/migrate.js';
import { driveAsync } from '../sql/work.js';
import { LZ4_PAYLOADS } from './migrations/lz4-payloads.js';
import { RUNS_PAGE } from './migrations/runs-page.js';
import { TABLES } from './migrations/tables.js';
import { applyRoutines } from './routines.js';

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
  // 5, 6, 8 and 9 created the batch functions, which are routines now.
  LZ4_PAYLOADS,
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
  {
    version: 12,
    name: 'functions as routines (schema_routines); the batch functions of 5 and 6 dropped',
    // No instance that calls aftercall_accept_batch or aftercall_run_writes is left: the version
    // before this one calls their successors.
    sql: `
      CREATE TABLE schema_routines (name TEXT PRIMARY KEY, digest TEXT NOT NULL, applied_at BIGINT NOT NULL);
      DROP FUNCTION IF EXISTS aftercall_accept_batch(jsonb, text[], bytea[]);
      DROP FUNCTION IF EXISTS aftercall_run_writes(jsonb);
    `,
  },
];

/** One key for every aftercall schema in the database: migrations anywhere in it take turns. */
const MIGRATION_LOCK = "hashtext('aftercall schema migrations')";
/** A migration may take longer than an ordinary statement; a peer waits for it this long. */
const MIGRATION_TIMEOUT_MS = 120_000;

/**
 * Applies the missing migrations, then the changed routines, in ONE transaction under a transaction-level advisory lock:
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
    await applyRoutines(client);
    await client.query('COMMIT');
    ok = true;
  } finally {
    // On failure the connection is dropped, which rolls back and frees the lock.
    client.release(ok ? undefined : true);
  }
}
