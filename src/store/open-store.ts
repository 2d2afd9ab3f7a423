// Picks the store backend from the configuration: PostgreSQL when DATABASE_URL is set,
// else the embedded SQLite file.
import type { Config } from '../config.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** The serving process (owns the run queue); CLI commands pass false. */
  ownsQueue: boolean;
}

export async function openStore(
  config: Pick<Config, 'SQLITE_PATH' | 'SQLITE_BUSY_TIMEOUT_MS' | 'DATABASE_URL'>,
  options: OpenStoreOptions,
): Promise<Store> {
  return openSqliteStore({ path: config.SQLITE_PATH, ownsQueue: options.ownsQueue, busyTimeoutMs: config.SQLITE_BUSY_TIMEOUT_MS });
}
