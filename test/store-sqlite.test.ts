// The SQLite backend: the shared Store conformance suite against a real file, plus what only
// SQLite has: the file itself (durability, migrations), crash recovery of the run queue on
// open, and the group commit (one transaction per event-loop turn). What needs the store's
// private connection or SQLite's query plans is in test/plan-guard/.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/store/sqlite/migrations.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { StoreUnavailableError } from '../src/store/store.js';
import { sqliteFiles } from './store/sqlite-files.js';
import { describeOperatorConformance } from './store/operator-conformance.js';
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

/** The serving process's store: SQLite in a thread of its own, on a fresh file. */
async function openThreaded() {
  const dir = tempDir();
  const store = await openThreadedSqliteStore({ path: join(dir.path, 'aftercall.db') });
  return {
    store,
    async cleanup() {
      await store.close();
      dir.cleanup();
    },
  };
}

describeOperatorConformance('sqlite in its own thread', openThreaded);

// The same contract through the serving process's store.
describeStoreConformance('sqlite in its own thread', openThreaded, 'sqlite');

const CRM_ONLY = [{ mappingName: 'crm', mappingHash: 'hash-crm-v1' }];

describe('SQLite store', () => {
  const { open, otherConnection } = sqliteFiles();

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
      expect(tables).toEqual([
        'activity_hours', 'admin_sessions', 'calls', 'heartbeat', 'inbound_requests', 'receipts', 'revision_search', 'revision_search_config', 'revision_search_data',
        'revision_search_idx', 'revisions', 'run_counts', 'runs', 'schema_migrations', 'search_words', 'step_hours', 'step_results',
      ]);
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

    it('stores bodies and calls deflated, and migration 9 converts the rows of a file from before it', async () => {
      const store = open({ ownsQueue: true });
      const v1 = delivery(callVersion(0));
      const accepted = expectAccepted(await store.acceptDelivery(v1));
      const q = await store.quarantineDelivery({ requestId: 'q', sender: 'acme', receivedAt: T0, rawBody: Buffer.from('{"id": '), reason: 'malformed-json', issues: [] });
      const [claimed] = await store.claimRuns('w', 1, T0, 60_000);
      const before = { run: await store.getRun(claimed!.id), receipt: await store.getReceipt(accepted.receiptId), quarantined: await store.getReceipt(q.receiptId) };
      await store.close();
      const stored = otherConnection().prepare('SELECT typeof(call_json) AS kind, length(call_json) AS bytes FROM revisions').get() as { kind: string; bytes: number };
      expect(stored.kind).toBe('blob');
      expect(stored.bytes).toBeLessThan(JSON.stringify(v1.call).length);

      // A file from before migration 9: the call as JSON text, the bodies as they came.
      const db = otherConnection();
      db.prepare('UPDATE revisions SET call_json = ?').run(JSON.stringify(v1.call));
      db.prepare('UPDATE receipts SET raw_body = ? WHERE id = ?').run(v1.rawBody, accepted.receiptId);
      db.prepare('UPDATE receipts SET raw_body = ? WHERE id = ?').run(Buffer.from('{"id": '), q.receiptId);
      db.exec('DELETE FROM schema_migrations WHERE version = 9');
      db.close();
      const reopened = open();
      expect({ run: await reopened.getRun(claimed!.id), receipt: await reopened.getReceipt(accepted.receiptId), quarantined: await reopened.getReceipt(q.receiptId) }).toEqual(before);
      expect(otherConnection().prepare('SELECT typeof(call_json) FROM revisions').pluck().get()).toBe('blob');
      expect((await reopened.getCallPayloads(String(v1.call.id)))[0]!.body).toBe(v1.rawBody.toString('utf8'));
    });
  });

  describe('migration 11', () => {
    it('indexes the revisions, words and activity of a file from before it', async () => {
      const store = open({ ownsQueue: true });
      const accepted = expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 4711 }), { runs: CRM_ONLY, receivedAt: T0 })));
      const [claimed] = await store.claimRuns('w', 1, T0, 60_000);
      expect(await store.startStep(claimed!.id, 'w', 'upsert', {}, 'ih', T0 + 1)).toBe(true);
      expect(await store.finishStep(claimed!.id, 'w', 'upsert', { status: 'succeeded', output: {} }, T0 + 2)).toBe(true);
      expect(await store.completeRun(claimed!.id, 'w', T0 + 3)).toBe(true);
      const hour = Math.floor(T0 / 3_600_000) * 3_600_000;
      const before = await store.activity(hour, hour + 3_600_000, 3_600_000);
      expect(before.buckets[0]).toMatchObject({ calls: 1, succeeded: 1 });
      await store.close();

      // A file from before migration 11: none of its tables, columns or triggers.
      const db = otherConnection();
      db.exec(`DROP TRIGGER activity_calls; DROP TRIGGER activity_runs; DROP TRIGGER activity_steps_insert; DROP TRIGGER activity_steps_update;
        DROP TABLE revision_search; DROP TABLE search_words; DROP TABLE activity_hours; DROP TABLE step_hours;
        DROP INDEX receipts_by_revision;
        ALTER TABLE receipts DROP COLUMN headers; ALTER TABLE receipts DROP COLUMN dismissed_at;
        DELETE FROM schema_migrations WHERE version = 11;`);
      db.close();
      const reopened = open();
      expect((await reopened.listRuns({ search: '4711' })).map((r) => r.id)).toEqual(accepted.runIds);
      // The last word a prefix: the words of the file's revisions are listed too.
      expect((await reopened.listRuns({ search: '471' })).map((r) => r.id)).toEqual(accepted.runIds);
      expect(await reopened.activity(hour, hour + 3_600_000, 3_600_000)).toEqual(before);
      expect((await reopened.getReceipt(accepted.receiptId))?.headers).toBeNull();
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
  it('hands the calls it accepted to their claims; after a restart, or for a run claimed again, the call is read', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'aftercall.db');
    let store = await openThreadedSqliteStore({ path, ownsQueue: true });
    try {
      const inputs = [1, 2].map((id) => delivery(callVersion(0, { id: 95_000 + id }), { runs: CRM_ONLY }));
      const skipped = delivery(callVersion(0, { id: 95_003 }), { runs: [{ mappingName: '(no mapping)', mappingHash: '', skipReason: 'none' }] });
      for (const input of [...inputs, skipped]) expectAccepted(await store.acceptDelivery({ ...input, callJson: JSON.stringify(input.call) }));
      const [first] = await store.claimRuns('w', 1, T0, 60_000);
      expect(first!.call).toBe(inputs[0]!.call); // the very object accepted: nothing read back
      await store.releaseRun(first!.id, 'w');
      const [again] = await store.claimRuns('w', 1, T0, 60_000);
      expect(again!.id).toBe(first!.id);
      expect(again!.call).not.toBe(inputs[0]!.call);
      expect(again!.call).toEqual(inputs[0]!.call);
      await store.close();

      store = await openThreadedSqliteStore({ path, ownsQueue: true });
      const claimed = await store.claimRuns('w', 5, T0, 60_000);
      expect(claimed.map((r) => r.call)).toEqual(inputs.map((i) => i.call));
    } finally {
      await store.close();
      dir.cleanup();
    }
  });
});
