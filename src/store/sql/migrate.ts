// The migrations runner of both backends (each keeps its own numbered list). The caller runs
// it in one transaction that no other process runs it in at the same time (SQLite: BEGIN
// IMMEDIATE; PostgreSQL: an advisory lock).
import { sql } from './query.js';
import { all, run, script, type Work } from './work.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function* migrate(migrations: readonly Migration[], timeType: 'INTEGER' | 'BIGINT'): Work<void> {
  yield* script(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${timeType} NOT NULL)`);
  const applied = new Set((yield* all<{ version: number }>(sql`SELECT version FROM schema_migrations`)).map((r) => r.version));
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    yield* script(m.sql);
    yield* run(sql`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${m.version}, ${m.name}, ${Date.now()})`);
  }
}
