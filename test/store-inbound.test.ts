// The inbound_requests table and the earlier_calls read, on every backend: SQLite in process,
// SQLite on its thread (what the service runs: bodies cross as Uint8Array) and PostgreSQL
// (skipped, with a warning, without TEST_DATABASE_URL).
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { openThreadedSqliteStore } from '../src/store/sqlite/threaded-sqlite-store.js';
import type { InboundRecordInput, Store } from '../src/store/store.js';
import { callVersion, delivery, T0, variant } from './store/store-conformance.js';
import { postgresSuite } from './support/postgres-suite.js';
import { tempDir } from './support/temp-dir.js';
import { TEST_DATABASE_URL, warnWhenNoDatabase } from './support/test-database.js';

warnWhenNoDatabase('test/store-inbound.test.ts');

function inbound(overrides: Partial<InboundRecordInput> = {}): InboundRecordInput {
  return {
    requestId: 'req-in-1',
    sender: 'default',
    receivedAt: T0,
    outcome: 'answered',
    status: 200,
    customerPhone: '+15550100001',
    assistantPhone: '+15550100999',
    rawBody: Buffer.from('{"customer_phone":"+15550100001","assistant_phone":"+15550100999"}'),
    answer: { customer_name: 'Ada' },
    mappings: ['support-triage'],
    lookups: [
      { name: 'crm', mapping: 'support-triage', use: 'hubspot.contact.find_by_phone', outcome: 'ok', ms: 12 },
      { name: 'api', mapping: 'support-triage', use: 'http.request', outcome: 'timeout', ms: 1500, error: 'no answer within 1500 ms' },
    ],
    durationMs: 1501,
    deadlineHit: true,
    ...overrides,
  };
}

function describeInboundStore(name: string, open: () => Promise<{ store: Store; cleanup(): Promise<void> }>) {
  describe(`inbound requests: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });
    afterEach(async () => cleanup());

    it('keeps a request with its body, answer and lookup outcomes, newest first in the list', async () => {
      const first = await store.recordInbound(inbound());
      const second = await store.recordInbound(
        inbound({ requestId: 'req-in-2', outcome: 'invalid', status: 422, rawBody: Buffer.from('{"customer_phone":5}'), answer: { error: 'x' }, mappings: [], lookups: [], deadlineHit: false }),
      );
      const list = await store.listInbound(10);
      expect(list.map((r) => r.id)).toEqual([second.id, first.id]);
      expect(list[1]).toMatchObject({ requestId: 'req-in-1', outcome: 'answered', status: 200, customerPhone: '+15550100001', mappings: ['support-triage'], deadlineHit: true, problems: 1 });
      expect(list[0]).toMatchObject({ outcome: 'invalid', status: 422, deadlineHit: false, problems: 0 });

      const detail = await store.getInbound(first.id);
      expect(Buffer.isBuffer(detail!.rawBody)).toBe(true);
      expect(detail!.rawBody.toString()).toBe('{"customer_phone":"+15550100001","assistant_phone":"+15550100999"}');
      expect(detail!.answer).toEqual({ customer_name: 'Ada' });
      expect(detail!.lookups.map((l) => [l.name, l.outcome])).toEqual([['crm', 'ok'], ['api', 'timeout']]);
      expect(await store.getInbound(second.id + 100)).toBeNull();
    });

    it('earlier_calls: how many calls a number made, and the newest one\'s time, summary and status', async () => {
      expect(await store.earlierCalls('+4917612345098')).toEqual({ count: 0, last_call_at: null, last_summary: null, last_status: null });
      const older = callVersion(0, { id: 7001, fixtureName: 'support-triage' });
      await store.acceptDelivery(delivery(older, { receivedAt: T0 }));
      // A second revision of the same call counts once; another call of the number counts again.
      await store.acceptDelivery(delivery(callVersion(1, { id: 7001, fixtureName: 'support-triage' }), { receivedAt: T0 + 1_000 }));
      const newer = variant('support-triage', (p) => {
        p.id = 7002;
        (p.extracted_variables as Record<string, unknown>).summary = 'Router replaced, works again';
        p.finished_at = '2025-03-08T09:00:00Z';
      });
      await store.acceptDelivery(delivery(newer, { receivedAt: T0 + 2_000 }));
      // Test deliveries are not earlier calls.
      await store.acceptDelivery(delivery(variant('support-triage', (p) => (p.id = 7003)), { receivedAt: T0 + 3_000, isTest: true }));
      expect(await store.earlierCalls('+4917612345098')).toEqual({
        count: 2,
        last_call_at: '2025-03-08T09:00:00.000Z',
        last_summary: 'Router replaced, works again',
        last_status: 'completed',
      });
      expect((await store.earlierCalls('+15550109999')).count).toBe(0);
    });
  });
}

describeInboundStore('sqlite', async () => {
  const dir = tempDir();
  const store = await openSqliteStore({ path: join(dir.path, 'a.db') });
  return { store, cleanup: async () => { await store.close(); dir.cleanup(); } };
});

describeInboundStore('sqlite on its thread', async () => {
  const dir = tempDir();
  const store = await openThreadedSqliteStore({ path: join(dir.path, 'a.db') });
  return { store, cleanup: async () => { await store.close(); dir.cleanup(); } };
});

describe.skipIf(!TEST_DATABASE_URL)('PostgreSQL', () => {
  const suite = postgresSuite();
  describeInboundStore('postgres', async () => {
    await suite.schema.truncate();
    const store = await openPostgresStore({ connectionString: suite.schema.url });
    return { store, cleanup: () => store.close() };
  });
});
