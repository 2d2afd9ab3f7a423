// Part of migration 1 of both backends (src/store/sqlite/migrations.ts and
// src/store/postgres/migrations/tables.ts): their tables and indexes, written once in each
// dialect's types. Shipped, so frozen with them: never edit it (each backend's migrations say
// so too); a schema change is the next migration of each backend.

/** The types a dialect writes migration 1's columns in. */
export interface InitialSchemaTypes {
  /** A table's own id: SQLite's rowid, a PostgreSQL identity column. */
  id: string;
  /** Row ids and epoch-ms times. */
  int64: string;
  /** A flag that is false unless set (is_test). */
  falseFlag: string;
  /** Bytes (raw bodies). */
  bytes: string;
  /** What ends a table looked up by its whole primary key alone (SQLite: WITHOUT ROWID). */
  keyedTable: string;
}

/**
 * Migration 1's statements in `types`. `upToSqlite4`: with what SQLite added in its migrations 2
 * to 4 (runs.score; revisions.purged_at and customer_phone; the indexes on them, on call_key,
 * on received_at and on runs' mapping and creation time), which PostgreSQL's migration 1 has
 * from the start.
 */
export function initialSchema(types: InitialSchemaTypes, { upToSqlite4 }: { upToSqlite4: boolean }): string {
  const { id, int64, falseFlag, bytes, keyedTable } = types;
  const later = (statements: string) => (upToSqlite4 ? statements : '');
  return `
    CREATE TABLE calls (
      id ${id},
      sender TEXT NOT NULL,
      call_key TEXT NOT NULL,
      latest_revision INTEGER NOT NULL,
      created_at ${int64} NOT NULL,
      updated_at ${int64} NOT NULL,
      UNIQUE (sender, call_key)
    );
    CREATE TABLE revisions (
      id ${id},
      call_row_id ${int64} NOT NULL REFERENCES calls(id),
      revision INTEGER NOT NULL,
      content_hash TEXT NOT NULL,
      call_json TEXT NOT NULL,
      variant TEXT NOT NULL,
      call_status TEXT NOT NULL,
      is_test ${falseFlag},
      created_at ${int64} NOT NULL,${later(`
      purged_at ${int64},
      customer_phone TEXT,`)}
      UNIQUE (call_row_id, revision),
      UNIQUE (call_row_id, content_hash)
    );${later(`
    CREATE INDEX calls_by_key ON calls (call_key);
    CREATE INDEX revisions_unpurged ON revisions (created_at) WHERE purged_at IS NULL;
    CREATE INDEX revisions_by_phone ON revisions (customer_phone) WHERE customer_phone IS NOT NULL;`)}
    CREATE TABLE receipts (
      id ${id},
      request_id TEXT NOT NULL,
      sender TEXT NOT NULL,
      received_at ${int64} NOT NULL,
      outcome TEXT NOT NULL,
      reason TEXT,
      issues TEXT,
      raw_body ${bytes},
      call_key TEXT,
      revision_id ${int64} REFERENCES revisions(id),
      replayed_at ${int64}
    );
    CREATE INDEX receipts_quarantined ON receipts (id) WHERE outcome = 'quarantined';${later(`
    CREATE INDEX receipts_by_time ON receipts (received_at) WHERE raw_body IS NOT NULL;`)}
    CREATE TABLE runs (
      id ${id},
      revision_id ${int64} NOT NULL REFERENCES revisions(id),
      call_row_id ${int64} NOT NULL REFERENCES calls(id),
      revision INTEGER NOT NULL,
      mapping_name TEXT NOT NULL,
      mapping_hash TEXT NOT NULL,
      status TEXT NOT NULL,
      is_test ${falseFlag},
      attempts INTEGER NOT NULL DEFAULT 0,
      next_run_at ${int64},
      lease_owner TEXT,
      lease_until ${int64},
      last_error TEXT,${later(`
      score TEXT,`)}
      created_at ${int64} NOT NULL,
      updated_at ${int64} NOT NULL,
      finished_at ${int64},
      UNIQUE (revision_id, mapping_name)
    );
    CREATE INDEX runs_due ON runs (next_run_at, id) WHERE status IN ('pending', 'retrying');
    CREATE INDEX runs_leased ON runs (lease_until) WHERE status = 'running';
    CREATE INDEX runs_by_status ON runs (status, id);
    CREATE INDEX runs_by_call ON runs (call_row_id, mapping_name, revision);${later(`
    CREATE INDEX runs_by_mapping ON runs (mapping_name, id);
    CREATE INDEX runs_by_created ON runs (created_at, id);`)}
    CREATE TABLE step_results (
      run_id ${int64} NOT NULL REFERENCES runs(id),
      step_id TEXT NOT NULL,
      status TEXT NOT NULL,
      input TEXT,
      input_hash TEXT,
      output TEXT,
      error TEXT,
      attempts INTEGER NOT NULL DEFAULT 0,
      started_at ${int64},
      finished_at ${int64},
      PRIMARY KEY (run_id, step_id)
    )${keyedTable};
  `;
}
