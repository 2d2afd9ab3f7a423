// PostgreSQL migration 1: the tables, as the SQLite schema stood at its migration 4, in
// PostgreSQL types (BIGINT epoch-ms times, BYTEA bodies). JSON stays TEXT, as in SQLite: JSONB
// would reorder keys and refuses "\u0000" in strings. Its statements are written once with
// SQLite's migration 1 (../../sql/initial-schema.ts, frozen like this file).
import { initialSchema } from '../../sql/initial-schema.js';
import type { Migration } from '../../sql/migrate.js';

export const TABLES: Migration = {
  version: 1,
  name: 'receipts, calls, revisions, runs, step results',
  sql: initialSchema(
    { id: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', int64: 'BIGINT', falseFlag: 'BOOLEAN NOT NULL DEFAULT false', bytes: 'BYTEA', keyedTable: '' },
    { upToSqlite4: true },
  ),
};
