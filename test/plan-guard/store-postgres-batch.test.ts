// Plan guard (reads the store's private batch counters): the PostgreSQL store's batched accept (src/store/postgres/batched-accept.ts): deliveries
// that arrive together are one call of aftercall_accept_deliveries, with the answers sequential
// deliveries get; one failing delivery leaves the others; a connection that dies under a
// batch rejects every delivery in it as unavailable (503 upstream) and writes nothing.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BatchedAccept } from '../../src/store/postgres/batched-accept.js';
import { RunWriteRefusedError, type RunWrites } from '../../src/store/postgres/run-writes.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { callKey, StoreUnavailableError, type AcceptInput, type AcceptResult } from '../../src/store/store.js';
import { callVersion, delivery, expectAccepted, T0, variant } from '../store/store-conformance.js';
import { createTestSchema, TEST_DATABASE_URL, warnWhenNoDatabase, type TestSchema } from '../support/test-database.js';

warnWhenNoDatabase('test/plan-guard/store-postgres-batch.test.ts');

const batches = (store: PostgresStore) => (store as unknown as { accepts: BatchedAccept }).accepts.stats;
const writeBatches = (store: PostgresStore) => (store as unknown as { runWrites: RunWrites }).runWrites.stats;
const LEASE = 60_000;

/** Deliveries of `keys` calls, each delivered `versions` in that order (repeats are resends). */
function scenario(keys: number[], versions: number[]): AcceptInput[] {
  const out: AcceptInput[] = [];
  for (const n of versions) {
    for (const id of keys) out.push(delivery(callVersion(n, { id }), { requestId: `r-${id}-${out.length}`, receivedAt: T0 + out.length }));
  }
  return out;
}

/** What a delivery's answer says apart from the ids, which depend on the order of the writes. */
const shape = (result: AcceptResult) => ({
  outcome: result.outcome,
  revision: result.revision,
  runs: result.outcome === 'accepted' ? result.runIds.length : 0,
});

describe.skipIf(!TEST_DATABASE_URL)('PostgreSQL batched accept', () => {
  let schema: TestSchema;
  const opened: PostgresStore[] = [];
  const open = async (options: { max?: number } = {}): Promise<PostgresStore> => {
    const store = await openPostgresStore({ connectionString: schema.url, ...options });
    opened.push(store);
    return store;
  };
  const stored = async () => ({
    revisions: (
      await schema.admin.query(
        `SELECT c.call_key, v.revision, v.content_hash, (SELECT COUNT(*)::int FROM runs r WHERE r.revision_id = v.id) AS runs
         FROM revisions v JOIN calls c ON c.id = v.call_row_id ORDER BY c.call_key, v.revision`,
      )
    ).rows,
    receipts: (
      await schema.admin.query(
        `SELECT t.request_id, t.outcome, t.call_key, v.revision, t.raw_body IS NOT NULL AS has_body
         FROM receipts t LEFT JOIN revisions v ON v.id = t.revision_id ORDER BY t.request_id`,
      )
    ).rows,
    latest: (await schema.admin.query('SELECT call_key, latest_revision FROM calls ORDER BY call_key')).rows,
  });

  beforeAll(async () => {
    schema = await createTestSchema('aftercall_batch');
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await schema.truncate();
  });
  afterAll(async () => {
    await schema?.drop();
  });

  it('concurrent deliveries of one call and of distinct calls get the answers and rows sequential ones get, in one batch', async () => {
    // Call 7 alone, then calls 1-5 together: new contents, resends of the first and of a later one.
    const inputs = [...scenario([7], [0, 1, 0, 2, 1, 2, 3]), ...scenario([5, 3, 1, 4, 2], [0, 0, 1, 0, 2, 1])];

    const sequential = await open();
    const one: AcceptResult[] = [];
    for (const input of inputs) one.push(await sequential.acceptDelivery(input));
    expect(batches(sequential)).toEqual({ batches: inputs.length, deliveries: inputs.length });
    const sequentialRows = await stored();
    await sequential.close();
    await schema.truncate();

    const concurrent = await open();
    const together = await Promise.all(inputs.map((input) => concurrent.acceptDelivery(input)));
    expect(batches(concurrent)).toEqual({ batches: 1, deliveries: inputs.length });
    expect(together.map(shape)).toEqual(one.map(shape));
    expect(await stored()).toEqual(sequentialRows);
    // Run ids come back in the planned order, each the run of its own revision.
    const accepted = together.filter((r) => r.outcome === 'accepted');
    expect(new Set(accepted.flatMap((r) => r.runIds)).size).toBe(accepted.length * 2);
  });

  it('a batch of distinct calls (new calls, resends, new contents of stored calls) gets the answers and rows sequential deliveries get', async () => {
    // Stored first, one by one: calls 31-34 at content 0, call 33 also at content 1.
    const before = [...scenario([31, 32, 33, 34], [0]), ...scenario([33], [1])];
    // Then one delivery per call: a resend (31), new contents (32, 33: its second revision's
    // resend is the duplicate of revision 2; 34 a third content), and calls never seen (35, 36).
    const batch = [
      delivery(callVersion(0, { id: 31 }), { requestId: 'b-31', receivedAt: T0 + 100 }),
      delivery(callVersion(2, { id: 32 }), { requestId: 'b-32', receivedAt: T0 + 101 }),
      delivery(callVersion(1, { id: 33 }), { requestId: 'b-33', receivedAt: T0 + 102 }),
      delivery(callVersion(3, { id: 34 }), { requestId: 'b-34', receivedAt: T0 + 103 }),
      delivery(callVersion(0, { id: 35 }), { requestId: 'b-35', receivedAt: T0 + 104 }),
      delivery(callVersion(1, { id: 36 }), { requestId: 'b-36', receivedAt: T0 + 105 }),
    ];

    const sequential = await open();
    for (const input of before) await sequential.acceptDelivery(input);
    const one: AcceptResult[] = [];
    for (const input of batch) one.push(await sequential.acceptDelivery(input));
    const sequentialRows = await stored();
    await sequential.close();
    await schema.truncate();

    const concurrent = await open();
    for (const input of before) await concurrent.acceptDelivery(input);
    const counted = batches(concurrent).batches;
    const together = await Promise.all(batch.map((input) => concurrent.acceptDelivery(input)));
    expect(batches(concurrent).batches).toBe(counted + 1);
    expect(together.map(shape)).toEqual(one.map(shape));
    expect(together.map(shape)).toEqual([
      { outcome: 'duplicate', revision: 1, runs: 0 },
      { outcome: 'accepted', revision: 2, runs: 2 },
      { outcome: 'duplicate', revision: 2, runs: 0 },
      { outcome: 'accepted', revision: 2, runs: 2 },
      { outcome: 'accepted', revision: 1, runs: 2 },
      { outcome: 'accepted', revision: 1, runs: 2 },
    ]);
    expect(await stored()).toEqual(sequentialRows);
    // Each accepted delivery's run ids are its own revision's runs, in the planned order.
    for (const [i, result] of together.entries()) {
      if (result.outcome !== 'accepted') continue;
      const runs = await schema.admin.query<{ id: string; mapping_name: string }>(
        `SELECT r.id, r.mapping_name FROM runs r JOIN receipts t ON t.revision_id = r.revision_id WHERE t.id = $1 ORDER BY r.id`,
        [result.receiptId],
      );
      expect(runs.rows.map((r) => Number(r.id))).toEqual(result.runIds);
      expect(runs.rows.map((r) => r.mapping_name)).toEqual(batch[i]!.runs.map((r) => r.mappingName));
    }
  });

  it('in a batch of distinct calls, one delivery that cannot be written fails alone; the others commit', async () => {
    const store = await open();
    const bad = delivery(callVersion(0, { id: 42 }));
    const inputs = [delivery(callVersion(0, { id: 41 })), { ...bad, call: { ...bad.call, variant: null as never } }, delivery(callVersion(0, { id: 43 }))];
    const results = await Promise.allSettled(inputs.map((input) => store.acceptDelivery(input)));
    expect(batches(store)).toEqual({ batches: 1, deliveries: 3 });
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { outcome: 'accepted', revision: 1 } });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: '23502' } });
    expect(results[2]).toMatchObject({ status: 'fulfilled', value: { outcome: 'accepted', revision: 1 } });
    const rows = await stored();
    expect(rows.latest.map((r: { call_key: string }) => r.call_key)).toEqual([callKey(inputs[0]!.call), callKey(inputs[2]!.call)].sort());
    expect(rows.receipts).toHaveLength(2);
  });

  it('batches following each other (group commit) keep the answers of sequential deliveries', async () => {
    const store = await open();
    const versions = [0, 1, 0, 2, 2, 1, 3];
    const keys = [11, 12, 13];
    const inputs = scenario(keys, versions);
    // Over a few event-loop turns, in order, so later deliveries join the batch after the one in flight.
    const results = await Promise.all(
      inputs.map(async (input, i) => {
        for (let turn = 0; turn < Math.floor(i / 4); turn++) await new Promise((resolve) => setImmediate(resolve));
        return store.acceptDelivery(input);
      }),
    );
    expect(batches(store).batches).toBeGreaterThan(1);
    // Sequentially: a new content is the next revision, a resend a duplicate of its revision.
    const revisionOf = new Map<number, number>();
    for (const n of versions) if (!revisionOf.has(n)) revisionOf.set(n, revisionOf.size + 1);
    const sequential = versions.map((n, i) => ({ outcome: versions.indexOf(n) === i ? 'accepted' : 'duplicate', revision: revisionOf.get(n) }));
    keys.forEach((_, k) => {
      const mine = results.filter((_, i) => i % keys.length === k).map((r) => ({ outcome: r.outcome, revision: r.revision }));
      expect(mine).toEqual(sequential);
    });
  });

  it('the bodies and calls of one batch, of different lengths and multi-byte text, are each stored byte for byte', async () => {
    const store = await open();
    const texts = ['Grüße aus Köln', '日本語のテキスト', 'emoji 🎉👍 and a "quote" \\ backslash', '', 'x'.repeat(5_000)];
    const inputs = texts.map((text, i) => {
      const v = variant(undefined, (payload) => {
        payload.id = 300 + i;
        (payload.extracted_variables as Record<string, unknown>).evaluation = text;
      });
      return delivery(v, { requestId: `mb-${i}` });
    });
    const results = await Promise.all(inputs.map((input) => store.acceptDelivery(input)));
    expect(batches(store)).toEqual({ batches: 1, deliveries: inputs.length });
    const { rows } = await schema.admin.query<{ request_id: string; raw_body: Buffer; call_json: string }>(
      `SELECT t.request_id, t.raw_body, v.call_json FROM receipts t JOIN revisions v ON v.id = t.revision_id ORDER BY t.request_id`,
    );
    expect(rows.map((r) => r.request_id)).toEqual(inputs.map((input) => input.requestId));
    rows.forEach((row, i) => {
      expect(row.raw_body.equals(inputs[i]!.rawBody)).toBe(true);
      expect(row.call_json).toBe(JSON.stringify(inputs[i]!.call));
    });
    expect(results.map((r) => r.outcome)).toEqual(texts.map(() => 'accepted'));
    // Migration 7: stored with lz4 where the server has it (values over ~2 KB are compressed).
    const lz4 = await schema.admin.query("SELECT set_config('default_toast_compression', 'lz4', true)").then(() => true, () => false);
    const { rows: methods } = await schema.admin.query<{ body: string | null; call: string | null }>(
      `SELECT pg_column_compression(t.raw_body) AS body, pg_column_compression(v.call_json) AS call
       FROM receipts t JOIN revisions v ON v.id = t.revision_id WHERE t.request_id = 'mb-4'`,
    );
    expect(methods).toEqual([{ body: lz4 ? 'lz4' : 'pglz', call: lz4 ? 'lz4' : 'pglz' }]);
  });

  it("a claim hands over the call this instance parsed; another instance's run comes with the call read back, and its step records", async () => {
    const a = await open();
    const b = await open();
    const mine = delivery(callVersion(0, { id: 51 }), { runs: [{ mappingName: 'crm', mappingHash: 'h' }] });
    const theirs = delivery(callVersion(0, { id: 52 }), { runs: [{ mappingName: 'crm', mappingHash: 'h' }] });
    const [runA] = expectAccepted(await a.acceptDelivery(mine)).runIds;
    const [runB] = expectAccepted(await b.acceptDelivery(theirs)).runIds;
    // b's run had a step done before it was given back, so its claim brings that record.
    const [first] = await b.claimRuns('w', 1, T0, LEASE);
    expect(first!.id).toBe(runA);
    expect(await b.startStep(runA!, 'w', 'crm', { n: 1 }, 'ih', T0 + 1)).toBe(true);
    expect(await b.finishStep(runA!, 'w', 'crm', { status: 'succeeded', output: { id: 'x' } }, T0 + 2)).toBe(true);
    expect(await b.releaseRun(runA!, 'w')).toBe(true);

    const claimed = await a.claimRuns('v', 10, T0 + 3, LEASE);
    expect(claimed.map((run) => run.id)).toEqual([runA, runB]);
    // Run A was accepted by a, but its first claim (by b) read the call: a's copy is let go only
    // by age, so a hands over the object it parsed; run B's call is read back from the database.
    expect(claimed[0]!.call).toBe(mine.call);
    expect(claimed[0]!.steps.map((step) => [step.stepId, step.status, step.output])).toEqual([['crm', 'succeeded', { id: 'x' }]]);
    expect(claimed[1]!.call).not.toBe(theirs.call);
    expect(claimed[1]!.call).toEqual(theirs.call);
    expect(claimed[1]!.steps).toEqual([]);
    expect(first!.call).toEqual(mine.call);
  });

  it('one delivery that cannot be written fails alone, with its SQLSTATE; the others of its batch commit', async () => {
    const store = await open();
    const good1 = delivery(callVersion(0, { id: 21 }));
    const bad = delivery(callVersion(0, { id: 22 }));
    const broken: AcceptInput = { ...bad, call: { ...bad.call, variant: null as never } };
    const good2 = delivery(callVersion(1, { id: 22 }));
    const results = await Promise.allSettled([good1, broken, good2].map((input) => store.acceptDelivery(input)));
    expect(batches(store)).toEqual({ batches: 1, deliveries: 3 });
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { outcome: 'accepted', revision: 1 } });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: '23502' } });
    expect((results[1] as PromiseRejectedResult).reason).not.toBeInstanceOf(StoreUnavailableError);
    // The failed delivery's call row was rolled back with it: call 22 starts at revision 1.
    expect(results[2]).toMatchObject({ status: 'fulfilled', value: { outcome: 'accepted', revision: 1 } });
    const rows = await stored();
    expect(rows.revisions).toHaveLength(2);
    expect(rows.receipts.map((r: { outcome: string }) => r.outcome)).toEqual(['accepted', 'accepted']);
  });

  it('a connection killed under a batch rejects every delivery in it as unavailable, SQLSTATE kept; nothing is written', async () => {
    const store = await open({ max: 3 });
    const app = new URL(schema.url).searchParams.get('application_name')!;
    const blocker = await schema.admin.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE calls IN EXCLUSIVE MODE');
      const waiting = Array.from({ length: 20 }, (_, i) =>
        store.acceptDelivery(delivery(callVersion(0, { id: 100 + i }))).then(() => 'accepted', (e: unknown) => e),
      );
      // The batch is on the server, waiting for the lock; then its backend is terminated.
      for (let i = 0; i < 200; i++) {
        const { rows } = await schema.admin.query(
          `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [app],
        );
        if (rows.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await schema.admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [
        app,
      ]);
      const outcomes = await Promise.all(waiting);
      expect(batches(store)).toEqual({ batches: 1, deliveries: 20 });
      for (const outcome of outcomes) {
        expect(outcome).toBeInstanceOf(StoreUnavailableError);
        expect(((outcome as Error).cause as { code?: string }).code).toBe('57P01');
      }
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    expect((await stored()).receipts).toEqual([]);
    // The pool replaces the connection: the senders' retries are accepted.
    expect(await store.acceptDelivery(delivery(callVersion(0, { id: 100 })))).toMatchObject({ outcome: 'accepted', revision: 1 });
  });

  it("the worker's writes of several runs, sent without waiting, are one batch, applied in call order", async () => {
    const store = await open();
    for (const id of [31, 32, 33]) await store.acceptDelivery(delivery(callVersion(0, { id })));
    const runs = await store.claimRuns('w', 10, T0, LEASE);
    expect(runs).toHaveLength(6);
    expect(writeBatches(store)).toEqual({ batches: 1, writes: 1 }); // the claim goes through the same queue
    const answers = await Promise.all(
      runs.flatMap((run) => [
        store.startStep(run.id, 'w', 'crm', { a: 1 }, 'ih-1', T0 + 1),
        store.finishStep(run.id, 'w', 'crm', { status: 'succeeded', output: { id: run.id } }, T0 + 2),
        store.startStep(run.id, 'w', 'sms', { b: 2 }, 'ih-2', T0 + 3),
        store.finishStep(run.id, 'w', 'sms', { status: 'failed', error: 'HTTP 500\0' }, T0 + 4),
        store.saveRunScore(run.id, 'w', { value: 3, band: null, fired: [] }),
        store.completeRun(run.id, 'w', T0 + 5),
        // After the run's end: no longer ours, so not written.
        store.startStep(run.id, 'w', 'late', {}, 'ih-3', T0 + 6),
      ]),
    );
    expect(answers).toEqual(runs.flatMap(() => [true, true, true, true, true, true, false]));
    expect(writeBatches(store)).toEqual({ batches: 2, writes: 1 + runs.length * 7 });
    for (const run of runs) {
      expect((await store.getStepResults(run.id)).map((s) => [s.stepId, s.status, s.output, s.error])).toEqual([
        ['crm', 'succeeded', { id: run.id }, null],
        ['sms', 'failed', null, 'HTTP 500\uFFFD'],
      ]);
      expect(await store.getRun(run.id)).toMatchObject({ status: 'succeeded', score: { value: 3 } });
    }
  });

  it("a connection killed under the worker's batch rejects its writes as unavailable; the runs' writes stop until claimed again", async () => {
    const store = await open({ max: 3 });
    const app = new URL(schema.url).searchParams.get('application_name')!;
    for (const id of [41, 42]) await store.acceptDelivery(delivery(callVersion(0, { id })));
    const runs = await store.claimRuns('w', 10, T0, LEASE);
    const blocker = await schema.admin.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE runs IN EXCLUSIVE MODE');
      const waiting = runs.map((run) => store.startStep(run.id, 'w', 'crm', {}, 'ih', T0 + 1).then(() => 'written', (e: unknown) => e));
      for (let i = 0; i < 200; i++) {
        const { rows } = await schema.admin.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [app]);
        if (rows.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await schema.admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [
        app,
      ]);
      for (const outcome of await Promise.all(waiting)) {
        expect(outcome).toBeInstanceOf(StoreUnavailableError);
        expect(((outcome as Error).cause as { code?: string }).code).toBe('57P01');
      }
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    // The runs' later writes are refused, not applied after the lost one ...
    await expect(store.completeRun(runs[0]!.id, 'w', T0 + 2)).rejects.toBeInstanceOf(RunWriteRefusedError);
    expect(await store.getStepResults(runs[0]!.id)).toEqual([]);
    // A lease renewal stands outside the chain, as when it was a statement of its own.
    expect(await store.extendLease(runs[0]!.id, 'w', T0 + LEASE)).toBe(true);
    // ... until the run is claimed again.
    expect(await store.sweepExpiredLeases(T0 + LEASE + 1)).toBe(runs.length);
    const again = await store.claimRuns('w2', 10, T0 + LEASE + 1, LEASE);
    expect(again).toHaveLength(runs.length);
    expect(await store.completeRun(runs[0]!.id, 'w2', T0 + LEASE + 2)).toBe(true);
  });
});
