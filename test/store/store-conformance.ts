// The Store contract as executable tests. Every backend (SQLite, PostgreSQL) runs this
// same suite: `describeStoreConformance('sqlite', open)` from its own *.test.ts file.
// All times are explicit numbers (`now`, `at`), never the wall clock, so nothing sleeps.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Call } from '../../src/payload/call.js';
import { contentHash } from '../../src/payload/content-hash.js';
import { parsePayload } from '../../src/payload/parse-payload.js';
import type {
  AcceptInput,
  AcceptResult,
  ClaimedRun,
  PlannedRun,
  RunStatus,
  RunSummary,
  Store,
} from '../../src/store/store.js';
import { fixture } from '../support/fixtures.js';

export interface OpenedStore {
  store: Store;
  cleanup(): Promise<void>;
}

/** A fixed, plausible epoch-ms base; every time in the suite is T0 + something. */
export const T0 = 1_700_000_000_000;
const LEASE = 60_000;
const ALL_STATUSES: RunStatus[] = ['pending', 'running', 'retrying', 'succeeded', 'dead', 'invalid-variables', 'skipped'];
const MAPPINGS: PlannedRun[] = [
  { mappingName: 'crm', mappingHash: 'hash-crm-v1' },
  { mappingName: 'sms', mappingHash: 'hash-sms-v1' },
];
const CRM_ONLY: PlannedRun[] = [{ mappingName: 'crm', mappingHash: 'hash-crm-v1' }];

export interface Variant {
  call: Call;
  hash: string;
  rawBody: Buffer;
}

/** A fixture payload, optionally edited, run through the real parser and content hash. */
export function variant(fixtureName = 'seed-001-autocalls', edit?: (payload: Record<string, unknown>) => void): Variant {
  const payload = fixture(fixtureName);
  edit?.(payload);
  const text = JSON.stringify(payload);
  const parsed = parsePayload(JSON.parse(text), 'strict');
  if (!parsed.ok) throw new Error(`fixture ${fixtureName} does not parse: ${JSON.stringify(parsed.issues)}`);
  return { call: parsed.call, hash: contentHash(parsed.call), rawBody: Buffer.from(text) };
}

/**
 * The call `id` (default: the fixture's own), as re-evaluated for the `n`th time: n = 0 is the
 * fixture's content, every other n changes one extracted variable, so a different content hash.
 */
export function callVersion(n: number, options: { id?: number; fixtureName?: string } = {}): Variant {
  return variant(options.fixtureName, (payload) => {
    if (options.id !== undefined) payload.id = options.id;
    if (n > 0) (payload.extracted_variables as Record<string, unknown>).evaluation = `re-evaluated ${n}`;
  });
}

let requestSeq = 0;

export function delivery(v: Variant, overrides: Partial<AcceptInput> = {}): AcceptInput {
  requestSeq += 1;
  return {
    requestId: `req-${requestSeq}`,
    sender: 'autocalls',
    receivedAt: T0,
    rawBody: v.rawBody,
    call: v.call,
    contentHash: v.hash,
    isTest: false,
    runs: MAPPINGS,
    ...overrides,
  };
}

type Accepted = Extract<AcceptResult, { outcome: 'accepted' }>;

export function expectAccepted(result: AcceptResult): Accepted {
  if (result.outcome !== 'accepted') throw new Error(`expected an accepted delivery, got ${JSON.stringify(result)}`);
  return result;
}

const ids = (runs: Array<{ id: number }>): number[] => runs.map((r) => r.id).sort((a, b) => a - b);
const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);

/** Every status with a count, zero when the backend leaves it out. */
function normalizedCounts(counts: Record<string, number>): Record<string, number> {
  const extra = Object.entries(counts).filter(([status, n]) => !ALL_STATUSES.includes(status as RunStatus) && n !== 0);
  expect(extra).toEqual([]);
  return Object.fromEntries(ALL_STATUSES.map((s) => [s, counts[s] ?? 0]));
}

/**
 * Registers the contract tests. `kind` (default: `name`) is the backend's `Store.kind` ('sqlite' | 'postgres');
 * `open` must return an EMPTY store for every test (fresh file, schema or truncated tables).
 */
export function describeStoreConformance(name: string, open: () => Promise<OpenedStore>, kind: string = name): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    let cleanupStore: () => Promise<void>;

    beforeEach(async () => {
      const opened = await open();
      store = opened.store;
      cleanupStore = () => opened.cleanup();
    });

    afterEach(async () => {
      await cleanupStore();
    });

    async function runOf(id: number): Promise<RunSummary> {
      const run = await store.getRun(id);
      if (!run) throw new Error(`run ${id} not found`);
      return run;
    }

    /** Claims everything due at `now` for `owner`; the only claim helper, so limits stay visible. */
    const claimAll = (owner: string, now: number, leaseMs = LEASE): Promise<ClaimedRun[]> =>
      store.claimRuns(owner, 1000, now, leaseMs);

    /** Accepts one single-mapping call and leases its run to `owner`. */
    async function acceptAndClaim(owner: string, id = 5001, at = T0, leaseMs = LEASE): Promise<ClaimedRun> {
      const result = expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id }), { runs: CRM_ONLY, receivedAt: at })));
      const claimed = await claimAll(owner, at, leaseMs);
      expect(ids(claimed)).toEqual(result.runIds);
      return claimed[0]!;
    }

    it('is the backend it says it is and answers ping', async () => {
      expect(store.kind).toBe(kind);
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('keeps admin sessions until they end or expire', async () => {
      await store.startAdminSession('session-a', T0 + 1_000, T0);
      await store.startAdminSession('session-b', T0 + 5_000, T0);
      expect(await store.adminSessionActive('session-a', T0)).toBe(true);
      expect(await store.adminSessionActive('session-a', T0 + 1_000)).toBe(false); // expired
      expect(await store.adminSessionActive('unknown', T0)).toBe(false);
      await store.endAdminSession('session-b');
      expect(await store.adminSessionActive('session-b', T0)).toBe(false);
      // Starting a session forgets the expired ones; the current stay.
      await store.startAdminSession('session-c', T0 + 9_000, T0 + 2_000);
      expect(await store.adminSessionActive('session-a', T0)).toBe(false);
      expect(await store.adminSessionActive('session-c', T0 + 2_000)).toBe(true);
    });

    describe('acceptDelivery', () => {
      it('creates revision 1 with one pending run per planned mapping and a receipt with the raw body', async () => {
        const v = callVersion(0);
        const input = delivery(v, { requestId: 'req-first', receivedAt: T0 + 5 });
        const result = expectAccepted(await store.acceptDelivery(input));
        expect(result.revision).toBe(1);
        expect(result.runIds).toHaveLength(2);
        expect(new Set(result.runIds).size).toBe(2);

        const receipt = await store.getReceipt(result.receiptId);
        expect(receipt).toEqual({
          id: result.receiptId,
          requestId: 'req-first',
          sender: 'autocalls',
          receivedAt: T0 + 5,
          outcome: 'accepted',
          reason: null,
          issues: [],
          rawBody: v.rawBody,
          callKey: '12345',
          revision: 1,
          replayedAt: null,
          dismissedAt: null,
          headers: null,
        });
        expect(Buffer.compare(receipt!.rawBody!, v.rawBody)).toBe(0);

        const runs = await store.listRuns();
        expect(ids(runs)).toEqual(sorted(result.runIds));
        expect(runs.map((r) => r.mappingName).sort()).toEqual(['crm', 'sms']);
        for (const run of runs) {
          expect(run).toMatchObject({
            sender: 'autocalls',
            callId: '12345',
            revision: 1,
            status: 'pending',
            isTest: false,
            attempts: 0,
            lastError: null,
            createdAt: T0 + 5,
          });
        }
        const detail = await store.getRun(result.runIds[0]!);
        expect(detail?.call).toEqual(v.call);
        expect(detail?.steps).toEqual([]);
      });

      it('a delivery with the same content hash is a duplicate of the existing revision and plans no runs', async () => {
        const v = callVersion(0);
        const first = expectAccepted(await store.acceptDelivery(delivery(v)));
        const again = await store.acceptDelivery(delivery(v, { requestId: 'req-resend', receivedAt: T0 + 1000 }));
        expect(again).toEqual({ outcome: 'duplicate', receiptId: expect.any(Number), revision: 1 });
        expect(again.receiptId).not.toBe(first.receiptId);
        const receipt = await store.getReceipt(again.receiptId);
        expect(receipt).toMatchObject({
          requestId: 'req-resend',
          outcome: 'duplicate',
          callKey: '12345',
          revision: 1,
          receivedAt: T0 + 1000,
        });
        expect(ids(await store.listRuns())).toEqual(sorted(first.runIds));
      });

      it('changed content becomes revision 2 with new runs', async () => {
        const first = expectAccepted(await store.acceptDelivery(delivery(callVersion(0))));
        const changed = callVersion(1);
        const second = expectAccepted(await store.acceptDelivery(delivery(changed, { receivedAt: T0 + 10 })));
        expect(second.revision).toBe(2);
        expect(second.runIds).toHaveLength(2);
        expect(second.runIds.filter((id) => first.runIds.includes(id))).toEqual([]);
        const runs = await store.listRuns();
        expect(runs).toHaveLength(4);
        for (const id of second.runIds) {
          const run = await store.getRun(id);
          expect(run?.revision).toBe(2);
          expect(run?.call).toEqual(changed.call);
          expect(run?.status).toBe('pending');
        }
        expect((await store.getReceipt(second.receiptId))?.revision).toBe(2);
      });

      it('content equal to revision 1 arriving after revision 2 is a duplicate of revision 1, never a rollback', async () => {
        const v1 = callVersion(0);
        expectAccepted(await store.acceptDelivery(delivery(v1)));
        expectAccepted(await store.acceptDelivery(delivery(callVersion(1), { receivedAt: T0 + 10 })));
        const late = await store.acceptDelivery(delivery(v1, { receivedAt: T0 + 20 }));
        expect(late.outcome).toBe('duplicate');
        expect(late.revision).toBe(1);
        expect(await store.listRuns()).toHaveLength(4);
        // The late copy did not move the call's latest revision back: new content is revision 3.
        const third = expectAccepted(await store.acceptDelivery(delivery(callVersion(2), { receivedAt: T0 + 30 })));
        expect(third.revision).toBe(3);
        // And a copy of revision 2 is still a duplicate of revision 2.
        const late2 = await store.acceptDelivery(delivery(callVersion(1), { receivedAt: T0 + 40 }));
        expect(late2).toMatchObject({ outcome: 'duplicate', revision: 2 });
      });

      it('50 concurrent deliveries of the same content: exactly one is accepted', async () => {
        const v = callVersion(0);
        const results = await Promise.all(Array.from({ length: 50 }, () => store.acceptDelivery(delivery(v))));
        const accepted = results.filter((r) => r.outcome === 'accepted');
        expect(accepted).toHaveLength(1);
        expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(49);
        expect(results.every((r) => r.revision === 1)).toBe(true);
        expect(new Set(results.map((r) => r.receiptId)).size).toBe(50);
        const runs = await store.listRuns();
        expect(ids(runs)).toEqual(sorted(expectAccepted(accepted[0]!).runIds));
      });

      it('concurrent deliveries of different contents get distinct consecutive revisions', async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, n) => store.acceptDelivery(delivery(callVersion(n), { receivedAt: T0 + n }))),
        );
        expect(results.every((r) => r.outcome === 'accepted')).toBe(true);
        expect(sorted(results.map((r) => r.revision))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        const runs = await store.listRuns({ limit: 100 });
        expect(runs).toHaveLength(20);
        const revisionsPerMapping = (mapping: string) =>
          sorted(runs.filter((r) => r.mappingName === mapping).map((r) => r.revision));
        expect(revisionsPerMapping('crm')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(revisionsPerMapping('sms')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      });

      it('the same call id from different senders is two independent calls', async () => {
        const v = callVersion(0);
        const fromA = expectAccepted(await store.acceptDelivery(delivery(v, { sender: 'autocalls', runs: CRM_ONLY })));
        const fromB = expectAccepted(await store.acceptDelivery(delivery(v, { sender: 'famulor', runs: CRM_ONLY })));
        expect(fromA.revision).toBe(1);
        expect(fromB.revision).toBe(1);
        // A new revision for one sender does not touch the other's.
        const a2 = expectAccepted(await store.acceptDelivery(delivery(callVersion(1), { sender: 'autocalls', runs: CRM_ONLY })));
        expect(a2.revision).toBe(2);
        const b2 = expectAccepted(await store.acceptDelivery(delivery(callVersion(1), { sender: 'famulor', runs: CRM_ONLY })));
        expect(b2.revision).toBe(2);

        const claimed = await claimAll('w', T0);
        // Revision 2 of each waits for its own revision 1, not for the other sender's.
        expect(ids(claimed)).toEqual(sorted([...fromA.runIds, ...fromB.runIds]));
        const a = claimed.find((r) => r.id === fromA.runIds[0])!;
        const b = claimed.find((r) => r.id === fromB.runIds[0])!;
        expect(a.callRowId).not.toBe(b.callRowId);
        expect((await runOf(a.id)).sender).toBe('autocalls');
        expect((await runOf(b.id)).sender).toBe('famulor');
        expect((await runOf(a.id)).callId).toBe('12345');
        expect((await runOf(b.id)).callId).toBe('12345');
      });

      it('a chat and a call with the same id are two calls, each with its own revisions', async () => {
        const chat = variant('conversation-ended-widget', (p) => (p.conversation_id = '7d3f9a1c-52e4-4b8f-9c06-1e2a3b4c5d6e'));
        const call = variant('envelope-uuid');
        const chatAccepted = expectAccepted(await store.acceptDelivery(delivery(chat, { runs: CRM_ONLY })));
        const callAccepted = expectAccepted(await store.acceptDelivery(delivery(call, { runs: CRM_ONLY })));
        expect([chatAccepted.revision, callAccepted.revision]).toEqual([1, 1]);
        expect((await runOf(chatAccepted.runIds[0]!)).callId).toBe('conversation:7d3f9a1c-52e4-4b8f-9c06-1e2a3b4c5d6e');
        expect((await runOf(callAccepted.runIds[0]!)).callId).toBe('7d3f9a1c-52e4-4b8f-9c06-1e2a3b4c5d6e');
        expect((await store.acceptDelivery(delivery(chat, { runs: CRM_ONLY }))).outcome).toBe('duplicate');
      });

      it('carries the isTest flag to the runs and the claimed runs', async () => {
        const test = expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 1 }), { isTest: true, runs: CRM_ONLY })));
        const real = expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 2 }), { isTest: false, runs: CRM_ONLY })));
        expect((await runOf(test.runIds[0]!)).isTest).toBe(true);
        expect((await runOf(real.runIds[0]!)).isTest).toBe(false);
        const claimed = await claimAll('w', T0);
        expect(claimed.find((r) => r.id === test.runIds[0])?.isTest).toBe(true);
        expect(claimed.find((r) => r.id === real.runIds[0])?.isTest).toBe(false);
        // A test run ends succeeded or dead like any other: the flag says "test", not the status.
        expect(await store.completeRun(test.runIds[0]!, 'w', T0 + 1)).toBe(true);
        expect(await runOf(test.runIds[0]!)).toMatchObject({ status: 'succeeded', isTest: true });
        const failing = expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 3 }), { isTest: true, runs: CRM_ONLY })));
        const [claimedFailing] = await claimAll('w', T0 + 2);
        expect(claimedFailing?.id).toBe(failing.runIds[0]);
        expect(await store.killRun(failing.runIds[0]!, 'w', 'STEP_PERMANENT: no', T0 + 3)).toBe(true);
        expect(await runOf(failing.runIds[0]!)).toMatchObject({ status: 'dead', isTest: true });
        expect((await store.listRuns({ status: 'dead' })).map((r) => [r.id, r.isTest])).toEqual([[failing.runIds[0], true]]);
      });

      it('accepts a call with no planned runs (nothing matched) and still dedupes it', async () => {
        const v = callVersion(0);
        const first = expectAccepted(await store.acceptDelivery(delivery(v, { runs: [] })));
        expect(first).toMatchObject({ revision: 1, runIds: [] });
        expect(await store.acceptDelivery(delivery(v, { runs: [] }))).toMatchObject({ outcome: 'duplicate', revision: 1 });
        expect(await store.listRuns()).toEqual([]);
      });
    });

    describe('quarantine', () => {
      it('keeps a rejected body with its problems, lists it newest first and marks it replayed', async () => {
        const body1 = Buffer.from('{"id": "not json');
        const body2 = Buffer.from('{"id":12345,"status":"exploded"}');
        const issues = [{ path: 'status', message: 'must be one of the call statuses' }];
        const q1 = await store.quarantineDelivery({
          requestId: 'req-q1', sender: 'autocalls', receivedAt: T0, rawBody: body1, reason: 'malformed-json', issues: [],
        });
        const accepted = expectAccepted(await store.acceptDelivery(delivery(callVersion(0))));
        const q2 = await store.quarantineDelivery({
          requestId: 'req-q2', sender: 'famulor', receivedAt: T0 + 1, rawBody: body2, reason: 'invalid-payload', issues,
        });
        expect(q1.receiptId).not.toBe(q2.receiptId);

        expect(await store.getReceipt(q2.receiptId)).toEqual({
          id: q2.receiptId,
          requestId: 'req-q2',
          sender: 'famulor',
          receivedAt: T0 + 1,
          outcome: 'quarantined',
          reason: 'invalid-payload',
          issues,
          rawBody: body2,
          callKey: null,
          revision: null,
          replayedAt: null,
          dismissedAt: null,
          headers: null,
        });
        expect((await store.getReceipt(q1.receiptId))?.reason).toBe('malformed-json');
        expect(Buffer.compare((await store.getReceipt(q1.receiptId))!.rawBody!, body1)).toBe(0);

        const listed = await store.listQuarantine();
        expect(listed.map((r) => r.id)).toEqual([q2.receiptId, q1.receiptId]);
        expect(listed.some((r) => r.id === accepted.receiptId)).toBe(false);
        expect(listed[0]).toMatchObject({ outcome: 'quarantined', reason: 'invalid-payload', issues });
        expect((await store.listQuarantine(1)).map((r) => r.id)).toEqual([q2.receiptId]);

        await store.markReplayed(q1.receiptId, T0 + 500);
        expect((await store.getReceipt(q1.receiptId))?.replayedAt).toBe(T0 + 500);
        expect((await store.getReceipt(q2.receiptId))?.replayedAt).toBeNull();
      });

      it('getReceipt of an unknown id is null', async () => {
        expect(await store.getReceipt(987654)).toBeNull();
      });
    });

    describe('claimRuns', () => {
      it('leases only runs that are due (next_run_at ≤ now), with the call and the lease owner', async () => {
        const v = callVersion(0);
        const result = expectAccepted(await store.acceptDelivery(delivery(v, { receivedAt: T0 + 100 })));
        expect(await claimAll('w1', T0 + 99)).toEqual([]);
        const claimed = await claimAll('w1', T0 + 100);
        expect(ids(claimed)).toEqual(sorted(result.runIds));
        for (const run of claimed) {
          expect(run).toMatchObject({ attempts: 0, isTest: false, revision: 1, leaseOwner: 'w1' });
          expect(run.call).toEqual(v.call);
          expect(typeof run.callRowId).toBe('number');
          expect(run.mappingHash).toBe(run.mappingName === 'crm' ? 'hash-crm-v1' : 'hash-sms-v1');
        }
        expect(claimed[0]!.callRowId).toBe(claimed[1]!.callRowId);
        for (const id of result.runIds) expect((await runOf(id)).status).toBe('running');
        // Leased runs are not handed out again, even much later, while the lease is held.
        expect(await claimAll('w2', T0 + 100 + LEASE / 2)).toEqual([]);
      });

      it('respects the limit and hands out the rest on the next claims', async () => {
        const all: number[] = [];
        for (let id = 1; id <= 3; id++) {
          all.push(...expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id })))).runIds);
        }
        const first = await store.claimRuns('w', 4, T0, LEASE);
        expect(first).toHaveLength(4);
        const second = await store.claimRuns('w', 4, T0, LEASE);
        expect(second).toHaveLength(2);
        expect(await store.claimRuns('w', 4, T0, LEASE)).toEqual([]);
        expect(sorted([...ids(first), ...ids(second)])).toEqual(sorted(all));
      });

      it('never hands the same run to two owners claiming in parallel', async () => {
        const all: number[] = [];
        for (let id = 1; id <= 10; id++) {
          all.push(...expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id })))).runIds);
        }
        const [a, b] = await Promise.all([store.claimRuns('a', 15, T0, LEASE), store.claimRuns('b', 15, T0, LEASE)]);
        const overlap = ids(a!).filter((id) => ids(b!).includes(id));
        expect(overlap).toEqual([]);
        expect(sorted([...ids(a!), ...ids(b!)])).toEqual(sorted(all));
        expect(a!.every((r) => r.leaseOwner === 'a')).toBe(true);
        expect(b!.every((r) => r.leaseOwner === 'b')).toBe(true);
        for (const run of a!) expect((await store.extendLease(run.id, 'b', T0 + LEASE * 2))).toBe(false);

        // Five owners at once, fewer runs than they ask for in total: still disjoint.
        for (let id = 11; id <= 20; id++) await store.acceptDelivery(delivery(callVersion(0, { id })));
        const many = await Promise.all(['c', 'd', 'e', 'f', 'g'].map((o) => store.claimRuns(o, 3, T0, LEASE)));
        const flat = many.flatMap((claimed) => ids(claimed));
        expect(flat).toHaveLength(15);
        expect(new Set(flat).size).toBe(15);
      });

      it("does not hand out revision 2's run of a call and mapping while revision 1's run of it is unfinished", async () => {
        const r1 = expectAccepted(await store.acceptDelivery(delivery(callVersion(0))));
        const r2 = expectAccepted(await store.acceptDelivery(delivery(callVersion(1))));
        const byMapping = async (runIds: number[]) =>
          (await Promise.all(runIds.map(runOf))).sort((x, y) => x.mappingName.localeCompare(y.mappingName));
        const [crm1, sms1] = await byMapping(r1.runIds);
        const [crm2, sms2] = await byMapping(r2.runIds);
        expect([crm1!.mappingName, sms1!.mappingName, crm2!.mappingName, sms2!.mappingName]).toEqual(['crm', 'sms', 'crm', 'sms']);

        // Pending revision 1 blocks revision 2.
        expect(ids(await claimAll('w', T0))).toEqual(sorted([crm1!.id, sms1!.id]));
        // Running revision 1 blocks revision 2.
        expect(await claimAll('w', T0 + 1)).toEqual([]);

        // Revision 1's crm run finishes: revision 2's crm run is free; sms is still blocked.
        expect(await store.completeRun(crm1!.id, 'w', T0 + 2)).toBe(true);
        // Revision 1's sms run goes to retrying (due later): still unfinished, still blocks.
        expect(await store.retryRunLater(sms1!.id, 'w', 'HTTP 503', T0 + 1000, T0 + 2)).toBe(true);
        expect(ids(await claimAll('w', T0 + 3))).toEqual([crm2!.id]);

        // Once due, revision 1's sms run is handed out, revision 2's sms run still not.
        expect(ids(await claimAll('w', T0 + 1000))).toEqual([sms1!.id]);
        expect(await claimAll('w', T0 + 1001)).toEqual([]);
        // A dead run is finished too.
        expect(await store.killRun(sms1!.id, 'w', 'HTTP 400', T0 + 1002)).toBe(true);
        expect(ids(await claimAll('w', T0 + 1003))).toEqual([sms2!.id]);
      });
    });

    describe('steps', () => {
      it('a claimed run carries its step records, as getStepResults reads them', async () => {
        const run = await acceptAndClaim('w');
        expect(run.steps).toEqual([]);
        expect(await store.startStep(run.id, 'w', 'crm', { a: 1 }, 'ih-1', T0 + 10)).toBe(true);
        expect(await store.finishStep(run.id, 'w', 'crm', { status: 'succeeded', output: { id: 'c-1' } }, T0 + 20)).toBe(true);
        expect(await store.startStep(run.id, 'w', 'sms', { to: '+14155550100' }, 'ih-2', T0 + 30)).toBe(true);
        expect(await store.retryRunLater(run.id, 'w', 'HTTP 503', T0 + 100, T0 + 40)).toBe(true);
        const [again] = await claimAll('w2', T0 + 100);
        expect(again!.id).toBe(run.id);
        expect(again!.steps).toEqual(await store.getStepResults(run.id));
        expect(again!.steps.map((s) => [s.stepId, s.status, s.output])).toEqual([
          ['crm', 'succeeded', { id: 'c-1' }],
          ['sms', 'started', null],
        ]);
      });

      it('writes in call order: sent without waiting, they land in call order, so a run ends after its last step record', async () => {
        // The worker relies on this to let a step's record share the next write's commit.
        const run = await acceptAndClaim('w');
        expect(await store.startStep(run.id, 'w', 'crm', { a: 1 }, 'ih', T0 + 10)).toBe(true);
        // Sent together, nothing awaited in between: the record first, then the completion.
        const recorded = store.finishStep(run.id, 'w', 'crm', { status: 'succeeded', output: { id: 'c-1' } }, T0 + 20);
        const skipped = store.finishStep(run.id, 'w', 'sms', { status: 'skipped', error: 'when: false' }, T0 + 21);
        const completed = store.completeRun(run.id, 'w', T0 + 22);
        expect(await Promise.all([recorded, skipped, completed])).toEqual([true, true, true]);
        expect((await store.getStepResults(run.id)).map((s) => [s.stepId, s.status])).toEqual([
          ['crm', 'succeeded'],
          ['sms', 'skipped'],
        ]);
        expect((await store.getRun(run.id))?.status).toBe('succeeded');
        // And the other way round: a record sent after the completion finds the run no longer ours.
        const late = await acceptAndClaim('w', 5002, T0 + 100);
        const done = store.completeRun(late.id, 'w', T0 + 101);
        const after = store.finishStep(late.id, 'w', 'crm', { status: 'succeeded', output: null }, T0 + 102);
        expect(await Promise.all([done, after])).toEqual([true, false]);
      });

      it('writes in call order: a run\'s writes stop at the first that fails, until the run is claimed again', async () => {
        // The worker relies on this to send a run's end while a step's record may still fail.
        const run = await acceptAndClaim('w');
        const other = await acceptAndClaim('w', 5002);
        expect(await store.startStep(run.id, 'w', 'sms', { a: 1 }, 'ih', T0 + 10)).toBe(true);
        // A record that cannot be written (its output cannot be serialized), then the run's
        // end and another run's write, sent together without waiting.
        const lost = store.finishStep(run.id, 'w', 'sms', { status: 'succeeded', output: { n: 1n } }, T0 + 20);
        const completed = store.completeRun(run.id, 'w', T0 + 21);
        const later = store.startStep(run.id, 'w', 'crm', {}, 'ih2', T0 + 22);
        const neighbour = store.completeRun(other.id, 'w', T0 + 23);
        const answers = await Promise.allSettled([lost, completed, later, neighbour]);
        expect(answers.map((a) => a.status)).toEqual(['rejected', 'rejected', 'rejected', 'fulfilled']);
        expect((await runOf(run.id)).status).toBe('running');
        expect((await store.getStepResults(run.id)).map((s) => [s.stepId, s.status])).toEqual([['sms', 'started']]);
        expect((await runOf(other.id)).status).toBe('succeeded');
        // Still refused later, until the run is claimed again (its lease ran out).
        await expect(store.retryRunLater(run.id, 'w', 'x', T0 + 30, T0 + 30)).rejects.toThrow();
        expect(await store.sweepExpiredLeases(T0 + LEASE + 1)).toBe(1);
        const [again] = await claimAll('w', T0 + LEASE + 1);
        expect(again!.id).toBe(run.id);
        expect(await store.completeRun(run.id, 'w', T0 + LEASE + 2)).toBe(true);
      });

      it('startStep and finishStep record attempts, input, output and error', async () => {
        const run = await acceptAndClaim('w');
        expect(await store.startStep(run.id, 'w', 'upsert', { name: 'John' }, 'ih-1', T0 + 10)).toBe(true);
        expect(await store.getStepResults(run.id)).toEqual([
          {
            stepId: 'upsert', status: 'started', input: { name: 'John' }, inputHash: 'ih-1', output: null, error: null,
            attempts: 1, startedAt: T0 + 10, finishedAt: null, evidence: null,
          },
        ]);

        // A failed step keeps the vendor's request and answer as given (the worker masks and bounds them).
        const evidence = { method: 'POST', url: 'https://api.example.com/crm?api_token=[secret]', status: 502, body: '<html>Bad gateway</html>', truncated: false };
        expect(await store.finishStep(run.id, 'w', 'upsert', { status: 'failed', error: 'HTTP 502', evidence }, T0 + 20)).toBe(true);
        expect(await store.getStepResults(run.id)).toEqual([
          {
            stepId: 'upsert', status: 'failed', input: { name: 'John' }, inputHash: 'ih-1', output: null, error: 'HTTP 502',
            attempts: 1, startedAt: T0 + 10, finishedAt: T0 + 20, evidence,
          },
        ]);
        expect((await store.getRun(run.id))!.steps[0]!.evidence).toEqual(evidence);

        expect(await store.startStep(run.id, 'w', 'upsert', { name: 'John D.' }, 'ih-2', T0 + 30)).toBe(true);
        const restarted = (await store.getStepResults(run.id))[0]!;
        expect(restarted).toMatchObject({ status: 'started', attempts: 2, input: { name: 'John D.' }, inputHash: 'ih-2', startedAt: T0 + 30 });
        expect(restarted.finishedAt).toBeNull();
        expect(restarted.error).toBeNull();
        expect(restarted.evidence).toBeNull(); // the evidence of an attempt goes with its error

        expect(await store.finishStep(run.id, 'w', 'upsert', { status: 'succeeded', output: { id: 'crm-7', ok: true } }, T0 + 40)).toBe(true);
        expect(await store.finishStep(
          run.id, 'w', 'sms', { status: 'skipped', output: { reason: 'repeat: never' }, error: 'sent for revision 1', input: { to: '+1234567890' } }, T0 + 50,
        )).toBe(true);

        const steps = (await store.getStepResults(run.id)).sort((a, b) => a.stepId.localeCompare(b.stepId));
        expect(steps).toEqual([
          {
            stepId: 'sms', status: 'skipped', input: { to: '+1234567890' }, inputHash: null, output: { reason: 'repeat: never' },
            error: 'sent for revision 1', attempts: 0, startedAt: T0 + 50, finishedAt: T0 + 50, evidence: null,
          },
          {
            stepId: 'upsert', status: 'succeeded', input: { name: 'John D.' }, inputHash: 'ih-2', output: { id: 'crm-7', ok: true },
            error: null, attempts: 2, startedAt: T0 + 30, finishedAt: T0 + 40, evidence: null,
          },
        ]);
        // Steps of one run are not visible from another.
        const other = await acceptAndClaim('w', 5002);
        expect(await store.getStepResults(other.id)).toEqual([]);
      });

      it('startStep and finishStep return false for an owner that does not hold the run, and write nothing', async () => {
        const run = await acceptAndClaim('w');
        expect(await store.startStep(run.id, 'intruder', 'upsert', { a: 1 }, 'ih', T0 + 1)).toBe(false);
        expect(await store.finishStep(run.id, 'intruder', 'upsert', { status: 'succeeded', output: 1 }, T0 + 2)).toBe(false);
        expect(await store.getStepResults(run.id)).toEqual([]);
        expect(await store.startStep(run.id, 'w', 'upsert', { a: 1 }, 'ih', T0 + 3)).toBe(true);
        expect(await store.finishStep(run.id, 'intruder', 'upsert', { status: 'succeeded', output: 1 }, T0 + 4)).toBe(false);
        expect((await store.getStepResults(run.id))[0]).toMatchObject({ status: 'started', output: null, attempts: 1 });
        // Unknown run ids: false, not an error.
        expect(await store.startStep(987654, 'w', 'upsert', {}, 'ih', T0)).toBe(false);
        expect(await store.finishStep(987654, 'w', 'upsert', { status: 'failed', error: 'x' }, T0)).toBe(false);
      });

      it('findEarlierEffect finds the latest succeeded step of an earlier revision of the same call and mapping only', async () => {
        // Call X: revisions 1 and 2 with crm + sms; call Y: revision 1 with crm; then X revision 3.
        const x1 = expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 100 }))));
        const x2 = expectAccepted(await store.acceptDelivery(delivery(callVersion(1, { id: 100 }))));
        const y1 = expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 200 }), { runs: CRM_ONLY })));

        const round1 = await claimAll('w', T0);
        expect(ids(round1)).toEqual(sorted([...x1.runIds, ...y1.runIds]));
        const byKey = (claimed: ClaimedRun[], runIds: number[], mapping: string) =>
          claimed.find((r) => runIds.includes(r.id) && r.mappingName === mapping)!;
        const x1crm = byKey(round1, x1.runIds, 'crm');
        const x1sms = byKey(round1, x1.runIds, 'sms');
        const y1crm = byKey(round1, y1.runIds, 'crm');
        const X = x1crm.callRowId;
        const Y = y1crm.callRowId;
        expect(X).not.toBe(Y);

        const succeed = async (run: ClaimedRun, step: string, output: unknown, inputHash: string, at: number) => {
          expect(await store.startStep(run.id, 'w', step, { step }, inputHash, at)).toBe(true);
          expect(await store.finishStep(run.id, 'w', step, { status: 'succeeded', output }, at + 1)).toBe(true);
        };
        await succeed(x1crm, 'upsert', { crmId: 'x-rev1' }, 'h-x1', T0 + 10);
        expect(await store.startStep(x1crm.id, 'w', 'note', {}, 'h-note', T0 + 12)).toBe(true);
        expect(await store.finishStep(x1crm.id, 'w', 'note', { status: 'failed', error: 'HTTP 500' }, T0 + 13)).toBe(true);
        await succeed(x1sms, 'send', { sid: 'sms-1' }, 'h-sms1', T0 + 14);
        await succeed(y1crm, 'upsert', { crmId: 'y-rev1' }, 'h-y1', T0 + 16);
        for (const run of round1) expect(await store.completeRun(run.id, 'w', T0 + 20)).toBe(true);

        const round2 = await claimAll('w', T0 + 30);
        expect(ids(round2)).toEqual(sorted(x2.runIds));
        const x2crm = byKey(round2, x2.runIds, 'crm');
        expect(x2crm.callRowId).toBe(X);
        expect(x2crm.revision).toBe(2);
        await succeed(x2crm, 'upsert', { crmId: 'x-rev2' }, 'h-x2', T0 + 40);

        expect(await store.findEarlierEffect(X, 'crm', 'upsert', 3)).toEqual({ revision: 2, outcome: 'succeeded', inputHash: 'h-x2', output: { crmId: 'x-rev2' } });
        expect(await store.findEarlierEffect(X, 'crm', 'upsert', 2)).toEqual({ revision: 1, outcome: 'succeeded', inputHash: 'h-x1', output: { crmId: 'x-rev1' } });
        expect(await store.findEarlierEffect(X, 'crm', 'upsert', 1)).toBeNull();
        // Only failed executions of this step: nothing to reuse.
        expect(await store.findEarlierEffect(X, 'crm', 'note', 3)).toBeNull();
        // The same step id under another mapping of the same call does not count.
        expect(await store.findEarlierEffect(X, 'sms', 'upsert', 3)).toBeNull();
        expect(await store.findEarlierEffect(X, 'sms', 'send', 2)).toEqual({ revision: 1, outcome: 'succeeded', inputHash: 'h-sms1', output: { sid: 'sms-1' } });
        expect(await store.findEarlierEffect(X, 'email', 'upsert', 3)).toBeNull();
        // Other calls are separate.
        expect(await store.findEarlierEffect(Y, 'crm', 'upsert', 2)).toEqual({ revision: 1, outcome: 'succeeded', inputHash: 'h-y1', output: { crmId: 'y-rev1' } });
        expect(await store.findEarlierEffect(Y, 'crm', 'upsert', 1)).toBeNull();
      });

      it('findEarlierEffect with includeUnknown also finds an execution left started (its outcome unknown)', async () => {
        const x1 = expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 300 }), { runs: CRM_ONLY })));
        const x2 = expectAccepted(await store.acceptDelivery(delivery(callVersion(1, { id: 300 }), { runs: CRM_ONLY })));
        expectAccepted(await store.acceptDelivery(delivery(callVersion(2, { id: 300 }), { runs: CRM_ONLY })));
        // Revision 1 sent it; revision 2 was interrupted mid-send and went to the dead letter.
        const [r1] = await claimAll('w', T0);
        expect(r1!.id).toBe(x1.runIds[0]);
        expect(await store.startStep(r1!.id, 'w', 'sms', {}, 'h1', T0 + 1)).toBe(true);
        expect(await store.finishStep(r1!.id, 'w', 'sms', { status: 'succeeded', output: { sid: 's1' } }, T0 + 2)).toBe(true);
        expect(await store.startStep(r1!.id, 'w', 'note', {}, 'hn', T0 + 2)).toBe(true);
        expect(await store.finishStep(r1!.id, 'w', 'note', { status: 'failed', error: 'HTTP 400' }, T0 + 3)).toBe(true);
        expect(await store.completeRun(r1!.id, 'w', T0 + 3)).toBe(true);
        const [r2] = await claimAll('w', T0 + 10);
        expect(r2!.id).toBe(x2.runIds[0]);
        expect(await store.startStep(r2!.id, 'w', 'sms', {}, 'h2', T0 + 11)).toBe(true);
        expect(await store.killRun(r2!.id, 'w', 'STEP_OUTCOME_UNKNOWN: may have gone out', T0 + 12)).toBe(true);
        const X = r1!.callRowId;

        expect(await store.findEarlierEffect(X, 'crm', 'sms', 3)).toEqual({ revision: 1, outcome: 'succeeded', inputHash: 'h1', output: { sid: 's1' } });
        expect(await store.findEarlierEffect(X, 'crm', 'sms', 3, true)).toEqual({ revision: 2, outcome: 'unknown', inputHash: 'h2', output: null });
        expect(await store.findEarlierEffect(X, 'crm', 'sms', 2, true)).toEqual({ revision: 1, outcome: 'succeeded', inputHash: 'h1', output: { sid: 's1' } });
        // A failed execution is not unknown: it did not take effect.
        expect(await store.findEarlierEffect(X, 'crm', 'note', 3, true)).toBeNull();
      });
    });

    describe('run lifecycle', () => {
      it('completeRun finishes a run for its owner only, once', async () => {
        const run = await acceptAndClaim('w');
        expect(await store.completeRun(run.id, 'intruder', T0 + 5)).toBe(false);
        expect((await runOf(run.id)).status).toBe('running');
        expect(await store.completeRun(run.id, 'w', T0 + 5)).toBe(true);
        expect(await runOf(run.id)).toMatchObject({ status: 'succeeded', attempts: 0, updatedAt: T0 + 5 });
        expect(await store.completeRun(run.id, 'w', T0 + 6)).toBe(false);
        expect(await claimAll('w', T0 + LEASE * 10)).toEqual([]);
        expect(await store.completeRun(987654, 'w', T0)).toBe(false);
      });

      it('retryRunLater counts a failed attempt and makes the run claimable only from nextRunAt', async () => {
        const run = await acceptAndClaim('w');
        expect(await store.retryRunLater(run.id, 'intruder', 'HTTP 503', T0 + 5000, T0 + 10)).toBe(false);
        expect(await store.retryRunLater(run.id, 'w', 'HTTP 503', T0 + 5000, T0 + 10)).toBe(true);
        expect(await runOf(run.id)).toMatchObject({ status: 'retrying', attempts: 1, lastError: 'HTTP 503', nextRunAt: T0 + 5000 });
        expect(await claimAll('w', T0 + 4999)).toEqual([]);
        const again = await claimAll('w2', T0 + 5000);
        expect(ids(again)).toEqual([run.id]);
        expect(again[0]).toMatchObject({ attempts: 1, leaseOwner: 'w2' });
        expect(await store.retryRunLater(run.id, 'w2', 'timeout', T0 + 9000, T0 + 5001)).toBe(true);
        expect(await runOf(run.id)).toMatchObject({ status: 'retrying', attempts: 2, lastError: 'timeout', nextRunAt: T0 + 9000 });
        // Not held by anyone now: a retry of the old owner is refused.
        expect(await store.retryRunLater(run.id, 'w2', 'again', T0 + 9500, T0 + 5002)).toBe(false);
      });

      it('killRun dead-letters the run with its error; it is never claimed again', async () => {
        const run = await acceptAndClaim('w');
        expect(await store.killRun(run.id, 'intruder', 'HTTP 400', T0 + 1)).toBe(false);
        expect(await store.killRun(run.id, 'w', 'HTTP 400 Bad Request', T0 + 1)).toBe(true);
        expect(await runOf(run.id)).toMatchObject({ status: 'dead', lastError: 'HTTP 400 Bad Request' });
        expect(await claimAll('w', T0 + LEASE * 100)).toEqual([]);
        expect(await store.sweepExpiredLeases(T0 + LEASE * 100)).toBe(0);
        expect((await runOf(run.id)).status).toBe('dead');
      });

      it('releaseRun gives the run back without spending an attempt', async () => {
        const run = await acceptAndClaim('w');
        expect(await store.releaseRun(run.id, 'intruder')).toBe(false);
        expect(await store.releaseRun(run.id, 'w')).toBe(true);
        expect(await runOf(run.id)).toMatchObject({ status: 'pending', attempts: 0 });
        expect(await store.releaseRun(run.id, 'w')).toBe(false);
        const again = await claimAll('w2', T0 + 1);
        expect(ids(again)).toEqual([run.id]);
        expect(again[0]!.attempts).toBe(0);

        // A run that already failed once keeps exactly that one attempt.
        expect(await store.retryRunLater(run.id, 'w2', 'HTTP 503', T0 + 100, T0 + 2)).toBe(true);
        expect(ids(await claimAll('w3', T0 + 100))).toEqual([run.id]);
        expect(await store.releaseRun(run.id, 'w3')).toBe(true);
        expect((await runOf(run.id)).attempts).toBe(1);
        const third = await claimAll('w4', T0 + 101);
        expect(ids(third)).toEqual([run.id]);
        expect(third[0]!.attempts).toBe(1);
      });

      it('releaseRun with notBefore: no attempt spent, and not due again until then', async () => {
        const run = await acceptAndClaim('w');
        expect(await store.releaseRun(run.id, 'w', T0 + 500)).toBe(true);
        expect(await runOf(run.id)).toMatchObject({ status: 'pending', attempts: 0, nextRunAt: T0 + 500 });
        expect(await claimAll('w2', T0 + 499)).toEqual([]);
        const again = await claimAll('w2', T0 + 500);
        expect(ids(again)).toEqual([run.id]);
        expect(again[0]!.attempts).toBe(0);
      });

      it('extendLease keeps a run from being swept, for its owner only', async () => {
        const run = await acceptAndClaim('w', 5001, T0); // lease until T0 + LEASE
        expect(await store.extendLease(run.id, 'intruder', T0 + 3 * LEASE)).toBe(false);
        expect(await store.extendLease(run.id, 'w', T0 + 3 * LEASE)).toBe(true);
        expect(await store.sweepExpiredLeases(T0 + 2 * LEASE)).toBe(0);
        expect(await claimAll('w2', T0 + 2 * LEASE)).toEqual([]);
        expect(await store.sweepExpiredLeases(T0 + 4 * LEASE)).toBe(1);
        expect(await store.extendLease(run.id, 'w', T0 + 5 * LEASE)).toBe(false);
        expect(await store.extendLease(987654, 'w', T0 + 5 * LEASE)).toBe(false);
      });

      it('sweepExpiredLeases makes expired running runs claimable again and leaves unexpired ones alone', async () => {
        const a = await acceptAndClaim('w1', 1, T0, 1000); // leased until T0 + 1000
        const bResult = expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 2 }), { runs: CRM_ONLY, receivedAt: T0 + 500 })));
        const b = await store.claimRuns('w2', 10, T0 + 500, 1000); // leased until T0 + 1500
        expect(ids(b)).toEqual(bResult.runIds);

        expect(await store.sweepExpiredLeases(T0 + 900)).toBe(0);
        expect((await runOf(a.id)).status).toBe('running');
        expect(await store.sweepExpiredLeases(T0 + 1200)).toBe(1);
        expect((await runOf(a.id)).status).toBe('pending');
        expect((await runOf(b[0]!.id)).status).toBe('running');
        expect((await runOf(a.id)).attempts).toBe(0);

        const reclaimed = await claimAll('w3', T0 + 1200);
        expect(ids(reclaimed)).toEqual([a.id]);
        expect(await store.sweepExpiredLeases(T0 + 1200)).toBe(0);
        expect(await store.completeRun(b[0]!.id, 'w2', T0 + 1300)).toBe(true);
        expect(await store.completeRun(a.id, 'w3', T0 + 1300)).toBe(true);
      });

      it('an owner that lost its lease (swept, re-claimed by another) can no longer touch the run', async () => {
        const run = await acceptAndClaim('old', 5001, T0);
        expect(await store.startStep(run.id, 'old', 'upsert', { a: 1 }, 'ih', T0 + 1)).toBe(true);
        expect(await store.sweepExpiredLeases(T0 + LEASE + 1)).toBe(1);
        // Swept, not yet re-claimed: the old owner is already out.
        expect(await store.finishStep(run.id, 'old', 'upsert', { status: 'succeeded', output: 'late' }, T0 + LEASE + 2)).toBe(false);

        const reclaimed = await claimAll('new', T0 + LEASE + 3);
        expect(ids(reclaimed)).toEqual([run.id]);
        const at = T0 + LEASE + 4;
        expect(await store.startStep(run.id, 'old', 'upsert', { a: 1 }, 'ih', at)).toBe(false);
        expect(await store.finishStep(run.id, 'old', 'upsert', { status: 'succeeded', output: 'late' }, at)).toBe(false);
        expect(await store.extendLease(run.id, 'old', at + LEASE)).toBe(false);
        expect(await store.completeRun(run.id, 'old', at)).toBe(false);
        expect(await store.retryRunLater(run.id, 'old', 'x', at + 10, at)).toBe(false);
        expect(await store.killRun(run.id, 'old', 'x', at)).toBe(false);
        expect(await store.releaseRun(run.id, 'old')).toBe(false);

        const detail = await store.getRun(run.id);
        expect(detail).toMatchObject({ status: 'running', attempts: 0 });
        expect(detail!.steps).toEqual([expect.objectContaining({ stepId: 'upsert', status: 'started', attempts: 1, output: null })]);
        // The new owner still holds it.
        expect(await store.completeRun(run.id, 'new', at + 1)).toBe(true);
      });

      it('requeueDeadRun puts a dead run back with attempts reset and its completed steps kept', async () => {
        const run = await acceptAndClaim('w');
        expect(await store.startStep(run.id, 'w', 'upsert', { a: 1 }, 'ih-up', T0 + 1)).toBe(true);
        expect(await store.finishStep(run.id, 'w', 'upsert', { status: 'succeeded', output: { crmId: 'c-1' } }, T0 + 2)).toBe(true);
        expect(await store.startStep(run.id, 'w', 'sms', { to: '+1' }, 'ih-sms', T0 + 3)).toBe(true);
        expect(await store.finishStep(run.id, 'w', 'sms', { status: 'failed', error: 'HTTP 400' }, T0 + 4)).toBe(true);
        expect(await store.requeueDeadRun(run.id, T0 + 5)).toBe('not-dead'); // running
        expect(await store.retryRunLater(run.id, 'w', 'HTTP 400', T0 + 10, T0 + 5)).toBe(true);
        expect(await store.requeueDeadRun(run.id, T0 + 6)).toBe('not-dead'); // retrying
        expect(ids(await claimAll('w', T0 + 10))).toEqual([run.id]);
        expect(await store.killRun(run.id, 'w', 'HTTP 400', T0 + 11)).toBe(true);

        expect(await store.requeueDeadRun(run.id, T0 + 100)).toBe('requeued');
        expect(await runOf(run.id)).toMatchObject({ status: 'pending', attempts: 0 });
        expect(await store.requeueDeadRun(run.id, T0 + 101)).toBe('not-dead'); // pending
        expect(await store.requeueDeadRun(987654, T0 + 101)).toBe('not-found');

        const steps = (await store.getStepResults(run.id)).sort((a, b) => a.stepId.localeCompare(b.stepId));
        expect(steps.map((s) => [s.stepId, s.status])).toEqual([['sms', 'failed'], ['upsert', 'succeeded']]);
        expect(steps[1]).toMatchObject({ output: { crmId: 'c-1' }, inputHash: 'ih-up', attempts: 1 });

        const again = await claimAll('w2', T0 + 100);
        expect(ids(again)).toEqual([run.id]);
        expect(again[0]!.attempts).toBe(0);
        expect(await store.completeRun(run.id, 'w2', T0 + 200)).toBe(true);
        expect(await store.requeueDeadRun(run.id, T0 + 201)).toBe('not-dead'); // succeeded
      });
    });

    describe('reading runs', () => {
      it('listRuns is newest first, filters by status and pages with beforeId', async () => {
        const all: number[] = [];
        for (let id = 1; id <= 3; id++) all.push(...expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id })))).runIds);
        const newestFirst = [...all].sort((a, b) => b - a);
        expect((await store.listRuns()).map((r) => r.id)).toEqual(newestFirst);

        const page1 = await store.listRuns({ limit: 4 });
        expect(page1.map((r) => r.id)).toEqual(newestFirst.slice(0, 4));
        const page2 = await store.listRuns({ limit: 4, beforeId: page1[3]!.id });
        expect(page2.map((r) => r.id)).toEqual(newestFirst.slice(4));
        expect(await store.listRuns({ limit: 4, beforeId: page2[1]!.id })).toEqual([]);

        // Finish two runs; the status filter sees exactly them, and pages within them.
        const claimed = await store.claimRuns('w', 2, T0, LEASE);
        for (const run of claimed) expect(await store.completeRun(run.id, 'w', T0 + 1)).toBe(true);
        const done = ids(claimed).sort((a, b) => b - a);
        expect((await store.listRuns({ status: 'succeeded' })).map((r) => r.id)).toEqual(done);
        expect((await store.listRuns({ status: 'succeeded', limit: 1 })).map((r) => r.id)).toEqual([done[0]]);
        expect((await store.listRuns({ status: 'succeeded', beforeId: done[0] })).map((r) => r.id)).toEqual([done[1]]);
        expect((await store.listRuns({ status: 'pending' })).map((r) => r.id)).toEqual(newestFirst.filter((id) => !done.includes(id)));
        expect(await store.listRuns({ status: 'dead' })).toEqual([]);
      });

      it('listRuns search finds runs by call id, or by the customer phone of their own revision', async () => {
        const withPhone = (id: number, phone: string, n = 0) =>
          variant('seed-001-autocalls', (payload) => {
            payload.id = id;
            payload.customer_phone = phone;
            if (n > 0) (payload.extracted_variables as Record<string, unknown>).evaluation = `re-evaluated ${n}`;
          });
        const a1 = expectAccepted(await store.acceptDelivery(delivery(withPhone(701, '+14155550101'), { runs: CRM_ONLY })));
        // Re-evaluated with another phone: revision 2's run has the new phone, revision 1's the old one.
        const a2 = expectAccepted(await store.acceptDelivery(delivery(withPhone(701, '+14155550199', 1), { runs: CRM_ONLY })));
        const b = expectAccepted(await store.acceptDelivery(delivery(withPhone(702, '+14155550101'), { runs: CRM_ONLY })));
        expectAccepted(await store.acceptDelivery(delivery(withPhone(703, '+14155550303'), { runs: CRM_ONLY })));

        const found = async (search: string) => (await store.listRuns({ search })).map((r) => r.id);
        expect(await found('701')).toEqual([a2.runIds[0], a1.runIds[0]]);
        expect(await found('+1 (415) 555-0101')).toEqual([b.runIds[0], a1.runIds[0]]);
        expect(await found('+14155550199')).toEqual([a2.runIds[0]]);
        expect(await found('999')).toEqual([]);
        expect((await store.listRuns({ search: '+14155550101', limit: 1 })).map((r) => r.id)).toEqual([b.runIds[0]]);
        expect((await store.listRuns({ search: '701', status: 'dead' })).map((r) => r.id)).toEqual([]);
      });

      it('getRun includes the call of its revision and its steps; unknown ids are null', async () => {
        const v1 = callVersion(0);
        const v2 = callVersion(1);
        const r1 = expectAccepted(await store.acceptDelivery(delivery(v1, { runs: CRM_ONLY })));
        const r2 = expectAccepted(await store.acceptDelivery(delivery(v2, { runs: CRM_ONLY, receivedAt: T0 + 50 })));
        const [claimed] = await claimAll('w', T0 + 50);
        expect(claimed!.id).toBe(r1.runIds[0]);
        expect(await store.startStep(claimed!.id, 'w', 'upsert', { a: 1 }, 'ih', T0 + 60)).toBe(true);

        const detail = await store.getRun(r1.runIds[0]!);
        expect(detail).toMatchObject({
          id: r1.runIds[0], sender: 'autocalls', callId: '12345', revision: 1, mappingName: 'crm', status: 'running',
          isTest: false, attempts: 0, lastError: null, createdAt: T0,
        });
        expect(detail!.call).toEqual(v1.call);
        expect(detail!.steps).toEqual([
          { stepId: 'upsert', status: 'started', input: { a: 1 }, inputHash: 'ih', output: null, error: null, attempts: 1, startedAt: T0 + 60, finishedAt: null, evidence: null },
        ]);
        const second = await store.getRun(r2.runIds[0]!);
        expect(second).toMatchObject({ revision: 2, status: 'pending', createdAt: T0 + 50 });
        expect(second!.call).toEqual(v2.call);
        expect(second!.steps).toEqual([]);
        expect(await store.getRun(987654)).toBeNull();
      });

      it('countRunsByStatus counts every status', async () => {
        expect(normalizedCounts(await store.countRunsByStatus())).toEqual({ pending: 0, running: 0, retrying: 0, succeeded: 0, dead: 0, 'invalid-variables': 0, skipped: 0 });
        for (let id = 1; id <= 7; id++) {
          await store.acceptDelivery(delivery(callVersion(0, { id }), { runs: CRM_ONLY, isTest: id === 7 }));
        }
        const claimed = await store.claimRuns('w', 5, T0, LEASE);
        expect(claimed).toHaveLength(5);
        const [c0, c1, c2, c3] = claimed;
        expect(await store.completeRun(c0!.id, 'w', T0 + 1)).toBe(true);
        expect(await store.completeRun(c1!.id, 'w', T0 + 1)).toBe(true);
        expect(await store.killRun(c2!.id, 'w', 'x', T0 + 1)).toBe(true);
        expect(await store.retryRunLater(c3!.id, 'w', 'x', T0 + 100, T0 + 1)).toBe(true);
        expect(normalizedCounts(await store.countRunsByStatus())).toEqual({ pending: 2, running: 1, retrying: 1, succeeded: 2, dead: 1, 'invalid-variables': 0, skipped: 0 });
      });
    });

    describe('scores, invalid variables and retention', () => {
      it('saveRunScore stores the score with the run; invalid-variables is requeueable with the current mapping', async () => {
        const accepted = expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 61 }), { runs: CRM_ONLY })));
        const [run] = await store.claimRuns('w', 1, T0, LEASE);
        const score = { value: 72.5, band: 'hot', fired: [{ source: 'weight budget', add: 72.5 }] };
        expect(await store.saveRunScore(run!.id, 'other-owner', score)).toBe(false);
        expect(await store.saveRunScore(run!.id, 'w', score)).toBe(true);
        expect(await store.killRun(run!.id, 'w', 'INVALID_VARIABLES: extracted.budget: missing', T0 + 1, 'invalid-variables')).toBe(true);
        const [summary] = await store.listRuns({ status: 'invalid-variables' });
        expect(summary).toMatchObject({ id: accepted.runIds[0], status: 'invalid-variables', score, mappingHash: 'hash-crm-v1' });
        expect(await store.requeueDeadRun(run!.id, T0 + 2)).toBe('requeued');
        const [again] = await store.claimRuns('w', 1, T0 + 2, LEASE);
        expect(again).toMatchObject({ id: run!.id, mappingName: 'crm', mappingHash: 'operator-retry', attempts: 0 });
      });

      it('purgePayloads drops old bodies and transcripts of finished revisions, and dedupe still holds', async () => {
        const old = callVersion(0, { id: 71 });
        const fresh = callVersion(0, { id: 72 });
        const busy = callVersion(0, { id: 73 });
        expectAccepted(await store.acceptDelivery(delivery(old, { runs: CRM_ONLY, receivedAt: T0 })));
        expectAccepted(await store.acceptDelivery(delivery(busy, { runs: CRM_ONLY, receivedAt: T0 })));
        expectAccepted(await store.acceptDelivery(delivery(fresh, { runs: CRM_ONLY, receivedAt: T0 + 10_000 })));
        const claimed = await store.claimRuns('w', 3, T0 + 10_000, LEASE);
        const byCall = new Map<string, ClaimedRun>(claimed.map((c) => [String(c.call.id), c]));
        for (const id of ['71', '72']) {
          const run = byCall.get(id)!;
          await store.startStep(run.id, 'w', 'crm', { phone: '+14155550100', note: run.call.transcript.text }, 'h', T0 + 10_001);
          await store.finishStep(run.id, 'w', 'crm', { status: 'succeeded', output: { id: 'c1' } }, T0 + 10_002);
          await store.completeRun(run.id, 'w', T0 + 10_003);
        }
        // Call 73 is still running: its payload is needed and stays.
        expect(await store.purgePayloads(T0 + 5_000, T0 + 20_000)).toEqual({ receipts: 2, revisions: 1 });
        const oldRun = (await store.getRun(byCall.get('71')!.id))!;
        expect(oldRun.call.transcript).toEqual({ turns: [], text: '' });
        expect(oldRun.call.customer_phone).toBe(old.call.customer_phone);
        expect(oldRun.steps[0]).toMatchObject({ status: 'succeeded', input: null, output: { id: 'c1' } });
        expect((await store.getRun(byCall.get('73')!.id))!.call.transcript).toEqual(busy.call.transcript);
        expect((await store.getRun(byCall.get('72')!.id))!.call.transcript).toEqual(fresh.call.transcript);
        // A late resend of the purged call is still a duplicate.
        expect(await store.acceptDelivery(delivery(old, { runs: CRM_ONLY }))).toMatchObject({ outcome: 'duplicate', revision: 1 });
        // Nothing left to purge the second time.
        expect(await store.purgePayloads(T0 + 5_000, T0 + 30_000)).toEqual({ receipts: 0, revisions: 0 });
      });
    });

    describe('getCallPayloads', () => {
      it("gives each revision's body as received, per sender, the newest without a revision, and none once purged", async () => {
        const first = callVersion(0, { id: 91 });
        const second = callVersion(1, { id: 91 });
        expectAccepted(await store.acceptDelivery(delivery(first, { requestId: 'req-91-1', runs: CRM_ONLY, receivedAt: T0 })));
        // A resend of revision 1 (no body kept) must not hide the accepted one.
        await store.acceptDelivery(delivery(first, { runs: CRM_ONLY, receivedAt: T0 + 5 }));
        expectAccepted(await store.acceptDelivery(delivery(second, { requestId: 'req-91-2', runs: CRM_ONLY, receivedAt: T0 + 10 })));
        // The same call id from another sender is another call.
        const other = callVersion(0, { id: 91 });
        expectAccepted(await store.acceptDelivery(delivery(other, { requestId: 'req-91-famulor', sender: 'famulor', runs: CRM_ONLY, receivedAt: T0 + 20 })));
        // Another call received at the same time as revision 1 is not confused with it.
        expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 92 }), { runs: CRM_ONLY, receivedAt: T0 })));

        const latest = await store.getCallPayloads('91');
        expect(latest).toEqual([
          { sender: 'autocalls', callId: '91', revision: 2, latestRevision: 2, receivedAt: T0 + 10, requestId: 'req-91-2', body: second.rawBody.toString('utf8') },
          { sender: 'famulor', callId: '91', revision: 1, latestRevision: 1, receivedAt: T0 + 20, requestId: 'req-91-famulor', body: other.rawBody.toString('utf8') },
        ]);
        expect(await store.getCallPayloads('91', 1)).toEqual([
          { sender: 'autocalls', callId: '91', revision: 1, latestRevision: 2, receivedAt: T0, requestId: 'req-91-1', body: first.rawBody.toString('utf8') },
          { sender: 'famulor', callId: '91', revision: 1, latestRevision: 1, receivedAt: T0 + 20, requestId: 'req-91-famulor', body: other.rawBody.toString('utf8') },
        ]);
        expect(await store.getCallPayloads('91', 3)).toEqual([]);
        expect(await store.getCallPayloads('404')).toEqual([]);

        await store.purgePayloads(T0 + 15, T0 + 30);
        const purged = await store.getCallPayloads('91', 1);
        expect(purged.map((p) => [p.sender, p.revision, p.requestId, p.body])).toEqual([['autocalls', 1, null, null], ['famulor', 1, 'req-91-famulor', other.rawBody.toString('utf8')]]);
      });
    });

    describe('operator re-run and queue statistics', () => {
      it('requeueForRerun: succeeded steps become done-before, skipped ones are forgotten, started ones failed', async () => {
        expectAccepted(await store.acceptDelivery(delivery(callVersion(0, { id: 81 }), { runs: CRM_ONLY })));
        const [run] = await store.claimRuns('w', 1, T0, LEASE);
        await store.startStep(run!.id, 'w', 'a', { x: 1 }, 'hash-a', T0 + 1);
        await store.finishStep(run!.id, 'w', 'a', { status: 'succeeded', output: { id: 'A' } }, T0 + 2);
        await store.finishStep(run!.id, 'w', 'b', { status: 'skipped', error: 'when is false' }, T0 + 3);
        expect(await store.requeueForRerun(run!.id, T0 + 4)).toBe('not-finished');
        await store.completeRun(run!.id, 'w', T0 + 5);
        expect(await store.requeueForRerun(run!.id, T0 + 6)).toBe('requeued');
        expect(await store.requeueForRerun(999_999, T0 + 6)).toBe('not-found');
        const steps = await store.getStepResults(run!.id);
        expect(steps).toEqual([expect.objectContaining({ stepId: 'a', status: 'done-before', inputHash: 'hash-a', output: { id: 'A' } })]);
        const [again] = await store.claimRuns('w2', 1, T0 + 6, LEASE);
        expect(again).toMatchObject({ id: run!.id, mappingHash: 'operator-retry', attempts: 0 });
      });

      it('a planned run with a skip reason is recorded finished as skipped and never claimed', async () => {
        const accepted = expectAccepted(
          await store.acceptDelivery(
            delivery(callVersion(0, { id: 95 }), { runs: [{ mappingName: '(no mapping)', mappingHash: '', skipReason: 'no mapping matched' }] }),
          ),
        );
        expect(await store.claimRuns('w', 10, T0 + 10_000, LEASE)).toEqual([]);
        expect(await store.queueStats(T0 + 10_000)).toEqual({ depth: 0, oldestDueAt: null });
        const [run] = await store.listRuns();
        expect(run).toMatchObject({ id: accepted.runIds[0], status: 'skipped', lastError: 'no mapping matched', finishedAt: T0 });
      });

      it('queueStats counts due, unclaimed runs and the oldest due time', async () => {
        expect(await store.queueStats(T0)).toEqual({ depth: 0, oldestDueAt: null });
        for (let id = 91; id <= 93; id++) {
          await store.acceptDelivery(delivery(callVersion(0, { id }), { runs: CRM_ONLY, receivedAt: T0 + id }));
        }
        expect(await store.queueStats(T0 + 1_000)).toEqual({ depth: 3, oldestDueAt: T0 + 91 });
        const [first] = await store.claimRuns('w', 1, T0 + 1_000, LEASE);
        await store.retryRunLater(first!.id, 'w', 'x', T0 + 5_000, T0 + 1_000);
        expect(await store.queueStats(T0 + 1_000)).toEqual({ depth: 2, oldestDueAt: T0 + 92 });
        expect(await store.queueStats(T0 + 5_000)).toEqual({ depth: 3, oldestDueAt: T0 + 92 });
      });
    });
  });
}
