// Numbered, append-only schema migrations. Never edit a shipped one: add the next number.
import { initialSchema } from '../sql/initial-schema.js';
import type { Migration } from '../sql/migrate.js';

/**
 * Migration 11's hourly counts for the Runs page's activity panel, kept by triggers: counting a
 * week of runs from the runs themselves would hold the one thread that also commits deliveries
 * for as long as the week is big. A run that ends twice (retried after dying) counts each time.
 */
const ACTIVITY_COUNTS = `CREATE TABLE activity_hours (hour INTEGER NOT NULL, kind TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (hour, kind)) WITHOUT ROWID;
      CREATE TABLE step_hours (hour INTEGER NOT NULL, mapping_name TEXT NOT NULL, step_id TEXT NOT NULL, succeeded INTEGER NOT NULL,
        failed INTEGER NOT NULL, PRIMARY KEY (hour, mapping_name, step_id)) WITHOUT ROWID;
      INSERT INTO activity_hours (hour, kind, n) SELECT created_at / 3600000, 'calls', COUNT(*) FROM calls GROUP BY 1;
      INSERT INTO activity_hours (hour, kind, n)
        SELECT finished_at / 3600000, CASE WHEN status = 'succeeded' THEN 'succeeded' ELSE 'failed' END, COUNT(*) FROM runs
        WHERE finished_at IS NOT NULL AND status IN ('succeeded', 'dead', 'invalid-variables') GROUP BY 1, 2;
      INSERT INTO step_hours (hour, mapping_name, step_id, succeeded, failed)
        SELECT s.finished_at / 3600000, r.mapping_name, s.step_id, SUM(s.status = 'succeeded'), SUM(s.status = 'failed')
        FROM step_results s JOIN runs r ON r.id = s.run_id WHERE s.finished_at IS NOT NULL AND s.status IN ('succeeded', 'failed') GROUP BY 1, 2, 3;
      CREATE TRIGGER activity_calls AFTER INSERT ON calls BEGIN
        INSERT INTO activity_hours (hour, kind, n) VALUES (NEW.created_at / 3600000, 'calls', 1) ON CONFLICT (hour, kind) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER activity_runs AFTER UPDATE OF status ON runs
        WHEN NEW.status IN ('succeeded', 'dead', 'invalid-variables') AND OLD.status IS NOT NEW.status AND NEW.finished_at IS NOT NULL BEGIN
        INSERT INTO activity_hours (hour, kind, n) VALUES (NEW.finished_at / 3600000, CASE WHEN NEW.status = 'succeeded' THEN 'succeeded' ELSE 'failed' END, 1)
          ON CONFLICT (hour, kind) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER activity_steps_insert AFTER INSERT ON step_results WHEN NEW.status IN ('succeeded', 'failed') AND NEW.finished_at IS NOT NULL BEGIN
        INSERT INTO step_hours (hour, mapping_name, step_id, succeeded, failed)
          VALUES (NEW.finished_at / 3600000, (SELECT mapping_name FROM runs WHERE id = NEW.run_id), NEW.step_id, NEW.status = 'succeeded', NEW.status = 'failed')
          ON CONFLICT (hour, mapping_name, step_id) DO UPDATE SET succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed;
      END;
      CREATE TRIGGER activity_steps_update AFTER UPDATE OF status ON step_results
        WHEN NEW.status IN ('succeeded', 'failed') AND OLD.status IS NOT NEW.status AND NEW.finished_at IS NOT NULL BEGIN
        INSERT INTO step_hours (hour, mapping_name, step_id, succeeded, failed)
          VALUES (NEW.finished_at / 3600000, (SELECT mapping_name FROM runs WHERE id = NEW.run_id), NEW.step_id, NEW.status = 'succeeded', NEW.status = 'failed')
          ON CONFLICT (hour, mapping_name, step_id) DO UPDATE SET succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed;
      END;`;

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'receipts, calls, revisions, runs, step results',
    // Written once with PostgreSQL's migration 1 (initial-schema.ts, frozen like this list).
    sql: initialSchema({ id: 'INTEGER PRIMARY KEY', int64: 'INTEGER', falseFlag: 'INTEGER NOT NULL DEFAULT 0', bytes: 'BLOB', keyedTable: ' WITHOUT ROWID' }, { upToSqlite4: false }),
  },
  {
    version: 2,
    name: 'lead score of a run',
    sql: `ALTER TABLE runs ADD COLUMN score TEXT;`,
  },
  {
    version: 3,
    name: 'retention: when a revision was purged',
    sql: `ALTER TABLE revisions ADD COLUMN purged_at INTEGER;
      CREATE INDEX revisions_unpurged ON revisions (created_at) WHERE purged_at IS NULL;
      CREATE INDEX receipts_by_time ON receipts (received_at) WHERE raw_body IS NOT NULL;`,
  },
  {
    version: 4,
    name: 'indexes for the runs page: mapping, time, call id, customer phone',
    sql: `ALTER TABLE revisions ADD COLUMN customer_phone TEXT;
      UPDATE revisions SET customer_phone = json_extract(call_json, '$.customer_phone');
      CREATE INDEX revisions_by_phone ON revisions (customer_phone) WHERE customer_phone IS NOT NULL;
      CREATE INDEX calls_by_key ON calls (call_key);
      CREATE INDEX runs_by_mapping ON runs (mapping_name, id);
      CREATE INDEX runs_by_created ON runs (created_at, id);`,
  },
  {
    version: 5,
    name: 'run counts by status kept by triggers',
    // Counting runs by status reads the whole status index, on the one thread that also
    // commits deliveries, at every /metrics scrape and Runs page view: triggers keep the counts.
    sql: `CREATE TABLE run_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO run_counts (status, n) SELECT status, COUNT(*) FROM runs GROUP BY status;
      CREATE TRIGGER run_counts_insert AFTER INSERT ON runs BEGIN
        INSERT INTO run_counts (status, n) VALUES (NEW.status, 1) ON CONFLICT (status) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER run_counts_update AFTER UPDATE OF status ON runs WHEN OLD.status IS NOT NEW.status BEGIN
        UPDATE run_counts SET n = n - 1 WHERE status = OLD.status;
        INSERT INTO run_counts (status, n) VALUES (NEW.status, 1) ON CONFLICT (status) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER run_counts_delete AFTER DELETE ON runs BEGIN
        UPDATE run_counts SET n = n - 1 WHERE status = OLD.status;
      END;`,
  },
  {
    version: 6,
    name: "a failed step's request and answer",
    sql: `ALTER TABLE step_results ADD COLUMN evidence TEXT;`,
  },
  {
    version: 7,
    name: 'admin sessions; the readiness heartbeat',
    sql: `CREATE TABLE admin_sessions (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), beat_at INTEGER NOT NULL);`,
  },
  {
    version: 8,
    name: "test runs end succeeded like others (is_test marks them), not with status 'test'",
    sql: `UPDATE runs SET status = 'succeeded' WHERE status = 'test';`,
  },
  {
    version: 9,
    name: 'raw bodies and normalized calls stored deflated',
    // aftercall_pack is registered by the store (stored-payload.ts). Bodies are BLOBs before and
    // after: every one is converted here, so every stored body is deflated from now on.
    sql: `UPDATE receipts SET raw_body = aftercall_pack(raw_body) WHERE raw_body IS NOT NULL;
      UPDATE revisions SET call_json = aftercall_pack(call_json) WHERE typeof(call_json) = 'text';`,
  },
  {
    version: 10,
    name: 'inbound-call variable requests: receipt, answer, lookup outcomes',
    // raw_body deflated like receipts' (stored-payload.ts); JSON columns as TEXT.
    sql: `CREATE TABLE inbound_requests (
        id INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        status INTEGER NOT NULL,
        customer_phone TEXT,
        assistant_phone TEXT,
        raw_body BLOB NOT NULL,
        answer TEXT NOT NULL,
        mappings TEXT NOT NULL,
        lookups TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        deadline_hit INTEGER NOT NULL,
        problems INTEGER NOT NULL
      );`,
  },
  {
    version: 11,
    name: 'the Runs page: sender headers, dismissed quarantine, search, the activity counts',
    // aftercall_search_document is registered by the store (stored-payload.ts); the search
    // table holds only the index (content=''; no positions or sizes: the search needs neither),
    // its rowid the revision's id; search_words lists
    // every indexed word, so a query's prefix becomes the words it begins (list-runs.ts).
    sql: `ALTER TABLE receipts ADD COLUMN headers TEXT;
      ALTER TABLE receipts ADD COLUMN dismissed_at INTEGER;
      CREATE INDEX receipts_by_revision ON receipts (revision_id) WHERE revision_id IS NOT NULL;
      CREATE VIRTUAL TABLE revision_search USING fts5(words, content='', detail=none, columnsize=0, tokenize='unicode61 remove_diacritics 0');
      INSERT INTO revision_search (rowid, words)
        SELECT v.id, aftercall_search_document(v.call_json, (SELECT group_concat(r.mapping_name, ' ') FROM runs r WHERE r.revision_id = v.id))
        FROM revisions v;
      CREATE TABLE search_words (word TEXT PRIMARY KEY) WITHOUT ROWID;
      CREATE VIRTUAL TABLE temp.revision_search_terms USING fts5vocab(main, revision_search, row);
      INSERT INTO search_words (word) SELECT term FROM temp.revision_search_terms;
      DROP TABLE temp.revision_search_terms;
      ${ACTIVITY_COUNTS}`,
  },
];
