// The SQLite backend: the shared Store conformance suite against a real file, plus what only
// SQLite has: the file itself (durability, migrations, pragmas), crash recovery of the run
// queue on open, and the group commit (one transaction per event-loop turn).
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/store/sqlite/migrations.js';
import { listRunsQuery, openSqliteStore, walkNewestFirst, type RunSpan, type SqliteStore, type SqliteStoreOptions } from '../src/store/sqlite/sqlite-store.js';
import { StoreUnavailableError, type AcceptResult, type RunFilter } from '../src/store/store.js';
import { callVersion, delivery, describeStoreConformance, expectAccepted, T0 } from './store/store-conformance.js';
import { tempDir } from './support/temp-dir.js';
import { openThreadedSqliteStore } from '../src/store/sqlite/threaded-sqlite-store.js';

describeStoreConformance('sqlite', async () => {
  const dir = tempDir();
  const store = openSqliteStore({ path: join(dir.path, 'aftercall.db') });
  return {
    store,
    async cleanup() {
      await store.close();
      dir.cleanup();
    },
  };
});

// The same contract through the serving process's store: SQLite in a thread of its own.
describeStoreConformance(
  'sqlite in its own thread',
  async () => {
    const dir = tempDir();
    const store = await openThreadedSqliteStore({ path: join(dir.path, 'aftercall.db') });
    return {
      store,
      async cleanup() {
        await store.close();
        dir.cleanup();
      },
    };
  },
  'sqlite',
);

const CRM_ONLY = [{ mappingName: 'crm', mappingHash: 'hash-crm-v1' }];

/** The store's own connection (private): per-connection pragmas can only be read there. */
function connectionOf(store: SqliteStore): Database.Database {
  return (store as unknown as { db: Database.Database }).db;
}

describe('SQLite store', () => {
  let dir: ReturnType<typeof tempDir>;
  let path: string;
  const opened: SqliteStore[] = [];
  const others: Database.Database[] = [];

  const open = (options: Omit<SqliteStoreOptions, 'path'> = {}): SqliteStore => {
    const store = openSqliteStore({ path, ...options });
    opened.push(store);
    return store;
  };
  /** A second, independent connection to the same file: sees only what was committed. */
  const otherConnection = (): Database.Database => {
    const db = new Database(path);
    others.push(db);
    return db;
  };

  beforeEach(() => {
    dir = tempDir();
    path = join(dir.path, 'data', 'aftercall.db'); // the data/ folder does not exist yet
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    for (const db of others.splice(0)) if (db.open) db.close();
    dir.cleanup();
  });

  describe('the file', () => {
    it('keeps everything across close and reopen', async () => {
      const v1 = callVersion(0);
      const first = open();
      const r1 = expectAccepted(await first.acceptDelivery(delivery(v1, { requestId: 'req-a' })));
      const r2 = expectAccepted(await first.acceptDelivery(delivery(callVersion(1), { receivedAt: T0 + 10 })));
      const q = await first.quarantineDelivery({
        requestId: 'req-q', sender: 'famulor', receivedAt: T0 + 20, rawBody: Buffer.from('{oops'), reason: 'malformed-json',
        issues: [{ path: '', message: 'Unexpected token o' }],
      });
      const [claimed] = await first.claimRuns('w', 1, T0 + 30, 60_000);
      expect(await first.startStep(claimed!.id, 'w', 'upsert', { a: 1 }, 'ih', T0 + 31)).toBe(true);
      expect(await first.finishStep(claimed!.id, 'w', 'upsert', { status: 'succeeded', output: { crmId: 'c-1' } }, T0 + 32)).toBe(true);
      expect(await first.completeRun(claimed!.id, 'w', T0 + 33)).toBe(true);
      const runsBefore = await first.listRuns();
      const detailBefore = await first.getRun(claimed!.id);
      const receiptBefore = await first.getReceipt(r1.receiptId);
      await first.close();

      const second = open();
      expect(await second.listRuns()).toEqual(runsBefore);
      expect(await second.getRun(claimed!.id)).toEqual(detailBefore);
      expect(detailBefore!.steps[0]).toMatchObject({ status: 'succeeded', output: { crmId: 'c-1' } });
      expect(await second.getReceipt(r1.receiptId)).toEqual(receiptBefore);
      expect(Buffer.compare(receiptBefore!.rawBody!, v1.rawBody)).toBe(0);
      expect((await second.listQuarantine()).map((r) => r.id)).toEqual([q.receiptId]);
      expect(await second.countRunsByStatus()).toEqual({ pending: 3, succeeded: 1 });
      // Dedupe state survived too: both old contents are duplicates, new content is revision 3.
      expect(await second.acceptDelivery(delivery(v1))).toMatchObject({ outcome: 'duplicate', revision: 1 });
      expect(await second.acceptDelivery(delivery(callVersion(1)))).toMatchObject({ outcome: 'duplicate', revision: 2 });
      expect(await second.acceptDelivery(delivery(callVersion(2)))).toMatchObject({ outcome: 'accepted', revision: 3 });
      expect(r2.revision).toBe(2);
    });

    it('records the migrations in schema_migrations and applies them only once', async () => {
      await open().close();
      const read = () =>
        otherConnection().prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all() as Array<{
          version: number; name: string; applied_at: number;
        }>;
      const rows = read();
      expect(rows.map((r) => ({ version: r.version, name: r.name }))).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
      expect(rows.every((r) => Number.isInteger(r.applied_at) && r.applied_at > 0)).toBe(true);

      const reopened = open();
      expect(await reopened.acceptDelivery(delivery(callVersion(0)))).toMatchObject({ outcome: 'accepted', revision: 1 });
      await reopened.close();
      await open({ ownsQueue: true }).close();
      expect(read()).toEqual(rows);
      const tables = otherConnection().prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all();
      expect(tables).toEqual(['admin_sessions', 'calls', 'heartbeat', 'receipts', 'revisions', 'run_counts', 'runs', 'schema_migrations', 'step_results']);
    });

    it('keeps run counts by status in step with the runs, and seeds them when the migration meets existing runs', async () => {
      const store = open({ ownsQueue: true });
      for (let id = 1; id <= 3; id++) expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id }))));
      const [claimed] = await store.claimRuns('w', 1, T0, 60_000);
      await store.completeRun(claimed!.id, 'w', T0 + 1);
      const grouped = () =>
        Object.fromEntries(
          (otherConnection().prepare('SELECT status, COUNT(*) AS n FROM runs GROUP BY status').all() as Array<{ status: string; n: number }>).map(
            (r) => [r.status, r.n],
          ),
        );
      expect(await store.countRunsByStatus()).toEqual(grouped());
      await store.close();

      // A file from before migration 5, whose runs changed since: the migration counts them.
      const db = otherConnection();
      db.exec(`DROP TRIGGER run_counts_insert; DROP TRIGGER run_counts_update; DROP TRIGGER run_counts_delete;
        DROP TABLE run_counts; DELETE FROM schema_migrations WHERE version = 5;
        UPDATE runs SET status = 'dead' WHERE status = 'pending';`);
      db.close();
      const reopened = open();
      expect(await reopened.countRunsByStatus()).toEqual(grouped());
      expect(grouped()).toMatchObject({ dead: expect.any(Number), succeeded: 1 });
    });

    it("migration 8 turns runs left with the old status 'test' into succeeded test runs", async () => {
      const store = open();
      const accepted = expectAccepted(await store.acceptDelivery(delivery(callVersion(0), { isTest: true })));
      await store.close();
      // A file from before migration 8, whose test run finished with status 'test'.
      const db = otherConnection();
      db.exec(`UPDATE runs SET status = 'test'; DELETE FROM schema_migrations WHERE version = 8;`);
      db.close();
      const reopened = open();
      const runs = await reopened.listRuns();
      expect(runs.map((r) => [r.id, r.status, r.isTest])).toEqual(accepted.runIds.map((id) => [id, 'succeeded', true]).reverse());
      expect(await reopened.countRunsByStatus()).toMatchObject({ succeeded: accepted.runIds.length });
    });

    it('runs in WAL mode with synchronous=FULL, foreign keys on and the configured busy timeout', () => {
      const db = connectionOf(open());
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(connectionOf(open({ busyTimeoutMs: 250 })).pragma('busy_timeout', { simple: true })).toBe(250);
      // WAL is a property of the file: other connections see it too.
      expect(otherConnection().pragma('journal_mode', { simple: true })).toBe('wal');
    });
  });

  describe('crash recovery of the run queue', () => {
    it('ownsQueue releases runs left running by a crashed process; a plain open does not', async () => {
      const crashed = open({ ownsQueue: true });
      const a = expectAccepted(await crashed.acceptDelivery(delivery(callVersion(0, { id: 1 }), { runs: CRM_ONLY })));
      const b = expectAccepted(await crashed.acceptDelivery(delivery(callVersion(0, { id: 2 }), { runs: CRM_ONLY })));
      expect((await crashed.claimRuns('dead-instance', 10, T0, 60_000)).length).toBe(2);
      // b has failed once already and is in its second attempt when the process dies.
      expect(await crashed.retryRunLater(b.runIds[0]!, 'dead-instance', 'HTTP 503', T0 + 5, T0 + 1)).toBe(true);
      expect((await crashed.claimRuns('dead-instance', 10, T0 + 5, 60_000)).map((r) => r.id)).toEqual(b.runIds);
      await crashed.close(); // nothing released: the runs stay 'running' in the file

      const cli = open(); // e.g. `aftercall runs list` while the service is down
      expect(await cli.countRunsByStatus()).toEqual({ running: 2 });
      expect(await cli.claimRuns('cli', 10, T0 + 10, 60_000)).toEqual([]);
      await cli.close();

      const restarted = open({ ownsQueue: true });
      expect(await restarted.getRun(a.runIds[0]!)).toMatchObject({ status: 'pending', attempts: 0 });
      expect(await restarted.getRun(b.runIds[0]!)).toMatchObject({ status: 'retrying', attempts: 1 });
      const reclaimed = await restarted.claimRuns('new-instance', 10, T0 + 10, 60_000);
      expect(reclaimed.map((r) => [r.id, r.attempts]).sort()).toEqual([[a.runIds[0], 0], [b.runIds[0], 1]].sort());
      // The dead instance's lease is gone for good.
      expect(await restarted.completeRun(a.runIds[0]!, 'dead-instance', T0 + 11)).toBe(false);
    });
  });

  describe('group commit', () => {
    it('200 writes queued in one tick share one commit and each gets its own correct answer', async () => {
      const store = open();
      connectionOf(store).pragma('wal_autocheckpoint = 0'); // so the WAL counts every frame written
      const other = otherConnection();
      other.pragma('wal_checkpoint(TRUNCATE)');
      const committedWhenAnswered: boolean[] = [];
      // 100 calls, each delivered twice in the same tick: one accepted, one duplicate.
      const inputs = Array.from({ length: 200 }, (_, i) =>
        delivery(callVersion(0, { id: 1 + (i % 100) }), { rawBody: Buffer.from(`#${i}`), requestId: `req-${i}` }),
      );
      const results = await Promise.all(
        inputs.map((input) =>
          store.acceptDelivery(input).then((result) => {
            // Told only after COMMIT: an independent connection already sees the receipt.
            committedWhenAnswered.push(other.prepare('SELECT 1 FROM receipts WHERE id = ?').get(result.receiptId) !== undefined);
            return result;
          }),
        ),
      );
      expect(committedWhenAnswered).toHaveLength(200);
      expect(committedWhenAnswered.every(Boolean)).toBe(true);
      for (let id = 1; id <= 100; id++) {
        const mine = results.filter((_, i) => 1 + (i % 100) === id);
        expect(mine.map((r) => r.outcome).sort()).toEqual(['accepted', 'duplicate']);
        expect(mine.map((r) => r.revision)).toEqual([1, 1]);
      }
      const accepted = results.filter((r): r is Extract<AcceptResult, { outcome: 'accepted' }> => r.outcome === 'accepted');
      expect(new Set(accepted.flatMap((r) => r.runIds)).size).toBe(200);
      expect(new Set(results.map((r) => r.receiptId)).size).toBe(200);
      // One transaction writes each touched page once (~230 frames here); 200 separate commits
      // would append at least one frame per table touched per commit (≥ 4 × 200 = 800).
      const [wal] = other.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
      expect(wal!.log).toBeGreaterThan(0);
      expect(wal!.log).toBeLessThan(400);
    });

    // Each write of a batch runs in a savepoint, whose statement journal SQLite spills to a
    // temporary file past 64 KiB unless temp_store is MEMORY: a file made, written and deleted
    // per batch (in the bench, a third of the bytes the service wrote under load).
    it.skipIf(process.platform !== 'linux')('a batch keeps its savepoints in memory: no temporary file is opened during the commit', async () => {
      const store = open();
      const db = connectionOf(store);
      let mostTempFiles = 0;
      // Called by a trigger inside the batch's transaction: counts SQLite's temporary files
      // (opened as /var/tmp/etilqs_…, then deleted) this process holds at that moment.
      db.function('count_temp_files', () => {
        const held = readdirSync('/proc/self/fd').filter((fd) => {
          try {
            return readlinkSync(`/proc/self/fd/${fd}`).includes('etilqs_');
          } catch {
            return false; // closed meanwhile (the listing's own fd)
          }
        }).length;
        mostTempFiles = Math.max(mostTempFiles, held);
        return held;
      });
      db.exec('CREATE TRIGGER count_temp_files AFTER INSERT ON receipts BEGIN SELECT count_temp_files(); END');
      const body = Buffer.alloc(8 * 1024, 'x');
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => store.acceptDelivery(delivery(callVersion(0, { id: 1 + i }), { rawBody: body }))),
      );
      expect(results.every((r) => r.outcome === 'accepted')).toBe(true);
      expect(mostTempFiles).toBe(0);
    });

    it('one failing write in a batch does not fail its neighbours, and leaves nothing behind', async () => {
      const store = open();
      const broken = [
        { mappingName: 'crm', mappingHash: 'a' },
        { mappingName: 'crm', mappingHash: 'b' }, // UNIQUE (revision_id, mapping_name) fails
      ];
      const [good1, bad, good2] = await Promise.allSettled([
        store.acceptDelivery(delivery(callVersion(0, { id: 1 }))),
        store.acceptDelivery(delivery(callVersion(0, { id: 2 }), { runs: broken })),
        store.acceptDelivery(delivery(callVersion(0, { id: 3 }))),
      ]);
      expect(good1).toMatchObject({ status: 'fulfilled', value: { outcome: 'accepted', revision: 1 } });
      expect(good2).toMatchObject({ status: 'fulfilled', value: { outcome: 'accepted', revision: 1 } });
      expect(bad!.status).toBe('rejected');
      const reason = (bad as PromiseRejectedResult).reason as Error;
      expect(reason).not.toBeInstanceOf(StoreUnavailableError);
      expect(reason.message).toMatch(/UNIQUE constraint failed: runs\.revision_id, runs\.mapping_name/);

      const other = otherConnection();
      expect(other.prepare('SELECT call_key FROM calls ORDER BY call_key').pluck().all()).toEqual(['1', '3']);
      expect(other.prepare('SELECT COUNT(*) FROM receipts').pluck().get()).toBe(2);
      expect(other.prepare('SELECT COUNT(*) FROM runs').pluck().get()).toBe(4);
      // No revision was left behind for call 2: delivered properly, it is revision 1.
      expect(await store.acceptDelivery(delivery(callVersion(0, { id: 2 })))).toMatchObject({ outcome: 'accepted', revision: 1 });
    });
  });

  describe('when the database cannot commit', () => {
    it('a locked database: writes fail with StoreUnavailableError, nothing half-written, and recover', async () => {
      const store = open({ busyTimeoutMs: 50 });
      const blocker = otherConnection();
      blocker.exec('BEGIN EXCLUSIVE');
      await expect(store.acceptDelivery(delivery(callVersion(0)))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.quarantineDelivery({
        requestId: 'q', sender: 'autocalls', receivedAt: T0, rawBody: Buffer.from('x'), reason: 'malformed-json', issues: [],
      })).rejects.toBeInstanceOf(StoreUnavailableError);
      blocker.exec('ROLLBACK');
      expect(otherConnection().prepare('SELECT COUNT(*) FROM receipts').pluck().get()).toBe(0);
      expect(await store.acceptDelivery(delivery(callVersion(0)))).toMatchObject({ outcome: 'accepted', revision: 1 });
    });

    it('a full disk: the write fails with StoreUnavailableError and later writes that fit succeed', async () => {
      const store = open();
      const db = connectionOf(store);
      const pages = db.pragma('page_count', { simple: true }) as number;
      db.pragma(`max_page_count = ${pages + 40}`); // room for small writes, not for a 400 KB body
      const huge = delivery(callVersion(0, { id: 1 }), { rawBody: Buffer.alloc(400_000, 0x61) });
      const error = await store.acceptDelivery(huge).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(otherConnection().prepare('SELECT COUNT(*) FROM calls').pluck().get()).toBe(0);
      expect(await store.acceptDelivery(delivery(callVersion(0, { id: 2 })))).toMatchObject({ outcome: 'accepted', revision: 1 });
    });

    // SQLITE_FULL rolls the shared transaction back: the batch must stop there, or the writes
    // queued after the failing one would run in autocommit mode and be committed while their
    // callers are told they failed. Every write is either resolved and on disk, or rejected and absent.
    it('a full disk in the middle of a batch: no write that is on disk is reported as failed', async () => {
      const store = open();
      const db = connectionOf(store);
      db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 40}`);
      const inputs = [
        delivery(callVersion(0, { id: 1 }), { runs: CRM_ONLY }),
        delivery(callVersion(0, { id: 2 }), { runs: CRM_ONLY, rawBody: Buffer.alloc(400_000, 0x61) }),
        delivery(callVersion(0, { id: 3 }), { runs: CRM_ONLY }),
      ];
      const settled = await Promise.allSettled(inputs.map((input) => store.acceptDelivery(input)));
      expect(settled[1]!.status).toBe('rejected');
      const onDisk = otherConnection().prepare('SELECT call_key FROM calls WHERE call_key = ?').pluck();
      const outcome = settled.map((s, i) => `${i + 1}: ${s.status} / ${onDisk.get(String(i + 1)) ? 'on disk' : 'absent'}`);
      for (const line of outcome) expect(line).toMatch(/fulfilled \/ on disk|rejected \/ absent/);
    });

    // While another connection holds the write lock, the batch fails at the first SQLITE_BUSY
    // instead of every write waiting busy_timeout in turn (synchronously: the event loop would
    // freeze for queue length × busy_timeout). The bound is a count of waits, with wide margin.
    it('a locked database fails a whole batch within about one busy timeout, not one per write', async () => {
      const store = open({ busyTimeoutMs: 200 });
      const blocker = otherConnection();
      blocker.exec('BEGIN EXCLUSIVE');
      const started = Date.now();
      const settled = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => store.acceptDelivery(delivery(callVersion(0, { id: i + 1 })))),
      );
      const elapsed = Date.now() - started;
      blocker.exec('ROLLBACK');
      expect(settled.every((s) => s.status === 'rejected' && s.reason instanceof StoreUnavailableError)).toBe(true);
      expect(elapsed).toBeLessThan(1_200); // one wait of 200 ms, not ten (2 000 ms)
    });
  });
});

describe('SQLite store in its own thread', () => {
  it('a call that throws inside the thread fails alone; the thread keeps serving', async () => {
    const dir = tempDir();
    const store = await openThreadedSqliteStore({ path: join(dir.path, 'aftercall.db') });
    try {
      // No call: the store throws before its write is even queued.
      const broken = { ...delivery(callVersion(0)), call: undefined } as unknown as Parameters<typeof store.acceptDelivery>[0];
      const error = await store.acceptDelivery(broken).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(StoreUnavailableError);
      expectAccepted(await store.acceptDelivery(delivery(callVersion(0))));
      await store.ping();
    } finally {
      await store.close();
      dir.cleanup();
    }
  });

  it('commits the first deliveries of a burst while the main thread is still busy with the rest', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'aftercall.db');
    const store = await openThreadedSqliteStore({ path });
    const reader = new Database(path, { readonly: true });
    try {
      const receipts = reader.prepare('SELECT COUNT(*) AS n FROM receipts').pluck();
      // One event-loop turn: 16 deliveries queued, then this thread stays busy (as while it
      // parses a burst of requests) and watches the file from its own connection.
      const accepted = Array.from({ length: 16 }, (_, i) => store.acceptDelivery(delivery(callVersion(0, { id: 93_000 + i }))));
      let committedMeanwhile = 0;
      const until = Date.now() + 5_000;
      while (Date.now() < until && committedMeanwhile === 0) committedMeanwhile = receipts.get() as number;
      expect(committedMeanwhile).toBeGreaterThan(0); // handed over at the end of the turn, it would be 0
      for (const result of await Promise.all(accepted)) expectAccepted(result);
      expect(receipts.get()).toBe(16);
    } finally {
      reader.close();
      await store.close();
      dir.cleanup();
    }
  });
});

// The Runs page stays fast on a large file when each filter starts from an index (measured on
// 100k runs: a search went from a 650 ms scan to under 1 ms; a wide time range from a 1.2 s
// sort to 3 ms). SQLite plans without statistics, so the plans checked here are the ones it uses.
describe('Runs page queries', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Database.Database;
  beforeEach(async () => {
    dir = tempDir();
    const path = join(dir.path, 'aftercall.db');
    await openSqliteStore({ path }).close();
    db = new Database(path, { readonly: true });
  });
  afterEach(() => {
    db.close();
    dir.cleanup();
  });

  const plan = (...args: Parameters<typeof listRunsQuery>) => {
    const { sql, params } = listRunsQuery(...args);
    return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
  };
  // 100k runs over 100k seconds.
  const span: RunSpan = { first: T0, last: T0 + 100_000_000, count: 100_000 };

  it('a search looks up the call id and the phone by index, then those calls\' runs', () => {
    const found = plan({ search: '+1 415 555 0101' });
    expect(found).toContain('calls_by_key');
    expect(found).toContain('revisions_by_phone');
    expect(found).toContain('runs_by_call');
    expect(found).not.toMatch(/SCAN r\b/);
  });

  it('status and mapping filters start from their indexes', () => {
    expect(plan({ status: 'dead' })).toContain('runs_by_status');
    expect(plan({ mappingName: 'crm' })).toContain('runs_by_mapping');
  });

  it('a narrow time range uses the time index; a wide one walks newest first without sorting', () => {
    const narrow = { createdFrom: T0, createdTo: T0 + 1_000_000 }; // ~1k runs, at the old end
    const recent = { createdFrom: T0 + 90_000_000 }; // the last ~10k runs
    const everything = { createdFrom: T0 - 1, createdTo: T0 + 200_000_000 };
    expect(walkNewestFirst(narrow, span)).toBe(false);
    expect(walkNewestFirst(recent, span)).toBe(true);
    expect(walkNewestFirst(everything, span)).toBe(true);
    expect(walkNewestFirst({ createdFrom: T0 + 200_000_000 }, span)).toBe(false); // after the last run: nothing to walk
    expect(walkNewestFirst(everything, { first: null, last: null, count: null })).toBe(false); // no runs
    // The narrow range takes the lowest and highest id of its runs from the time index, then
    // walks the page by id: no sort of every match (39 ms for the oldest 1% of 1M runs).
    const byIds = plan(narrow, span);
    expect(byIds).toContain('COVERING INDEX runs_by_created');
    expect(byIds).toContain('SEARCH r USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)');
    expect(byIds).not.toContain('TEMP B-TREE');
    expect(plan({ ...narrow, status: 'dead' }, span)).toContain('runs_by_status (status=? AND id>? AND id<?)');
    expect(plan({ createdTo: T0 + 1_000_000 }, span)).toContain('COVERING INDEX runs_by_created (created_at<?)');
    const wide = plan(everything, span);
    expect(wide).not.toContain('runs_by_created');
    expect(wide).not.toContain('TEMP B-TREE');
  });

  it('both ways find the same page as a plain query, also when receipt times are out of id order', async () => {
    db.close();
    const path = join(dir.path, 'filled.db');
    const store = openSqliteStore({ path });
    // 120 calls × 3 runs; receipt times jump back and forth, so ids do not follow time.
    const at = (i: number) => T0 + ((i * 37) % 120) * 1000 + (i % 7);
    for (let i = 0; i < 120; i++) await store.acceptDelivery(delivery(callVersion(0, { id: 5_000 + i }), { receivedAt: at(i) }));
    await store.claimRuns('w', 40, T0 + 200_000, 60_000);
    await store.close();
    db = new Database(path, { readonly: true });
    const reference = (f: RunFilter) =>
      db
        .prepare(
          `SELECT id FROM runs WHERE created_at >= ? AND created_at < ? AND (? IS NULL OR status = ?) AND (? IS NULL OR id < ?)
           ORDER BY id DESC LIMIT ?`,
        )
        .pluck()
        .all(f.createdFrom ?? -1, f.createdTo ?? Number.MAX_SAFE_INTEGER, f.status ?? null, f.status ?? null, f.beforeId ?? null, f.beforeId ?? null, f.limit ?? 50);
    const ids = (f: RunFilter, s: RunSpan | undefined, way: 'by ids' | 'walked') => {
      const { sql, params } = listRunsQuery(f, s);
      expect(sql.includes('INDEXED BY runs_by_created'), `${way} ${JSON.stringify(f)}`).toBe(way === 'by ids');
      return (db.prepare(sql).all(...params) as Array<{ id: number }>).map((r) => r.id);
    };
    const last = db.prepare('SELECT max(created_at) FROM runs').pluck().get() as number;
    // No span: the ids of the range. A span that ends where the range does and counts
    // countless runs: nothing newer to pass, so the walk wins.
    const walkedSpan = (f: RunFilter): RunSpan => ({ first: f.createdFrom ?? T0, last: Math.min(last, (f.createdTo ?? Infinity) - 1), count: 1e12 });
    const filters: RunFilter[] = [
      { createdFrom: T0 + 10_000, createdTo: T0 + 20_000 },
      { createdFrom: T0 + 10_000, createdTo: T0 + 20_000, limit: 4 },
      { createdFrom: T0 + 10_000, createdTo: T0 + 20_000, limit: 4, beforeId: 200 },
      { createdFrom: T0 + 5_000, createdTo: T0 + 60_000, status: 'running' },
      { createdTo: T0 + 5_000 },
      { createdFrom: T0 + 115_000 },
    ];
    for (const f of filters) {
      const expected = reference(f);
      expect(ids(f, undefined, 'by ids'), `by ids ${JSON.stringify(f)}`).toEqual(expected);
      expect(ids(f, walkedSpan(f), 'walked'), `walked ${JSON.stringify(f)}`).toEqual(expected);
    }
    expect(ids({ createdFrom: T0 + 500_000 }, undefined, 'by ids')).toEqual([]); // after every run: min(id) is null
    expect(reference(filters[0]!).length).toBeGreaterThanOrEqual(20); // the cases are not empty
    expect(reference(filters[3]!).length).toBeGreaterThan(0);
  });
});

