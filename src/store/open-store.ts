// Picks the store backend from the configuration: PostgreSQL when DATABASE_URL is set,
// else the embedded SQLite file.
import type { Config } from '../config.js';
import { openPostgresStore } from './postgres/postgres-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import { openThreadedSqliteStore } from './sqlite/threaded-sqlite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /**
   * The serving process (owns the run queue); CLI commands pass false. SQLite only: there the
   * server releases at once the runs a crash left running. PostgreSQL queues are shared by
   * several instances, so such runs come back when their lease runs out (sweepExpiredLeases).
   */
  ownsQueue: boolean;
  /**
   * The store can no longer work and will not recover by itself (the SQLite thread died): the
   * process should stop and be restarted. Called at most once.
   */
  onFatal?: (error: Error) => void;
}

export async function openStore(
  config: Pick<Config, 'SQLITE_PATH' | 'SQLITE_BUSY_TIMEOUT_MS' | 'SQLITE_THREAD_HEAP_MB' | 'DATABASE_URL' | 'DATABASE_POOL_SIZE'>,
  options: OpenStoreOptions,
): Promise<Store> {
  if (config.DATABASE_URL) return openPostgresStore({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE });
  const sqlite = { path: config.SQLITE_PATH, ownsQueue: options.ownsQueue, busyTimeoutMs: config.SQLITE_BUSY_TIMEOUT_MS };
  // The server gives SQLite a thread of its own so COMMITs never block its event loop; a
  // short CLI command has no requests to keep answering and opens the file directly.
  if (!options.ownsQueue) return openSqliteStore(sqlite);
  return openThreadedSqliteStore(sqlite, { heapLimitMb: config.SQLITE_THREAD_HEAP_MB || undefined, onThreadDeath: options.onFatal });
}
