// The PostgreSQL backend: the shared Store conformance suite in a schema of its own, plus what
// only PostgreSQL has: migrations under an advisory lock, several instances on one database
// (dedupe, claims and leases across them), a database that goes away and comes back, and
// the same answers as SQLite for the same history, including what the suite does not cover.
// How it uses its connection pool is in test/plan-guard/postgres-pool.test.ts.
// Skipped, with a warning, when TEST_DATABASE_URL is not set.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/store/postgres/migrations.js';
import { ROUTINES, routineDigest } from '../src/store/postgres/routines.js';
import { openPostgresStore, type PostgresStore, type PostgresStoreOptions } from '../src/store/postgres/postgres-store.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { NO_MAPPING, StoreUnavailableError, type RunFilter, type Store } from '../src/store/store.js';
import { describeOperatorConformance } from './store/operator-conformance.js';
import { callVersion, delivery, describeStoreConformance, expectAccepted, T0, variant } from './store/store-conformance.js';
import { startStubServer } from './support/stub-server.js';
import { tempDir } from './support/temp-dir.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { postgresSuite } from './support/postgres-suite.js';
import { createTestSchema, TEST_DATABASE_URL, warnWhenNoDatabase } from './support/test-database.js';
import { startTestService } from './support/test-service.js';

warnWhenNoDatabase('test/store-postgres.test.ts');

const CRM_ONLY = [{ mappingName: 'crm', mappingHash: 'hash-crm-v1' }];
const LEASE = 60_000;

describe.skipIf(!TEST_DATABASE_URL)('PostgreSQL store', () => {
  const suite = postgresSuite();
  const open = (options: Partial<PostgresStoreOptions> = {}) => suite.open(options);
  const count = async (table: string): Promise<number> =>
    Number((await suite.schema.admin.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${table}`)).rows[0]!.n);


  describeStoreConformance('postgres', async () => {
    await suite.schema.truncate();
    const store = await openPostgresStore({ connectionString: suite.schema.url });
    return { store, cleanup: () => store.close() };
  });

  describeOperatorConformance('postgres', async () => {
    await suite.schema.truncate();
    const store = await openPostgresStore({ connectionString: suite.schema.url });
    return { store, cleanup: () => store.close() };
  });

  describe('migrations', () => {
    it('four instances starting together on an empty schema migrate once, and a restart applies nothing', async () => {
      const fresh = await createTestSchema('aftercall_migrate');
      try {
        const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore({ connectionString: fresh.url })));
        const read = async () =>
          (await fresh.admin.query<{ version: number; name: string; applied_at: string }>(
            'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
          )).rows;
        const rows = await read();
        expect(rows.map((r) => ({ version: r.version, name: r.name }))).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
        const tables = await fresh.admin.query<{ tablename: string }>(
          'SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename', [fresh.name],
        );
        expect(tables.rows.map((r) => r.tablename)).toEqual(['admin_sessions', 'calls', 'heartbeat', 'inbound_requests', 'receipts', 'revisions', 'runs', 'schema_migrations', 'schema_routines', 'step_results']);
        // All four work on the same tables.
        const results = await Promise.all(stores.map((s, i) => s.acceptDelivery(delivery(callVersion(0, { id: 700 + i })))));
        expect(results.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
        for (const store of stores) await store.close();

        await (await openPostgresStore({ connectionString: fresh.url })).close();
        expect(await read()).toEqual(rows);
      } finally {
        await fresh.drop();
      }
    });

    it('routines: each applied once with its digest; one whose text is not the current one is replaced at the next start', async () => {
      await suite.schema.truncate();
      const digests = async () =>
        (await suite.schema.admin.query<{ name: string; digest: string; applied_at: string }>('SELECT name, digest, applied_at FROM schema_routines ORDER BY name')).rows;
      await (await open()).close();
      const first = await digests();
      expect(first.map((r) => ({ name: r.name, digest: r.digest }))).toEqual(
        [...ROUTINES].sort((a, b) => a.name.localeCompare(b.name)).map((r) => ({ name: r.name, digest: routineDigest(r) })),
      );
      await (await open()).close();
      expect(await digests()).toEqual(first);
      // A database whose function is another text (an older version's): replaced, and it works.
      await suite.schema.admin.query(`CREATE OR REPLACE FUNCTION aftercall_accept_deliveries(deliveries jsonb, call_jsons bytea, raw_bodies bytea)
        RETURNS TABLE (r_ord integer, r_outcome text, r_receipt_id bigint, r_revision integer, r_run_names text[], r_run_ids bigint[], r_sqlstate text, r_message text)
        LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'old text'; END $$`);
      await suite.schema.admin.query(`UPDATE schema_routines SET digest = 'old' WHERE name = 'aftercall_accept_deliveries'`);
      const reopened = await open();
      expectAccepted(await reopened.acceptDelivery(delivery(callVersion(0, { id: 4012 }))));
      expect((await digests()).find((r) => r.name === 'aftercall_accept_deliveries')?.digest).toBe(routineDigest(ROUTINES.find((r) => r.name === 'aftercall_accept_deliveries')!));
      // Migration 12 dropped the batch functions no version calls any more.
      const old = await suite.schema.admin.query(`SELECT proname FROM pg_proc WHERE proname IN ('aftercall_accept_batch', 'aftercall_run_writes') AND pronamespace = $1::regnamespace`, [suite.schema.name]);
      expect(old.rows).toEqual([]);
    });

    it("migration 4 turns runs left with the old status 'test' into succeeded test runs", async () => {
      await suite.schema.truncate();
      const store = await open();
      const accepted = expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 4004 }), { isTest: true, runs: CRM_ONLY })));
      await suite.schema.admin.query(`UPDATE runs SET status = 'test'; DELETE FROM schema_migrations WHERE version = 4`);
      const reopened = await open();
      expect(await reopened.getRun(accepted.runIds[0]!)).toMatchObject({ status: 'succeeded', isTest: true });
    });
  });

  describe('several instances on one database', () => {
    let a: PostgresStore;
    let b: PostgresStore;
    beforeEach(async () => {
      await suite.schema.truncate();
      a = await open();
      b = await open();
    });

    it('the same call delivered to both at once: one revision, every other delivery a duplicate', async () => {
      const v = callVersion(0);
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).acceptDelivery(delivery(v))));
      expect(results.filter((r) => r.outcome === 'accepted')).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(39);
      expect(new Set(results.map((r) => r.revision))).toEqual(new Set([1]));
      expect(await count('revisions')).toBe(1);
      expect(await count('runs')).toBe(2);
      expect(await count('receipts')).toBe(40);

      // Ten re-evaluations at once, half on each: ten consecutive revisions, no gaps or twins.
      const changed = await Promise.all(
        Array.from({ length: 10 }, (_, n) => (n % 2 ? a : b).acceptDelivery(delivery(callVersion(n + 1)))),
      );
      expect(changed.map((r) => r.revision).sort((x, y) => x - y)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    });

    it('claims from both instances at once never hand one run to two of them', async () => {
      const all: number[] = [];
      for (let id = 1; id <= 30; id++) all.push(...expectAccepted(await a.acceptDelivery(delivery(callVersion(0, { id }), { runs: CRM_ONLY }))).runIds);
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).claimRuns(`owner-${i}`, 4, T0, LEASE)),
      );
      const claimed = claims.flatMap((c) => c.map((r) => r.id));
      expect(new Set(claimed).size).toBe(claimed.length);
      const rest = await b.claimRuns('late', 100, T0, LEASE);
      expect([...claimed, ...rest.map((r) => r.id)].sort((x, y) => x - y)).toEqual(all.sort((x, y) => x - y));
    });

    it('an instance that dies: its run comes back after the lease and resumes after the completed step', async () => {
      const accepted = expectAccepted(await a.acceptDelivery(delivery(callVersion(0), { runs: CRM_ONLY })));
      const [run] = await a.claimRuns('instance-a', 10, T0, 1_000);
      expect(run!.id).toBe(accepted.runIds[0]);
      expect(await a.startStep(run!.id, 'instance-a', 'crm', { n: 1 }, 'h1', T0 + 10)).toBe(true);
      expect(await a.finishStep(run!.id, 'instance-a', 'crm', { status: 'succeeded', output: { id: 'c-1' } }, T0 + 20)).toBe(true);
      expect(await a.startStep(run!.id, 'instance-a', 'sms', { n: 2 }, 'h2', T0 + 30)).toBe(true);
      await a.close(); // SIGKILL, as far as the database can tell: nothing released

      expect(await b.claimRuns('instance-b', 10, T0 + 500, 1_000)).toEqual([]);
      expect(await b.sweepExpiredLeases(T0 + 900)).toBe(0); // lease still valid
      expect(await b.sweepExpiredLeases(T0 + 1_001)).toBe(1);
      const [resumed] = await b.claimRuns('instance-b', 10, T0 + 1_001, 1_000);
      expect(resumed).toMatchObject({ id: run!.id, attempts: 0, leaseOwner: 'instance-b' });
      const steps = await b.getStepResults(run!.id);
      expect(steps.map((s) => [s.stepId, s.status])).toEqual([['crm', 'succeeded'], ['sms', 'started']]);

      // The dead instance's late writes (a straggling connection) are refused.
      const ghost = await open();
      expect(await ghost.finishStep(run!.id, 'instance-a', 'sms', { status: 'succeeded', output: 1 }, T0 + 1_100)).toBe(false);
      expect(await ghost.completeRun(run!.id, 'instance-a', T0 + 1_100)).toBe(false);
      expect(await b.completeRun(run!.id, 'instance-b', T0 + 1_200)).toBe(true);
    });

    it('a step write racing a sweep is either recorded before the run changes hands, or refused', async () => {
      for (let id = 1; id <= 20; id++) await a.acceptDelivery(delivery(callVersion(0, { id }), { runs: CRM_ONLY }));
      const runs = await a.claimRuns('old', 100, T0, 1_000);
      expect(runs).toHaveLength(20);
      for (const run of runs) await a.startStep(run.id, 'old', 'crm', {}, 'h', T0 + 1);
      const written = await Promise.all([
        ...runs.map((run) => a.finishStep(run.id, 'old', 'crm', { status: 'succeeded', output: { run: run.id } }, T0 + 2_000)),
        b.sweepExpiredLeases(T0 + 2_000),
      ]);
      const recorded = new Map(runs.map((run, i) => [run.id, written[i] as boolean]));
      // Sweep again until every run changed hands (the first may have left some to later).
      while ((await b.sweepExpiredLeases(T0 + 2_000)) > 0);
      const taken = await b.claimRuns('new', 100, T0 + 2_000, LEASE);
      expect(taken.map((r) => r.id).sort((x, y) => x - y)).toEqual(runs.map((r) => r.id).sort((x, y) => x - y));
      for (const run of taken) {
        const [step] = await b.getStepResults(run.id);
        // What the new owner reads is exactly what the old owner was told it wrote.
        expect(step!.status === 'succeeded', `run ${run.id}`).toBe(recorded.get(run.id));
      }
    });
  });

  describe('when the database is away', () => {
    let proxy: TcpProxy;
    beforeEach(async () => {
      await suite.schema.truncate();
      const target = new URL(TEST_DATABASE_URL!);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    });
    afterEach(async () => {
      await suite.closeOpened();
      await proxy.close();
    });
    const openViaProxy = (options: Partial<PostgresStoreOptions> = {}) => open({ connectionString: proxy.via(suite.schema.url), ...options });
    const unavailable = expect.any(StoreUnavailableError);

    it('refused connections: every call fails with StoreUnavailableError, nothing is written, and the pool recovers', async () => {
      const store = await openViaProxy();
      expect(await store.acceptDelivery(delivery(callVersion(0, { id: 1 })))).toMatchObject({ outcome: 'accepted' });
      await proxy.stop();
      await expect(store.acceptDelivery(delivery(callVersion(0, { id: 2 })))).rejects.toEqual(unavailable);
      await expect(store.quarantineDelivery({
        requestId: 'q', sender: 'autocalls', receivedAt: T0, rawBody: Buffer.from('{'), reason: 'malformed-json', issues: [],
      })).rejects.toEqual(unavailable);
      await expect(store.claimRuns('w', 10, T0, LEASE)).rejects.toEqual(unavailable);
      await expect(store.sweepExpiredLeases(T0)).rejects.toEqual(unavailable);
      await expect(store.listRuns()).rejects.toEqual(unavailable);
      await expect(store.ping()).rejects.toEqual(unavailable);
      expect(await count('receipts')).toBe(1);

      await proxy.start();
      await store.ping();
      expect(await store.acceptDelivery(delivery(callVersion(0, { id: 2 })))).toMatchObject({ outcome: 'accepted', revision: 1 });
      expect(await store.claimRuns('w', 10, T0, LEASE)).toHaveLength(4);
    });

    it('connections cut or terminated by the server: calls fail as unavailable or succeed, never half-written', async () => {
      const store = await openViaProxy();
      const app = new URL(suite.schema.url).searchParams.get('application_name')!;
      for (let round = 0; round < 6; round++) {
        const id = 100 + round;
        // Handled from the start: it may fail while the termination below is still awaited.
        const inFlight = store.acceptDelivery(delivery(callVersion(0, { id }))).then((r) => r.outcome, (e: unknown) => e);
        if (round % 2) proxy.cut();
        else await suite.schema.admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [app]);
        const first = await inFlight;
        if (first !== 'accepted') expect(first).toEqual(unavailable);
        // The sender retries: accepted now, or a duplicate when the first attempt did commit.
        let retry: unknown = new StoreUnavailableError('not tried yet');
        for (let i = 0; i < 5 && retry instanceof StoreUnavailableError; i++) {
          retry = await store.acceptDelivery(delivery(callVersion(0, { id }))).then((r) => r.outcome, (e: unknown) => e);
        }
        expect(retry).toBe(first === 'accepted' ? 'duplicate' : 'accepted');
      }
      expect(await count('revisions')).toBe(6);
      expect(await count('runs')).toBe(12);
    });

    it('a server that never answers: calls give up after the connection timeout instead of hanging', async () => {
      proxy.blackhole(true);
      const started = Date.now();
      const error = await openPostgresStore({ connectionString: proxy.via(suite.schema.url), connectionTimeoutMs: 300 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      proxy.blackhole(false);
      const store = await openViaProxy({ connectionTimeoutMs: 300 });
      proxy.blackhole(true);
      proxy.cut();
      await expect(store.acceptDelivery(delivery(callVersion(0)))).rejects.toEqual(unavailable);
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    it('a lock held too long: the statement timeout ends the wait with StoreUnavailableError, nothing half-written', async () => {
      const store = await openViaProxy({ statementTimeoutMs: 300 });
      expectAccepted(await store.acceptDelivery(delivery(callVersion(0))));
      const blocker = await suite.schema.admin.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query('SELECT * FROM calls FOR UPDATE');
        const started = Date.now();
        await expect(store.acceptDelivery(delivery(callVersion(1)))).rejects.toEqual(unavailable);
        expect(Date.now() - started).toBeLessThan(2_000);
        await blocker.query('ROLLBACK');
      } finally {
        blocker.release();
      }
      expect(await count('revisions')).toBe(1);
      expect(await store.acceptDelivery(delivery(callVersion(1)))).toMatchObject({ outcome: 'accepted', revision: 2 });
    });

    it('errors that are not about the connection propagate as they are and leave nothing behind', async () => {
      const store = await openViaProxy();
      const twice = [{ mappingName: 'crm', mappingHash: 'a' }, { mappingName: 'crm', mappingHash: 'b' }];
      const error = await store.acceptDelivery(delivery(callVersion(0), { runs: twice })).catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(StoreUnavailableError);
      expect((error as { code?: string }).code).toBe('23505'); // unique_violation
      expect(await count('calls')).toBe(0);
      expect(await count('receipts')).toBe(0);
      expect(await store.acceptDelivery(delivery(callVersion(0)))).toMatchObject({ outcome: 'accepted', revision: 1 });
    });

    it('ping (/readyz) fails while the database takes no writes (read-only), and passes once it does', async () => {
      // A role of the test's own whose sessions are read-only on demand, as a standby's are.
      const role = `${suite.schema.name}_ro`;
      await suite.schema.admin.query(`CREATE ROLE ${role} LOGIN SUPERUSER`);
      const url = new URL(suite.schema.url);
      url.username = role;
      const store = await open({ connectionString: url.toString(), max: 1 });
      const reconnect = async () => {
        await suite.schema.admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
        await store.listRuns().catch(() => undefined); // the pool drops the cut connection and makes a new one
      };
      try {
        await expect(store.ping()).resolves.toBeUndefined();
        await suite.schema.admin.query(`ALTER ROLE ${role} SET default_transaction_read_only = on`);
        await reconnect();
        expect(await store.listRuns()).toEqual([]); // reads still work
        const error = await store.ping().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect((error as Error).message).toMatch(/read-only/);
        await suite.schema.admin.query(`ALTER ROLE ${role} RESET default_transaction_read_only`);
        await reconnect();
        await expect(store.ping()).resolves.toBeUndefined();
      } finally {
        await store.close();
        // Tables the role made (when this test migrated the schema) go to the test's own user.
        await suite.schema.admin.query(`REASSIGN OWNED BY ${role} TO CURRENT_USER; DROP OWNED BY ${role}; DROP ROLE ${role}`);
      }
    });

    it('a closed store answers StoreUnavailableError, like a database that is away', async () => {
      const store = await openViaProxy();
      await store.close();
      await expect(store.acceptDelivery(delivery(callVersion(0)))).rejects.toEqual(unavailable);
      await store.close(); // twice is fine
    });

    it('the service answers 503, never 202, while the database is away, and its worker recovers by itself', async () => {
      const stub = await startStubServer([{ status: 200, delayMs: 600, body: { ok: true } }, { status: 200, body: { ok: true } }]);
      const service = await startTestService(
        {
          'forward.yaml': `name: forward\nsteps:\n  - id: crm\n    use: http.request\n    with: { url: "${stub.url}/crm", body: { call: "{{ call.id }}" } }\n`,
        },
        { DATABASE_URL: proxy.via(suite.schema.url), LEASE_MS: '1000' },
      );
      const post = (id: number) => service.post(JSON.parse(callVersion(0, { id }).rawBody.toString()));
      try {
        expect((await post(1)).status).toBe(202);
        await service.waitFor(() => stub.requests.length, (n) => n >= 1); // the step is at the receiver
        await proxy.stop();

        const refused = await post(2);
        expect(refused).toMatchObject({ status: 503, body: { code: 'STORE_UNAVAILABLE' } });
        expect((await fetch(`${service.baseUrl}/readyz`)).status).toBe(503);
        await new Promise((r) => setTimeout(r, 1_000)); // the step finished meanwhile; its result could not be written
        await proxy.start();

        // Nothing is posted: the interrupted run comes back after its lease, by itself.
        const runs = await service.waitFor(() => service.store.listRuns(), (list) => list.length === 1 && list[0]!.status === 'succeeded', 20_000);
        expect(runs[0]!.callId).toBe('1');
        expect((await post(2)).status).toBe(202);
        await service.waitFor(() => service.store.countRunsByStatus(), (c) => c.succeeded === 2, 10_000);
        const forCall1 = stub.requests.filter((r) => (r.json as { call: number }).call === 1);
        // Sent again on resume (its result was never recorded), with the same idempotency key.
        expect(forCall1.length).toBeGreaterThanOrEqual(1);
        expect(new Set(forCall1.map((r) => r.headers['idempotency-key'])).size).toBe(1);
      } finally {
        await service.cleanup();
        await stub.close();
      }
    }, 40_000);
  });

  describe('the same answers as SQLite', () => {
    it('the same history gives identical runs, filters, searches, counts and queue statistics', async () => {
      await suite.schema.truncate();
      const dir = tempDir();
      const sqlite = openSqliteStore({ path: join(dir.path, 'aftercall.db') });
      const postgres = await open();
      try {
        const call = (id: number, phone: string, n = 0) =>
          variant('seed-001-autocalls', (p) => {
            p.id = id;
            p.customer_phone = phone;
            if (n > 0) (p.extracted_variables as Record<string, unknown>).evaluation = `re-evaluated ${n}`;
          });
        const history = async (store: Store) => {
          await store.acceptDelivery(delivery(call(1, '+14155550100'), { receivedAt: T0 }));
          await store.acceptDelivery(delivery(call(2, '+14155550111'), { receivedAt: T0 + 10, runs: CRM_ONLY }));
          await store.acceptDelivery(delivery(call(1, '+14155550100', 1), { receivedAt: T0 + 20 }));
          await store.acceptDelivery(delivery(call(3, '+4915123456789'), {
            receivedAt: T0 + 30, runs: [{ mappingName: NO_MAPPING, mappingHash: '', skipReason: 'no mapping matched: campaign' }],
          }));
          await store.acceptDelivery(delivery(call(4, '+14155550122'), { receivedAt: T0 + 40, isTest: true, runs: CRM_ONLY }));
          const claimed = await store.claimRuns('w', 3, T0 + 50, LEASE);
          await store.startStep(claimed[0]!.id, 'w', 'upsert', { a: 1 }, 'h', T0 + 51);
          await store.finishStep(claimed[0]!.id, 'w', 'upsert', { status: 'succeeded', output: { id: 'x' } }, T0 + 52);
          await store.completeRun(claimed[0]!.id, 'w', T0 + 53);
          await store.retryRunLater(claimed[1]!.id, 'w', 'HTTP 503', T0 + 5_000, T0 + 54);
          await store.killRun(claimed[2]!.id, 'w', 'HTTP 400', T0 + 55);
          await store.saveRunScore((await store.claimRuns('w', 1, T0 + 60, LEASE))[0]!.id, 'w', { value: 10, band: 'cold', fired: [] });
        };
        await history(sqlite);
        await history(postgres);

        const filters: RunFilter[] = [
          {}, { status: 'pending' }, { status: 'skipped' }, { mappingName: 'sms' }, { mappingName: NO_MAPPING },
          { search: '1' }, { search: ' 2 ' }, { search: '+1 (415) 555-0100' }, { search: '4915123456789' }, { search: 'nobody' },
          { createdFrom: T0 + 10, createdTo: T0 + 40 }, { createdFrom: T0 + 20 }, { createdTo: T0 + 10 },
          { limit: 2 }, { beforeId: 4, limit: 2 }, { status: 'running', mappingName: 'crm', search: '+14155550100' },
        ];
        for (const filter of filters) {
          expect(await postgres.listRuns(filter), JSON.stringify(filter)).toEqual(await sqlite.listRuns(filter));
        }
        const all = await sqlite.listRuns({ limit: 500 });
        expect(all.length).toBe(7);
        // The call's row id is each database's own sequence: compared is everything else.
        const portable = async (store: Store, id: number) => {
          const { callRowId, ...detail } = (await store.getRun(id))!;
          expect(callRowId).toBeGreaterThan(0);
          return detail;
        };
        for (const { id } of all) expect(await portable(postgres, id), `run ${id}`).toEqual(await portable(sqlite, id));
        expect(await postgres.countRunsByStatus()).toEqual(await sqlite.countRunsByStatus());
        for (const now of [T0, T0 + 60, T0 + 5_000]) expect(await postgres.queueStats(now)).toEqual(await sqlite.queueStats(now));
      } finally {
        await sqlite.close();
        dir.cleanup();
      }
    });
  });

  describe('text PostgreSQL cannot store', () => {
    it('a NUL character in an error message is replaced instead of failing the write', async () => {
      await suite.schema.truncate();
      const store = await open();
      await store.acceptDelivery(delivery(callVersion(0), { runs: CRM_ONLY }));
      const [run] = await store.claimRuns('w', 1, T0, LEASE);
      if (!run) throw new Error('nothing claimed');
      expect(await store.startStep(run.id, 'w', 'crm', { raw: 'a\u0000b' }, 'h', T0 + 1)).toBe(true);
      expect(await store.finishStep(run.id, 'w', 'crm', { status: 'failed', error: 'HTTP 400: bad\u0000byte' }, T0 + 2)).toBe(true);
      expect(await store.killRun(run.id, 'w', 'STEP_PERMANENT: bad\u0000byte', T0 + 3)).toBe(true);
      const detail = await store.getRun(run.id);
      expect(detail).toMatchObject({ status: 'dead', lastError: 'STEP_PERMANENT: bad\uFFFDbyte' });
      // JSON keeps it exactly (escaped as \u0000 in the text).
      expect(detail!.steps[0]).toMatchObject({ error: 'HTTP 400: bad\uFFFDbyte', input: { raw: 'a\u0000b' } });
    });
  });
});
