// A fresh SQLite file per test for store tests: stores opened on it and independent connections
// to it, all closed and the folder removed after each test.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach } from 'vitest';
import { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../support/temp-dir.js';

export function sqliteFiles() {
  let dir: ReturnType<typeof tempDir>;
  let path = '';
  const opened: SqliteStore[] = [];
  const others: Database.Database[] = [];

  beforeEach(() => {
    dir = tempDir();
    path = join(dir.path, 'data', 'aftercall.db'); // the data/ folder does not exist yet
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    for (const db of others.splice(0)) if (db.open) db.close();
    dir.cleanup();
  });

  return {
    /** This test's database file. */
    path: () => path,
    /** The folder it is in, removed after the test. */
    dir: () => dir.path,
    open(options: Omit<SqliteStoreOptions, 'path'> = {}): SqliteStore {
      const store = openSqliteStore({ path, ...options });
      opened.push(store);
      return store;
    },
    /** A second, independent connection to the same file: sees only what was committed. */
    otherConnection(): Database.Database {
      const db = new Database(path);
      others.push(db);
      return db;
    },
  };
}
