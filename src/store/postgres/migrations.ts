// Numbered, append-only schema migrations of the PostgreSQL store. Never edit a shipped one:
// add the next number. The numbering is this backend's own; version 1 is the SQLite schema
// as of its migration 4, in PostgreSQL types (BIGINT epoch-ms times, BYTEA bodies). JSON
// stays TEXT, as in SQLite: JSONB would reorder keys and refuses "\u0000" in strings.
import type pg from 'pg';
import { migrate, type Migration } from '../sql/migrate.js';
import { driveAsync } from '../sql/work.js';

export type { Migration };

export const MIGRATIONS: Migration[] = [
  {
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
  },
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
  {
    version: 5,
    name: 'deliveries accepted in batches: aftercall_accept_batch',
    // The deliveries of one batch (src/store/postgres/batched-accept.ts) in one statement and
    // one commit: each in its own subtransaction, so one failing delivery (its SQLSTATE is
    // returned) leaves the others; in (sender, call key) order, so concurrent batches on other
    // instances lock calls rows in the same order and cannot deadlock; and one after the other,
    // so deliveries of one call in one batch see each other as sequential ones would.
    // The bodies come as arrays beside the JSON, indexed by the delivery's 1-based position.
    sql: `
      CREATE FUNCTION aftercall_accept_batch(deliveries jsonb, call_jsons text[], raw_bodies bytea[])
      RETURNS TABLE (r_ord integer, r_outcome text, r_receipt_id bigint, r_revision integer,
                     r_run_names text[], r_run_ids bigint[], r_sqlstate text, r_message text)
      LANGUAGE plpgsql AS $fn$
      DECLARE
        d jsonb;
        i integer;
        v_at bigint;
        v_call_id bigint;
        v_latest integer;
        v_known_id bigint;
        v_known_revision integer;
        v_revision_id bigint;
      BEGIN
        FOR d, i IN
          SELECT e.value, e.ord::integer FROM jsonb_array_elements(deliveries) WITH ORDINALITY AS e(value, ord)
          ORDER BY e.value->>'sender' COLLATE "C", e.value->>'key' COLLATE "C", e.ord
        LOOP
          r_ord := i;
          r_outcome := NULL; r_receipt_id := NULL; r_revision := NULL; r_run_names := NULL; r_run_ids := NULL;
          r_sqlstate := NULL; r_message := NULL;
          BEGIN
            v_at := (d->>'at')::bigint;
            -- The upsert locks the call's row until COMMIT, also when it only conflicts.
            INSERT INTO calls (sender, call_key, latest_revision, created_at, updated_at)
            VALUES (d->>'sender', d->>'key', 0, v_at, v_at)
            ON CONFLICT (sender, call_key) DO UPDATE SET updated_at = EXCLUDED.updated_at
            RETURNING id, latest_revision INTO v_call_id, v_latest;
            SELECT id, revision INTO v_known_id, v_known_revision FROM revisions
            WHERE call_row_id = v_call_id AND content_hash = d->>'hash';
            IF FOUND THEN
              INSERT INTO receipts (request_id, sender, received_at, outcome, call_key, revision_id)
              VALUES (d->>'requestId', d->>'sender', v_at, 'duplicate', d->>'key', v_known_id)
              RETURNING id INTO r_receipt_id;
              r_outcome := 'duplicate';
              r_revision := v_known_revision;
            ELSE
              r_revision := v_latest + 1;
              INSERT INTO revisions (call_row_id, revision, content_hash, call_json, variant, call_status, is_test, created_at,
                customer_phone)
              VALUES (v_call_id, r_revision, d->>'hash', call_jsons[i], d->>'variant', d->>'status', (d->>'isTest')::boolean, v_at,
                d->>'phone')
              RETURNING id INTO v_revision_id;
              UPDATE calls SET latest_revision = r_revision WHERE id = v_call_id;
              WITH planned AS (
                SELECT m.name, m.hash, m.skip, m.ord FROM ROWS FROM (jsonb_to_recordset(d->'runs') AS (name text, hash text, skip text))
                  WITH ORDINALITY AS m(name, hash, skip, ord)
              ), added AS (
                INSERT INTO runs (revision_id, call_row_id, revision, mapping_name, mapping_hash, status, is_test, next_run_at,
                  created_at, updated_at, last_error, finished_at)
                SELECT v_revision_id, v_call_id, r_revision, p.name, p.hash,
                  CASE WHEN p.skip IS NULL THEN 'pending' ELSE 'skipped' END, (d->>'isTest')::boolean,
                  CASE WHEN p.skip IS NULL THEN v_at END, v_at, v_at, p.skip, CASE WHEN p.skip IS NOT NULL THEN v_at END
                FROM planned p ORDER BY p.ord
                RETURNING id, mapping_name
              )
              SELECT array_agg(mapping_name), array_agg(id) INTO r_run_names, r_run_ids FROM added;
              INSERT INTO receipts (request_id, sender, received_at, outcome, raw_body, call_key, revision_id)
              VALUES (d->>'requestId', d->>'sender', v_at, 'accepted', raw_bodies[i], d->>'key', v_revision_id)
              RETURNING id INTO r_receipt_id;
              r_outcome := 'accepted';
            END IF;
          EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS r_sqlstate = RETURNED_SQLSTATE, r_message = MESSAGE_TEXT;
            r_outcome := NULL; r_receipt_id := NULL; r_revision := NULL; r_run_names := NULL; r_run_ids := NULL;
          END;
          RETURN NEXT;
        END LOOP;
      END
      $fn$;
    `,
  },
  {
    version: 6,
    name: "a claimed run's writes in batches: aftercall_run_writes",
    // The worker's writes of claimed runs (src/store/postgres/run-writes.ts), in call order, in
    // one statement and one commit: each lease-guarded as before (the run is ours while it is
    // running with our lease; FOR SHARE keeps a sweep from taking it mid-write), each in its own
    // subtransaction. A run whose write failed gets its later writes in the batch refused
    // (r_sqlstate NULL, r_message 'chain'), so none lands after a missing one.
    sql: `
      CREATE FUNCTION aftercall_run_writes(ops jsonb)
      RETURNS TABLE (r_ord integer, r_changed boolean, r_sqlstate text, r_message text)
      LANGUAGE plpgsql AS $fn$
      DECLARE
        o jsonb;
        i integer;
        v_run bigint;
        v_owner text;
        v_at bigint;
        v_rows integer;
        v_broken bigint[] := '{}';
      BEGIN
        FOR o, i IN SELECT e.value, e.ord::integer FROM jsonb_array_elements(ops) WITH ORDINALITY AS e(value, ord) ORDER BY e.ord
        LOOP
          r_ord := i; r_changed := NULL; r_sqlstate := NULL; r_message := NULL;
          v_run := (o->>'run')::bigint;
          v_owner := o->>'owner';
          v_at := (o->>'at')::bigint;
          IF v_run = ANY (v_broken) THEN
            r_message := 'chain';
            RETURN NEXT;
            CONTINUE;
          END IF;
          BEGIN
            CASE o->>'op'
              WHEN 'start' THEN
                WITH owned AS (SELECT id FROM runs WHERE id = v_run AND lease_owner = v_owner AND status = 'running' FOR SHARE)
                INSERT INTO step_results (run_id, step_id, status, input, input_hash, attempts, started_at)
                SELECT id, o->>'step', 'started', o->>'input', o->>'inputHash', 1, v_at FROM owned
                ON CONFLICT (run_id, step_id) DO UPDATE SET status = 'started', input = EXCLUDED.input,
                  input_hash = EXCLUDED.input_hash, attempts = step_results.attempts + 1,
                  started_at = EXCLUDED.started_at, finished_at = NULL, error = NULL, evidence = NULL;
              WHEN 'finish' THEN
                WITH owned AS (SELECT id FROM runs WHERE id = v_run AND lease_owner = v_owner AND status = 'running' FOR SHARE)
                INSERT INTO step_results (run_id, step_id, status, input, output, error, attempts, started_at, finished_at, evidence)
                SELECT id, o->>'step', o->>'status', o->>'input', o->>'output', o->>'error', 0, v_at, v_at, o->>'evidence' FROM owned
                ON CONFLICT (run_id, step_id) DO UPDATE SET status = EXCLUDED.status, output = EXCLUDED.output,
                  error = EXCLUDED.error, finished_at = EXCLUDED.finished_at, evidence = EXCLUDED.evidence,
                  input = COALESCE(EXCLUDED.input, step_results.input);
              WHEN 'score' THEN
                UPDATE runs SET score = o->>'score' WHERE id = v_run AND lease_owner = v_owner AND status = 'running';
              WHEN 'complete' THEN
                UPDATE runs SET status = 'succeeded', lease_owner = NULL, lease_until = NULL, next_run_at = NULL, updated_at = v_at,
                  finished_at = v_at
                WHERE id = v_run AND lease_owner = v_owner AND status = 'running';
              WHEN 'retry' THEN
                UPDATE runs SET status = 'retrying', attempts = attempts + 1, last_error = o->>'error',
                  next_run_at = (o->>'nextRunAt')::bigint, lease_owner = NULL, lease_until = NULL, updated_at = v_at
                WHERE id = v_run AND lease_owner = v_owner AND status = 'running';
              WHEN 'kill' THEN
                UPDATE runs SET status = o->>'status', attempts = attempts + 1, last_error = o->>'error', next_run_at = NULL,
                  lease_owner = NULL, lease_until = NULL, updated_at = v_at, finished_at = v_at
                WHERE id = v_run AND lease_owner = v_owner AND status = 'running';
              WHEN 'release' THEN
                UPDATE runs SET status = CASE WHEN attempts > 0 THEN 'retrying' ELSE 'pending' END, lease_owner = NULL,
                  lease_until = NULL, next_run_at = COALESCE((o->>'notBefore')::bigint, next_run_at)
                WHERE id = v_run AND lease_owner = v_owner AND status = 'running';
            END CASE;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            r_changed := v_rows = 1;
          EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS r_sqlstate = RETURNED_SQLSTATE, r_message = MESSAGE_TEXT;
            v_broken := v_broken || v_run;
          END;
          RETURN NEXT;
        END LOOP;
      END
      $fn$;
    `,
  },
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
