// The SQLite store's thread dying for real (out of its heap, SQLITE_THREAD_HEAP_MB): every call
// fails as "store unavailable" (503) instead of hanging, the death is reported once, and the
// service reports itself failed so `aftercall serve` exits for its supervisor to restart it.
import { join } from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { openThreadedSqliteStore } from '../src/store/sqlite/threaded-sqlite-store.js';
import { StoreUnavailableError, type Store } from '../src/store/store.js';
import { callVersion, delivery } from './store/store-conformance.js';
import { fixture } from './support/fixtures.js';
import { tempDir } from './support/temp-dir.js';
import { startTestService, type TestService } from './support/test-service.js';

// Small enough that a step output of 300k objects cannot be taken in; large enough to start.
const HEAP_MB = 24;
const hugeOutput = () => Array.from({ length: 300_000 }, (_, i) => ({ i, item: `item ${i}` }));

/** A claimed run on `store`, with its step started: ready for a finishStep. */
async function startedRun(store: Store): Promise<number> {
  await store.acceptDelivery(delivery(callVersion(0, { id: 7070 }), { runs: [{ mappingName: 'crm', mappingHash: 'h' }], receivedAt: 1 }));
  const [run] = await store.claimRuns('w', 1, 10, 60_000);
  expect(await store.startStep(run!.id, 'w', 'crm', {}, 'h', 11)).toBe(true);
  return run!.id;
}

const dirs: Array<{ cleanup(): void }> = [];
let service: TestService | undefined;
afterEach(async () => {
  await service?.cleanup();
  service = undefined;
  for (const d of dirs.splice(0)) d.cleanup();
});

describe('the SQLite thread dies', () => {
  it('every call then fails as unavailable, and the death is reported once', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const deaths: Error[] = [];
    const store = await openThreadedSqliteStore(
      { path: join(dir.path, 'aftercall.db'), ownsQueue: true },
      { heapLimitMb: HEAP_MB, onThreadDeath: (error) => deaths.push(error) },
    );
    const runId = await startedRun(store);
    const write = store.finishStep(runId, 'w', 'crm', { status: 'succeeded', output: hugeOutput() }, 12);
    await expect(write).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(write).rejects.toThrow(/memory limit/);
    await expect.poll(() => deaths.length).toBe(1);
    expect(deaths[0]!.message).toMatch(/memory limit/);
    // Later calls fail at once, never hang.
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.getStepResults(runId)).rejects.toBeInstanceOf(StoreUnavailableError);
    await store.close();
    expect(deaths).toHaveLength(1);
  });

  it('closing a healthy store is not a death', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const deaths: Error[] = [];
    const store = await openThreadedSqliteStore({ path: join(dir.path, 'aftercall.db'), ownsQueue: true }, { onThreadDeath: (e) => deaths.push(e) });
    await store.ping();
    await store.close();
    expect(deaths).toEqual([]);
  });

  it('the service answers 503, /readyz is not ready, and `fatal` resolves so the process can restart', async () => {
    service = await startTestService({}, { SQLITE_THREAD_HEAP_MB: String(HEAP_MB) });
    const s = service;
    let failed: Error | null = null;
    void s.fatal.then((error) => {
      failed = error;
    });
    expect((await s.post({ ...fixture<object>('seed-001-autocalls'), id: 8080 })).status).toBe(202);
    // No run to claim here (the service's own worker would race for it): a quarantined body
    // with 300k problems is as much for the thread to take in.
    const huge = hugeOutput().map(({ i, item }) => ({ path: `x.${i}`, message: item }));
    await expect(
      s.store.quarantineDelivery({ requestId: 'r-huge', sender: 'default', receivedAt: 1, rawBody: Buffer.from('{}'), reason: 'invalid-payload', issues: huge }),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect.poll(() => failed?.message).toMatch(/memory limit/);
    const refused = await s.post({ ...fixture<object>('seed-001-autocalls'), id: 8081 });
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('STORE_UNAVAILABLE');
    const ready = await request(s.server).get('/readyz');
    expect(ready.status).toBe(503);
  });
});
