// A step's record shares the next write's commit: every store applies a run's writes in call
// order (SQLite's one writer, directly or on its thread; PostgreSQL's run-writes queue). Real
// stores, real executeRun; the store is only watched: when each write is sent and answered.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineStep, type Connector } from '../src/connectors/connector.js';
import { createConnectors, stepKinds } from '../src/connectors/index.js';
import { createLogger } from '../src/logger.js';
import { compileMappingSource } from '../src/mapping/load-mappings.js';
import { MappingRegistry } from '../src/mapping/mapping-registry.js';
import { contentHash } from '../src/payload/content-hash.js';
import { parsePayload } from '../src/payload/parse-payload.js';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { openThreadedSqliteStore } from '../src/store/sqlite/threaded-sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { executeRun } from '../src/worker/execute-run.js';
import { fixture } from './support/fixtures.js';
import { tempDir } from './support/temp-dir.js';
import { createTestSchema, TEST_DATABASE_URL, warnWhenNoDatabase, type TestSchema } from './support/test-database.js';

warnWhenNoDatabase('test/worker-write-behind.test.ts');

const MAPPING = `name: three
score:
  weights: { budget: 0.001 }
steps:
  - id: first
    use: fake.effect
    with: { n: 1 }
  - id: never
    use: fake.effect
    when: "false"
    with: { n: 2 }
  - id: last
    use: fake.effect
    with: { n: 3 }
`;

/** A side effect that notes, when it runs, which writes were still unanswered. */
function effectConnector(onExecute: () => void): Connector {
  return {
    name: 'fake',
    steps: [
      defineStep({
        kind: 'fake.effect',
        description: 'records nothing; tells the test it ran',
        input: z.strictObject({ n: z.number() }),
        defaultRepeat: 'on-change',
        async execute(input) {
          onExecute();
          return { n: input.n };
        },
      }),
    ],
  };
}

interface Write {
  method: string;
  step?: string;
  answered: boolean;
  /** Writes not yet answered when this one was sent. */
  outstandingAtSend: string[];
}

/** The real store, with every write it is sent recorded (order, and what was still in flight). */
function watched(store: Store): { store: Store; writes: Write[] } {
  const writes: Write[] = [];
  const label = (w: Write) => (w.step ? `${w.method}(${w.step})` : w.method);
  const methods = ['startStep', 'finishStep', 'completeRun', 'saveRunScore', 'retryRunLater', 'killRun'];
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof key !== 'string' || !methods.includes(key) || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const write: Write = {
          method: key,
          step: key === 'startStep' || key === 'finishStep' ? String(args[2]) : undefined,
          answered: false,
          outstandingAtSend: writes.filter((w) => !w.answered).map(label),
        };
        writes.push(write);
        return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args).finally(() => {
          write.answered = true;
        });
      };
    },
  });
  return { store: proxy, writes };
}

const dirs: Array<{ cleanup(): void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});
let schema: TestSchema | undefined;
beforeAll(async () => {
  if (TEST_DATABASE_URL) schema = await createTestSchema('aftercall_write_behind');
});
afterAll(async () => {
  await schema?.drop();
});

const sqliteFile = () => {
  const dir = tempDir();
  dirs.push(dir);
  return join(dir.path, 'aftercall.db');
};
const BACKENDS: Array<{ name: string; open: () => Promise<Store>; skip?: boolean }> = [
  { name: 'SQLite', open: async () => openSqliteStore({ path: sqliteFile() }) },
  { name: 'SQLite on its thread', open: () => openThreadedSqliteStore({ path: sqliteFile() }) },
  { name: 'PostgreSQL', open: () => openPostgresStore({ connectionString: schema!.url }), skip: !TEST_DATABASE_URL },
];

async function runOnce(open: () => Promise<Store>) {
  const real = await open();
  try {
    const seenAtEffect: string[][] = [];
    const { store, writes } = watched(real);
    const kinds = stepKinds([...createConnectors(), effectConnector(() => seenAtEffect.push(writes.filter((w) => !w.answered).map((w) => w.method)))]);
    const compiled = compileMappingSource(MAPPING, 'three.yaml', kinds);
    if (!('mapping' in compiled)) throw new Error(JSON.stringify(compiled.problems));
    const parsed = parsePayload({ ...(fixture('seed-001-autocalls') as object), id: 5150 }, 'strict');
    if (!parsed.ok) throw new Error('fixture invalid');
    await real.acceptDelivery({
      requestId: 'r1', sender: 'default', receivedAt: 1, rawBody: Buffer.from('{}'), call: parsed.call,
      contentHash: contentHash(parsed.call), isTest: false, runs: [{ mappingName: 'three', mappingHash: compiled.mapping.hash }],
    });
    const [run] = await real.claimRuns('w', 1, Date.now(), 60_000);
    const outcome = await executeRun(
      run!,
      {
        store,
        mappings: new MappingRegistry([compiled.mapping]),
        logger: createLogger('silent'),
        now: Date.now,
        stepTimeoutMs: 1_000,
        maxAttempts: 3,
        backoff: { baseMs: 10, maxMs: 100 },
      },
      new AbortController().signal,
    );
    const detail = await real.getRun(run!.id);
    return { outcome, writes, seenAtEffect, detail };
  } finally {
    await real.close();
  }
}

describe.each(BACKENDS)('step records and commits: $name', ({ open, skip }) => {
  it.skipIf(skip)('a record travels with the next write (one commit per step), nothing outstanding when an effect runs', async () => {
    const { outcome, writes, seenAtEffect, detail } = await runOnce(open);
    expect(outcome).toBe('succeeded');
    const sent = writes.map((w) => (w.step ? `${w.method}(${w.step})` : w.method));
    expect(sent).toEqual([
      'saveRunScore', 'startStep(first)', 'finishStep(first)', 'finishStep(never)', 'startStep(last)', 'finishStep(last)', 'completeRun',
    ]);
    // Sent while the earlier ones were still unanswered: they share one commit.
    expect(writes[1]!.outstandingAtSend).toEqual(['saveRunScore']);
    expect(writes[4]!.outstandingAtSend).toEqual(['finishStep(first)', 'finishStep(never)']);
    expect(writes[6]!.outstandingAtSend).toEqual(['finishStep(last)']);
    // Every earlier write is on disk before a side effect starts.
    expect(seenAtEffect).toEqual([[], []]);
    expect(Object.fromEntries(detail!.steps.map((s) => [s.stepId, s.status]))).toEqual({ first: 'succeeded', never: 'skipped', last: 'succeeded' });
    expect(detail!.status).toBe('succeeded');
  });
});
