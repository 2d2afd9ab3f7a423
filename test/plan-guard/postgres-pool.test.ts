// Plan guard: how the PostgreSQL store uses its connection pool, read from the store's private
// `pool` (its size, and the connections the worker may hold). They pin an implementation
// detail, not the Store contract. Skipped, with a warning, when TEST_DATABASE_URL is not set.
import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import { openStore } from '../../src/store/open-store.js';
import { workerConnections, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.js';
import { callVersion, delivery, expectAccepted } from '../store/store-conformance.js';
import { postgresSuite } from '../support/postgres-suite.js';
import { TEST_DATABASE_URL, warnWhenNoDatabase } from '../support/test-database.js';

warnWhenNoDatabase('test/plan-guard/postgres-pool.test.ts');

describe.skipIf(!TEST_DATABASE_URL)('PostgreSQL store, through its pool', () => {
  const suite = postgresSuite();
  const open = (options: Partial<PostgresStoreOptions> = {}) => suite.open(options);

  it('DATABASE_POOL_SIZE sets how many connections an instance keeps', async () => {
    const store = await openStore(
      { SQLITE_PATH: './unused.db', SQLITE_BUSY_TIMEOUT_MS: 5_000, SQLITE_THREAD_HEAP_MB: 0, DATABASE_URL: suite.schema.url, DATABASE_POOL_SIZE: 3 },
      { ownsQueue: true },
    );
    try {
      expect(store.kind).toBe('postgres');
      expect((store as unknown as { pool: pg.Pool }).pool.options.max).toBe(3);
      // Many calls at once share those three connections.
      await Promise.all(Array.from({ length: 12 }, () => store.listRuns({ limit: 5 })));
      expect((store as unknown as { pool: pg.Pool }).pool.totalCount).toBeLessThanOrEqual(3);
    } finally {
      await store.close();
    }
  });

  it('keeps a fifth of the pool for deliveries: the worker never holds every connection', async () => {
    expect([1, 2, 3, 5, 10, 20].map(workerConnections)).toEqual([1, 1, 2, 4, 8, 16]);
    await suite.schema.truncate();
    const store = await open({ max: 5, connectionTimeoutMs: 1_000 });
    expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 94_000 }))));
    const blocker = await suite.schema.admin.connect();
    try {
      // Every worker query that reads step records now waits for the lock, holding its
      // connection: ten of them, twice the pool.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE step_results IN ACCESS EXCLUSIVE MODE');
      const stuck = Array.from({ length: 10 }, () => store.getStepResults(1));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const pool = (store as unknown as { pool: pg.Pool }).pool;
      expect(pool.totalCount - pool.idleCount).toBe(4); // the worker's four, no more
      // A delivery still gets a connection at once (with all five held it would wait for the
      // connection timeout and fail as unavailable).
      expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 94_001 }))));
      await store.ping();
      await blocker.query('ROLLBACK');
      expect(await Promise.all(stuck)).toHaveLength(10);
    } finally {
      blocker.release();
    }
  });
});
