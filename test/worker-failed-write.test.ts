// A step's record that fails to be written (a dropped connection, a refused statement) must
// stop the run: it never completes, retries or dies as if the record were there, and a later
// revision never sends a `repeat: never` step whose outcome was left unknown. The fault is a
// real database trigger that refuses one step's `succeeded` record, on each backend; the run is
// the real executeRun on the real store.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineStep, type Connector } from '../src/connectors/connector.js';
import { createConnectors, stepKinds } from '../src/connectors/index.js';
import { createLogger } from '../src/logger.js';
import { compileMappingSource, type CompiledMapping } from '../src/mapping/load-mappings.js';
import { MappingRegistry } from '../src/mapping/mapping-registry.js';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { openThreadedSqliteStore } from '../src/store/sqlite/threaded-sqlite-store.js';
import type { ClaimedRun, Store } from '../src/store/store.js';
import { executeRun } from '../src/worker/execute-run.js';
import { callVersion, delivery, expectAccepted } from './store/store-conformance.js';
import { tempDir } from './support/temp-dir.js';
import { createTestSchema, TEST_DATABASE_URL, warnWhenNoDatabase, type TestSchema } from './support/test-database.js';

warnWhenNoDatabase('test/worker-failed-write.test.ts');

const LEASE = 60_000;
const TRIGGER = 'inject_lost_record';

/** Side effects the test counts: `fake.upsert` (safe to repeat) and `fake.message` (an SMS: not). */
const effects = new Map<string, number>();
const fake: Connector = {
  name: 'fake',
  steps: [
    defineStep({
      kind: 'fake.upsert',
      description: 'counts its executions',
      input: z.strictObject({ step: z.string() }),
      defaultRepeat: 'on-change',
      async execute(input) {
        effects.set(input.step, (effects.get(input.step) ?? 0) + 1);
        return { ok: input.step };
      },
    }),
    defineStep({
      kind: 'fake.message',
      description: 'counts its sends; the receiver cannot dedupe them',
      input: z.strictObject({ step: z.string() }),
      defaultRepeat: 'never',
      safeToRepeat: false,
      async execute(input) {
        effects.set(input.step, (effects.get(input.step) ?? 0) + 1);
        return { sid: `sent-${input.step}` };
      },
    }),
  ],
};

function compile(source: string): CompiledMapping {
  const compiled = compileMappingSource(source, 'm.yaml', stepKinds([...createConnectors(), fake]));
  if (!('mapping' in compiled)) throw new Error(JSON.stringify(compiled.problems));
  return compiled.mapping;
}
// The message is the last step: its record and the run's completion travel together.
const MESSAGE_LAST = compile(`name: crm
steps:
  - id: upsert
    use: fake.upsert
    with: { step: upsert }
  - id: notify
    use: fake.message
    with: { step: notify }
`);
// The message first: its record and the next step's start travel together.
const MESSAGE_FIRST = compile(`name: sms
steps:
  - id: notify
    use: fake.message
    with: { step: notify-first }
  - id: upsert
    use: fake.upsert
    with: { step: upsert-after }
`);
const registry = new MappingRegistry([MESSAGE_LAST, MESSAGE_FIRST]);
const planned = (m: CompiledMapping) => [{ mappingName: m.name, mappingHash: m.hash }];

interface Backend {
  store: Store;
  /** From now on, the database refuses the `succeeded` record of step `notify`. */
  loseRecords(): Promise<void>;
  heal(): Promise<void>;
  cleanup(): Promise<void>;
}

function sqliteBackend(threaded: boolean) {
  return async (): Promise<Backend> => {
    const dir = tempDir();
    const path = join(dir.path, 'aftercall.db');
    const store = threaded ? await openThreadedSqliteStore({ path }) : openSqliteStore({ path });
    const db = new Database(path);
    return {
      store,
      async loseRecords() {
        db.exec(`CREATE TRIGGER ${TRIGGER} BEFORE UPDATE ON step_results
                 WHEN NEW.step_id = 'notify' AND NEW.status = 'succeeded'
                 BEGIN SELECT RAISE(ABORT, 'injected: the record is lost'); END`);
      },
      async heal() {
        db.exec(`DROP TRIGGER ${TRIGGER}`);
      },
      async cleanup() {
        db.close();
        await store.close();
        dir.cleanup();
      },
    };
  };
}

let schema: TestSchema | undefined;
beforeAll(async () => {
  if (TEST_DATABASE_URL) schema = await createTestSchema('aftercall_failed_write');
});
afterAll(async () => {
  await schema?.drop();
});

async function postgresBackend(): Promise<Backend> {
  const admin = schema!.admin;
  await schema!.truncate();
  const store = await openPostgresStore({ connectionString: schema!.url });
  return {
    store,
    async loseRecords() {
      await admin.query(`CREATE OR REPLACE FUNCTION ${TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.step_id = 'notify' AND NEW.status = 'succeeded' THEN RAISE EXCEPTION 'injected: the record is lost'; END IF;
          RETURN NEW;
        END $$`);
      await admin.query(`CREATE TRIGGER ${TRIGGER} BEFORE UPDATE ON step_results FOR EACH ROW EXECUTE FUNCTION ${TRIGGER}()`);
    },
    async heal() {
      await admin.query(`DROP TRIGGER ${TRIGGER} ON step_results`);
    },
    cleanup: () => store.close(),
  };
}

const BACKENDS: Array<[string, () => Promise<Backend>, boolean]> = [
  ['sqlite', sqliteBackend(false), true],
  ['sqlite in its own thread', sqliteBackend(true), true],
  ['postgres', postgresBackend, Boolean(TEST_DATABASE_URL)],
];

describe.each(BACKENDS)('a lost step record: %s', (_name, open, enabled) => {
  let backend: Backend;
  afterEach(async () => {
    await backend?.cleanup();
    effects.clear();
  });

  const execute = (store: Store, run: ClaimedRun) =>
    executeRun(
      run,
      {
        store,
        mappings: registry,
        logger: createLogger('silent'),
        now: Date.now,
        stepTimeoutMs: 5_000,
        maxAttempts: 3,
        backoff: { baseMs: 10, maxMs: 100 },
      },
      new AbortController().signal,
    ).catch((error: unknown) => error);
  const claimOne = async (store: Store, owner: string, now = Date.now()) => {
    const claimed = await store.claimRuns(owner, 10, now, LEASE);
    expect(claimed).toHaveLength(1);
    return claimed[0]!;
  };
  const statuses = async (store: Store, runId: number) => {
    const run = await store.getRun(runId);
    return { run: run!.status, steps: Object.fromEntries(run!.steps.map((s) => [s.stepId, s.status])) };
  };

  it.runIf(enabled)('the run does not complete, and no later revision sends the message again', async () => {
    backend = await open();
    const { store } = backend;
    const rev1 = expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 18_001 }), { runs: planned(MESSAGE_LAST) })));

    await backend.loseRecords();
    const first = await execute(store, await claimOne(store, 'w'));
    expect(first).toBeInstanceOf(Error); // the run is left to its lease
    expect(effects.get('notify')).toBe(1);
    // Not `succeeded` with the message `started`: the run is still running under its lease.
    expect(await statuses(store, rev1.runIds[0]!)).toEqual({ run: 'running', steps: { upsert: 'succeeded', notify: 'started' } });
    await backend.heal();

    // The lease runs out; whoever resumes finds the message's outcome unknown and does not send it.
    expect(await store.sweepExpiredLeases(Date.now() + LEASE + 1)).toBe(1);
    expect(await execute(store, await claimOne(store, 'w2', Date.now() + LEASE + 1))).toBe('dead');
    expect((await store.getRun(rev1.runIds[0]!))!.lastError).toMatch(/^STEP_OUTCOME_UNKNOWN: step notify/);
    expect(effects.get('notify')).toBe(1);

    // A re-evaluation of the call: a new revision. Its run must not send the message again.
    const rev2 = expectAccepted(await store.acceptDelivery(delivery(callVersion(1, { id: 18_001 }), { runs: planned(MESSAGE_LAST) })));
    expect(await execute(store, await claimOne(store, 'w3', Date.now() + LEASE + 2))).toBe('succeeded');
    const later = await store.getRun(rev2.runIds[0]!);
    expect(later!.steps.find((s) => s.stepId === 'notify')).toMatchObject({
      status: 'skipped',
      error: 'repeat: never (revision 1, which may have done it: outcome unknown)',
    });
    expect(effects.get('notify')).toBe(1);
  });

  it.runIf(enabled)('nothing of the run is written after the lost record: the next step does not start', async () => {
    backend = await open();
    const { store } = backend;
    const rev1 = expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 18_002 }), { runs: planned(MESSAGE_FIRST) })));
    await backend.loseRecords();
    expect(await execute(store, await claimOne(store, 'w'))).toBeInstanceOf(Error);
    expect(effects.get('notify-first')).toBe(1);
    expect(effects.get('upsert-after')).toBeUndefined();
    // The next step's `started` would read as "may have gone out" to whoever resumes.
    expect(await statuses(store, rev1.runIds[0]!)).toEqual({ run: 'running', steps: { notify: 'started' } });
  });
});
