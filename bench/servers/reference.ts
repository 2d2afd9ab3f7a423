// Reference servers for the ingest figure, the orientation points of issue 3 measured in the
// same run instead of quoted: the bare Express endpoint plus
//   REFERENCE=validate   our strict zod parse and normalization of the body (parsePayload), no store;
//   REFERENCE=naive-sqlite   the same, then one INSERT per request into SQLite with WAL and
//                            synchronous=FULL on the main thread (no group commit, no thread);
//   REFERENCE=batched-postgres   the same, then the requests of one event-loop turn (or those
//                            arriving during the previous round trip) as ONE multi-row INSERT
//                            and commit into PostgreSQL (DATABASE_URL): the cheapest durable
//                            ingest on that server, a floor under any PostgreSQL store design.
// They bound what any store design can reach on this machine: no durable ingest can be faster
// than `validate`. Prints {"port":N} once listening, like the other bench servers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import express from 'express';
import pg from 'pg';
import { parsePayload } from '../../src/payload/parse-payload.js';
import { serveUntilStopped } from './lifecycle.js';

const level = process.env.REFERENCE;
if (level !== 'validate' && level !== 'naive-sqlite' && level !== 'batched-postgres') {
  throw new Error('REFERENCE must be validate, naive-sqlite or batched-postgres');
}

const dir = level === 'naive-sqlite' ? mkdtempSync(join(tmpdir(), 'aftercall-bench-reference-')) : null;
const db = dir ? new Database(join(dir, 'reference.db')) : null;
if (db) {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE calls (id INTEGER PRIMARY KEY, call_id TEXT NOT NULL, call_json TEXT NOT NULL)');
}
const insert = db?.prepare('INSERT INTO calls (call_id, call_json) VALUES (?, ?)');

/** One batch in flight at a time; what arrives meanwhile is the next batch. */
function batchedPostgres(url: string) {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const ready = pool.query('CREATE TABLE IF NOT EXISTS reference_calls (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, call_id TEXT NOT NULL, call_json TEXT NOT NULL)');
  let queue: Array<{ id: string; json: string; done: (error?: unknown) => void }> = [];
  let busy = false;
  const flush = async () => {
    if (busy || queue.length === 0) return;
    busy = true;
    const batch = queue;
    queue = [];
    try {
      await ready;
      await pool.query({
        name: 'reference-insert',
        text: 'INSERT INTO reference_calls (call_id, call_json) SELECT * FROM unnest($1::text[], $2::text[])',
        values: [batch.map((b) => b.id), batch.map((b) => b.json)],
      });
      for (const b of batch) b.done();
    } catch (error) {
      for (const b of batch) b.done(error);
    } finally {
      busy = false;
      setImmediate(() => void flush());
    }
  };
  return {
    insert: (id: string, json: string) =>
      new Promise<void>((resolve, reject) => {
        queue.push({ id, json, done: (error) => (error ? reject(error) : resolve()) });
        if (queue.length === 1) setImmediate(() => void flush());
      }),
    close: () => pool.end(),
  };
}
const postgres = level === 'batched-postgres' ? batchedPostgres(process.env.DATABASE_URL ?? '') : null;

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '2mb' }));
app.post('/{*path}', (req, res) => {
  const parsed = parsePayload(req.body, 'strict');
  if (!parsed.ok) {
    res.status(422).json({ status: 'invalid', errors: parsed.issues });
    return;
  }
  insert?.run(String(parsed.call.id), JSON.stringify(parsed.call));
  if (!postgres) {
    res.status(202).json({ status: 'accepted', call_id: parsed.call.id });
    return;
  }
  postgres.insert(String(parsed.call.id), JSON.stringify(parsed.call)).then(
    () => res.status(202).json({ status: 'accepted', call_id: parsed.call.id }),
    (error: unknown) => res.status(503).json({ status: 'unavailable', error: (error as Error).message }),
  );
});

serveUntilStopped(app, () => {
  void postgres?.close();
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
