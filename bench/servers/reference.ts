// Reference servers for the ingest figure, the orientation points of issue 3 measured in the
// same run instead of quoted: the bare Express endpoint plus
//   REFERENCE=validate   our strict zod parse and normalization of the body (parsePayload), no store;
//   REFERENCE=naive-sqlite   the same, then one INSERT per request into SQLite with WAL and
//                            synchronous=FULL on the main thread (no group commit, no thread).
// They bound what any store design can reach on this machine: no durable ingest can be faster
// than `validate`. Prints {"port":N} once listening, like the other bench servers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import express from 'express';
import { parsePayload } from '../../src/payload/parse-payload.js';
import { serveUntilStopped } from './lifecycle.js';

const level = process.env.REFERENCE;
if (level !== 'validate' && level !== 'naive-sqlite') throw new Error('REFERENCE must be validate or naive-sqlite');

const dir = level === 'naive-sqlite' ? mkdtempSync(join(tmpdir(), 'aftercall-bench-reference-')) : null;
const db = dir ? new Database(join(dir, 'reference.db')) : null;
if (db) {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE calls (id INTEGER PRIMARY KEY, call_id TEXT NOT NULL, call_json TEXT NOT NULL)');
}
const insert = db?.prepare('INSERT INTO calls (call_id, call_json) VALUES (?, ?)');

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
  res.status(202).json({ status: 'accepted', call_id: parsed.call.id });
});

serveUntilStopped(app, () => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
