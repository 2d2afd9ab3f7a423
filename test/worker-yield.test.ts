// The worker gives way to deliveries: runs already in flight wait at their next step while the
// limit is lowered, and go on at full concurrency once deliveries stop. Real SQLite store, real
// worker and executeRun; the step is a test connector whose executions the test lets finish one
// by one, and the clock and loop utilization of the priority are the test's. Then, through the
// real service: only known senders' deliveries lower the limit, and /metrics shows it.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineStep, type Connector } from '../src/connectors/connector.js';
import { createConnectors, stepKinds } from '../src/connectors/index.js';
import { createLogger } from '../src/logger.js';
import { compileMappingSource } from '../src/mapping/load-mappings.js';
import { MappingRegistry } from '../src/mapping/mapping-registry.js';
import { serializeCall } from '../src/payload/content-hash.js';
import { parsePayload } from '../src/payload/parse-payload.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { createIngestPriority } from '../src/worker/ingest-priority.js';
import { createWorker, type Worker } from '../src/worker/worker.js';
import { fixture } from './support/fixtures.js';
import { tempDir } from './support/temp-dir.js';
import { startTestService, TEST_TOKEN, type TestService } from './support/test-service.js';

const MAPPING = `name: two-steps
steps:
  - id: one
    use: fake.held
    with: { step: one }
  - id: two
    use: fake.held
    with: { step: two }
`;

interface Held {
  step: string;
  finish(): void;
}

/** A step that stays executing until the test finishes it. */
function heldConnector(executing: Held[]): Connector {
  return {
    name: 'fake',
    steps: [
      defineStep({
        kind: 'fake.held',
        description: 'executes until the test lets it finish',
        input: z.strictObject({ step: z.string() }),
        defaultRepeat: 'on-change',
        execute: (input, context) =>
          new Promise((resolve, reject) => {
            const held: Held = {
              step: input.step,
              finish: () => {
                executing.splice(executing.indexOf(held), 1);
                resolve({ done: input.step });
              },
            };
            executing.push(held);
            context.signal.addEventListener('abort', () => {
              executing.splice(executing.indexOf(held), 1);
              reject(new Error('aborted by shutdown'));
            });
          }),
      }),
    ],
  };
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real SQLite store holding `runs` runs of the two-step mapping, and a worker (not started). */
async function setup(runs: number) {
  const dir = tempDir();
  cleanups.push(() => dir.cleanup());
  const store: Store = openSqliteStore({ path: join(dir.path, 'aftercall.db') });
  cleanups.push(() => store.close());
  const executing: Held[] = [];
  const compiled = compileMappingSource(MAPPING, 'two-steps.yaml', stepKinds([...createConnectors(), heldConnector(executing)]));
  if (!('mapping' in compiled)) throw new Error(JSON.stringify(compiled.problems));
  for (let id = 1; id <= runs; id++) {
    const parsed = parsePayload({ ...(fixture('seed-001-autocalls') as object), id }, 'strict');
    if (!parsed.ok) throw new Error('fixture invalid');
    const { hash, json } = serializeCall(parsed.call);
    await store.acceptDelivery({
      requestId: `r${id}`, sender: 'default', receivedAt: Date.now(), rawBody: Buffer.from('{}'), call: parsed.call,
      contentHash: hash, callJson: json, isTest: false, runs: [{ mappingName: 'two-steps', mappingHash: compiled.mapping.hash }],
    });
  }
  let clock = 0;
  const priority = createIngestPriority({ concurrency: 4, ceiling: 0.5, minRate: 0, windowMs: 50, now: () => clock, utilization: () => 1 });
  const worker: Worker = createWorker({
    store,
    mappings: new MappingRegistry([compiled.mapping]),
    logger: createLogger('silent'),
    ingestPriority: priority,
    options: { concurrency: 4, pollIntervalMs: 20, leaseMs: 60_000, stepTimeoutMs: 60_000, maxAttempts: 3, backoff: { baseMs: 10, maxMs: 100 } },
  });
  cleanups.push(() => worker.stop(0)); // a second stop after the test's own finds nothing to do
  return {
    store,
    priority,
    executing,
    worker,
    advance: (ms: number) => {
      clock += ms;
    },
    /** Deliveries arrive while the loop is busy: 4 → 2 → 1 over two windows. */
    lowerToOne() {
      for (let i = 0; i < 2; i++) {
        clock += 50;
        priority.noteDelivery();
        priority.limit();
      }
    },
  };
}

describe('the worker gives way to deliveries', () => {
  it('runs in flight wait at their next step while the limit is lowered, then go on at full concurrency', async () => {
    const { store, worker, priority, executing, advance, lowerToOne } = await setup(4);
    worker.start();

    // No delivery arriving: all four runs execute their first step at once.
    await until('four first steps', () => executing.length === 4);
    expect(executing.map((h) => h.step)).toEqual(['one', 'one', 'one', 'one']);

    // Deliveries arrive while the loop is busy: 4 → 2 → 1 over two windows.
    lowerToOne();
    expect(priority.stats().limit).toBe(1);
    for (const held of [...executing]) held.finish();
    await until('three second steps waiting', () => priority.stats().waiting === 3);
    expect(executing.map((h) => h.step)).toEqual(['two']);

    executing[0]!.finish();
    await until('the next second step', () => priority.stats().waiting === 2 && executing.length === 1);

    // Deliveries stop: the waiting steps go on together, without waiting for the one executing.
    advance(100);
    await until('the other second steps', () => executing.length === 3);
    expect(priority.stats()).toEqual({ limit: 4, executing: 3, waiting: 0 });

    for (const held of [...executing]) held.finish();
    await until('all runs succeeded', async () => (await store.countRunsByStatus()).succeeded === 4);
  });
});

describe('shutdown while runs wait for a step slot', () => {
  it('a run waiting between its steps is given back without starting the next one', async () => {
    const { store, worker, priority, executing, lowerToOne } = await setup(2);
    worker.start();
    await until('both first steps', () => executing.length === 2);
    lowerToOne();
    for (const held of [...executing]) held.finish();
    await until('one second step executing, one waiting', () => executing.length === 1 && priority.stats().waiting === 1);

    await worker.stop(0); // aborts the executing step; the waiting run must not start its own

    const runs = await Promise.all((await store.listRuns()).map((r) => store.getRun(r.id)));
    const steps = runs.map((run) => Object.fromEntries(run!.steps.map((step) => [step.stepId, step.status])));
    expect(runs.map((run) => run!.status)).toEqual(['pending', 'pending']);
    // One run was stopped inside its second step; the other never got to start it.
    expect(steps.filter((s) => s.two !== undefined)).toHaveLength(1);
    expect(steps.filter((s) => s.two === undefined)).toEqual([{ one: 'succeeded' }]);
    expect(priority.stats()).toMatchObject({ executing: 0, waiting: 0 });
  });
});

describe('the service: which deliveries make the worker give way', () => {
  let service: TestService | null = null;
  afterEach(async () => {
    await service?.cleanup();
    service = null;
  });

  const stepLimit = async (s: TestService) => {
    const text = await (await fetch(`${s.baseUrl}/metrics`)).text();
    const match = /^aftercall_worker_step_limit (\d+)$/m.exec(text);
    if (!match) throw new Error('aftercall_worker_step_limit missing from /metrics');
    return Number(match[1]);
  };

  it('a known sender\'s deliveries lower the limit on a busy loop; a stranger\'s 401s do not', async () => {
    // Any busy loop and any rate count: what is tested is which deliveries are noted.
    const s = (service = await startTestService({}, { WORKER_CONCURRENCY: '8', WORKER_YIELD_ABOVE_UTILIZATION: '0.01', WORKER_YIELD_ABOVE_RATE: '0' }));
    const body = JSON.stringify({ ...(fixture('seed-001-autocalls') as object), id: 77 });
    const deliver = (token: string) =>
      fetch(`${s.baseUrl}/webhooks/post-call/${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.status);

    const seen: number[] = [];
    for (const end = Date.now() + 400; Date.now() < end; ) {
      expect(await Promise.all([deliver('wrong-token-0123456789'), deliver('wrong-token-0123456789')])).toEqual([401, 401]);
      seen.push(await stepLimit(s));
    }
    expect(new Set(seen)).toEqual(new Set([8]));

    // Duplicates of one call: deliveries that add no runs, only work for the loop.
    let lowest = Infinity;
    for (const end = Date.now() + 10_000; Date.now() < end && lowest === Infinity; ) {
      const statuses = await Promise.all([deliver(TEST_TOKEN), deliver(TEST_TOKEN), deliver(TEST_TOKEN)]);
      expect(statuses.every((status) => status === 202 || status === 200)).toBe(true);
      const limit = await stepLimit(s);
      if (limit < 8) lowest = limit;
    }
    expect(lowest).toBeLessThan(8);

    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await stepLimit(s)).toBe(8);
  });
});
