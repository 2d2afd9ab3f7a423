// PostgreSQL migration 1: the tables, as the SQLite schema stood at its migration 4, in
// PostgreSQL types (BIGINT epoch-ms times, BYTEA bodies). JSON stays TEXT, as in SQLite: JSONB
// would reorder keys and refuses "\u0000" in strings.
import type { Migration } from '../../sql/migrate.js';

export const TABLES: Migration = {
  version: 1,
  name: 'receipts, calls, revisions, runs, step results',
  sql: `
    CREATE TABLE calls (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      sender TEXT NOT NULL,
      call_key TEXT NOT NULL,
      latest_revision INTEGER NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      UNIQUE (sender, call_key)
    );
    CREATE TABLE revisions (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      call_row_id BIGINT NOT NULL REFERENCES calls(id),
      revision INTEGER NOT NULL,
      content_hash TEXT NOT NULL,
      call_json TEXT NOT NULL,
      variant TEXT NOT NULL,
      call_status TEXT NOT NULL,
      is_test BOOLEAN NOT NULL DEFAULT false,
      created_at BIGINT NOT NULL,
      purged_at BIGINT,
      customer_phone TEXT,
      UNIQUE (call_row_id, revision),
      UNIQUE (call_row_id, content_hash)
    );
    CREATE INDEX calls_by_key ON calls (call_key);
    CREATE INDEX revisions_unpurged ON revisions (created_at) WHERE purged_at IS NULL;
    CREATE INDEX revisions_by_phone ON revisions (customer_phone) WHERE customer_phone IS NOT NULL;
    CREATE TABLE receipts (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      request_id TEXT NOT NULL,
      sender TEXT NOT NULL,
      received_at BIGINT NOT NULL,
      outcome TEXT NOT NULL,
      reason TEXT,
      issues TEXT,
      raw_body BYTEA,
      call_key TEXT,
      revision_id BIGINT REFERENCES revisions(id),
      replayed_at BIGINT
    );
    CREATE INDEX receipts_quarantined ON receipts (id) WHERE outcome = 'quarantined';
    CREATE INDEX receipts_by_time ON receipts (received_at) WHERE raw_body IS NOT NULL;
    CREATE TABLE runs (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      revision_id BIGINT NOT NULL REFERENCES revisions(id),
      call_row_id BIGINT NOT NULL REFERENCES calls(id),
      revision INTEGER NOT NULL,
      mapping_name TEXT NOT NULL,
      mapping_hash TEXT NOT NULL,
      status TEXT NOT NULL,
      is_test BOOLEAN NOT NULL DEFAULT false,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_run_at BIGINT,
      lease_owner TEXT,
      lease_until BIGINT,
      last_error TEXT,
      score TEXT,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      finished_at BIGINT,
      UNIQUE (revision_id, mapping_name)
    );
    CREATE INDEX runs_due ON runs (next_run_at, id) WHERE status IN ('pending', 'retrying');
    CREATE INDEX runs_leased ON runs (lease_until) WHERE status = 'running';
    CREATE INDEX runs_by_status ON runs (status, id);
    CREATE INDEX runs_by_call ON runs (call_row_id, mapping_name, revision);
    CREATE INDEX runs_by_mapping ON runs (mapping_name, id);
    CREATE INDEX runs_by_created ON runs (created_at, id);
    CREATE TABLE step_results (
      run_id BIGINT NOT NULL REFERENCES runs(id),
      step_id TEXT NOT NULL,
      status TEXT NOT NULL,
      input TEXT,
      input_hash TEXT,
      output TEXT,
      error TEXT,
      attempts INTEGER NOT NULL DEFAULT 0,
      started_at BIGINT,
      finished_at BIGINT,
      PRIMARY KEY (run_id, step_id)
    );
  `,
};
