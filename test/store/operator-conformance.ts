// What the Runs page reads of a store, as executable tests every backend runs: sender headers
// on receipts, dismissing quarantined bodies, free-text search, paging both ways, the bounded
// count, one call's history, the runs of a page's calls, and the activity buckets.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlannedRun, Store } from '../../src/store/store.js';
import { delivery, expectAccepted, T0, variant, type OpenedStore } from './store-conformance.js';

const CRM: PlannedRun[] = [{ mappingName: 'crm', mappingHash: 'h-crm' }];
const LEASE = 60_000;
const HOUR = 3_600_000;

/** The seed fixture as call `id`, with a phone, a summary and a campaign name of our choosing. */
function call(id: number, options: { phone?: string; summary?: string; campaign?: string; n?: number } = {}) {
  return variant('seed-001-autocalls', (payload) => {
    payload.id = id;
    if (options.phone) payload.customer_phone = options.phone;
    const vars = payload.extracted_variables as Record<string, unknown>;
    if (options.summary) vars.summary = options.summary;
    if (options.n) vars.evaluation = `re-evaluated ${options.n}`;
    if (options.campaign) {
      const lead = payload.lead as Record<string, unknown> | undefined;
      const campaign = (lead?.campaign ?? payload.campaign) as Record<string, unknown> | undefined;
      if (campaign) campaign.name = options.campaign;
    }
  });
}

export function describeOperatorConformance(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Operator queries: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('keeps the sender headers of accepted, duplicate and quarantined deliveries, and dismisses quarantined ones', async () => {
      const headers = { 'user-agent': 'autocalls/1.0', 'x-signature': '[redacted]' };
      const v = call(801);
      const first = expectAccepted(await store.acceptDelivery(delivery(v, { runs: CRM, headers, requestId: 'req-a' })));
      const again = await store.acceptDelivery(delivery(v, { runs: CRM, headers: { 'user-agent': 'retry/2' }, requestId: 'req-b', receivedAt: T0 + 9 }));
      expect(again.outcome).toBe('duplicate');
      expect((await store.getReceipt(first.receiptId))?.headers).toEqual(headers);
      expect((await store.getReceipt(again.receiptId))?.headers).toEqual({ 'user-agent': 'retry/2' });

      const q = await store.quarantineDelivery({
        requestId: 'req-q', sender: 'autocalls', receivedAt: T0, rawBody: Buffer.from('{'), reason: 'malformed-json', issues: [], headers,
      });
      const kept = await store.quarantineDelivery({ requestId: 'req-k', sender: 'autocalls', receivedAt: T0, rawBody: Buffer.from('['), reason: 'malformed-json', issues: [] });
      expect((await store.getReceipt(q.receiptId))?.headers).toEqual(headers);
      expect((await store.listQuarantine()).map((r) => r.id)).toEqual([kept.receiptId, q.receiptId]);
      expect(await store.dismissQuarantined(q.receiptId, T0 + 100)).toBe(true);
      expect(await store.dismissQuarantined(q.receiptId, T0 + 101)).toBe(false);
      expect(await store.dismissQuarantined(first.receiptId, T0 + 101)).toBe(false); // not quarantined
      expect((await store.listQuarantine()).map((r) => r.id)).toEqual([kept.receiptId]);
      expect((await store.getReceipt(q.receiptId))?.dismissedAt).toBe(T0 + 100);
    });

    it('a call history holds every revision, every delivery with its request id, and every run', async () => {
      const v1 = call(802);
      const v2 = call(802, { n: 1 });
      const a = expectAccepted(await store.acceptDelivery(delivery(v1, { requestId: 'r-1', receivedAt: T0, headers: { 'user-agent': 'one' } })));
      await store.acceptDelivery(delivery(v1, { requestId: 'r-dup', receivedAt: T0 + 5 }));
      const b = expectAccepted(await store.acceptDelivery(delivery(v2, { requestId: 'r-2', receivedAt: T0 + 10 })));
      expectAccepted(await store.acceptDelivery(delivery(call(803), { requestId: 'r-other', receivedAt: T0 + 11 })));

      const history = await store.getCallHistory('autocalls', '802');
      expect(history).toMatchObject({ sender: 'autocalls', callId: '802', latestRevision: 2, createdAt: T0, updatedAt: T0 + 10 });
      expect(history!.revisions.map((r) => [r.revision, r.createdAt, r.isTest])).toEqual([[1, T0, false], [2, T0 + 10, false]]);
      expect(history!.revisions[1]!.call).toEqual(v2.call);
      expect(history!.deliveries.map((d) => [d.requestId, d.outcome, d.revision, d.receivedAt])).toEqual([
        ['r-1', 'accepted', 1, T0],
        ['r-dup', 'duplicate', 1, T0 + 5],
        ['r-2', 'accepted', 2, T0 + 10],
      ]);
      expect(history!.deliveries[0]!.headers).toEqual({ 'user-agent': 'one' });
      expect(history!.runs.map((r) => r.id)).toEqual([...b.runIds, ...a.runIds].sort((x, y) => y - x));
      expect(await store.getCallHistory('autocalls', '999')).toBeNull();
      expect(await store.getCallHistory('famulor', '802')).toBeNull();

      const folded = await store.listCallRuns([{ sender: 'autocalls', callId: '802' }, { sender: 'autocalls', callId: '803' }]);
      expect(new Set(folded.map((r) => r.callId))).toEqual(new Set(['802', '803']));
      expect(folded.map((r) => r.id)).toEqual([...folded.map((r) => r.id)].sort((x, y) => y - x));
      expect(folded).toHaveLength(6);
      expect(await store.listCallRuns([])).toEqual([]);
    });

    it('searches call ids, phones in any format, campaign, mapping and summary words, all words required', async () => {
      const ids = async (search: string) => (await store.listRuns({ search })).map((r) => r.callId);
      await store.acceptDelivery(delivery(call(811, { phone: '+14155550142', summary: 'Booked a dental appointment for Tuesday', campaign: 'Spring Reactivation' }), { runs: CRM }));
      await store.acceptDelivery(delivery(call(812, { phone: '+4915112345678', summary: 'Customer asked for a callback on Tuesday' }), { runs: [{ mappingName: 'sms-followup', mappingHash: 'h' }] }));

      expect(await ids('811')).toEqual(['811']);
      expect(await ids('4155550142')).toEqual(['811']);
      expect(await ids('+1 415…')).toEqual(['811']);
      expect(await ids('(415) 555-0142')).toEqual(['811']);
      expect(await ids('0151 1234')).toEqual([]); // a national prefix with its trunk 0 is not the number
      expect(await ids('151 1234 5678')).toEqual(['812']);
      expect(await ids('tuesday')).toEqual(['812', '811']);
      expect(await ids('Tuesday dental')).toEqual(['811']);
      expect(await ids('appoint')).toEqual(['811']); // the last word is a prefix
      expect(await ids('dental appoint')).toEqual(['811']);
      expect(await ids('appoint dental')).toEqual([]); // the others are whole words
      expect(await ids('spring reactivation')).toEqual(['811']);
      expect(await ids('sms-followup')).toEqual(['812']);
      expect(await ids('tuesday nowhere')).toEqual([]);
      expect(await ids('"*) OR 1=1 --')).toEqual([]); // words only: nothing of the query is syntax
      expect(await ids('…')).toEqual([]);
      expect((await store.listRuns({ search: 'tuesday', mappingName: 'crm' })).map((r) => r.callId)).toEqual(['811']);
    });

    it('a search pages within its window: the cursor and the time range bound the revisions it reads', async () => {
      const runIds: number[] = [];
      for (let i = 0; i < 6; i++) {
        const v = call(840 + i, { summary: 'Wants a quote for solar panels' });
        runIds.push(...expectAccepted(await store.acceptDelivery(delivery(v, { runs: CRM, receivedAt: T0 + i * 1000 }))).runIds);
      }
      const newest = [...runIds].sort((a, b) => b - a);
      const search = 'solar panel';
      const page1 = await store.listRuns({ search, limit: 2 });
      expect(page1.map((r) => r.id)).toEqual(newest.slice(0, 2));
      const page2 = await store.listRuns({ search, limit: 2, beforeId: page1[1]!.id });
      expect(page2.map((r) => r.id)).toEqual(newest.slice(2, 4));
      expect((await store.listRuns({ search, limit: 2, afterId: page2[0]!.id })).map((r) => r.id)).toEqual(newest.slice(0, 2));
      expect((await store.listRuns({ search, afterId: newest[0] })).map((r) => r.id)).toEqual([]);
      // The two oldest by time, though four newer ones match too.
      expect((await store.listRuns({ search, createdTo: T0 + 2000 })).map((r) => r.id)).toEqual(newest.slice(4));
      expect((await store.listRuns({ search, createdFrom: T0 + 4000 })).map((r) => r.id)).toEqual(newest.slice(0, 2));
      expect((await store.listRuns({ search, createdFrom: T0 + 1000, createdTo: T0 + 3000 })).map((r) => r.id)).toEqual(newest.slice(3, 5));
      expect(await store.countRuns({ search, createdFrom: T0 + 1000 })).toEqual({ count: 5, atLeast: false });
      expect(await store.countRuns({ search: 'quote solar', createdTo: T0 + 1 })).toEqual({ count: 1, atLeast: false });
    });

    it('pages both ways and counts matches up to a bound', async () => {
      const all: number[] = [];
      for (let id = 821; id <= 825; id++) all.push(...expectAccepted(await store.acceptDelivery(delivery(call(id), { runs: CRM }))).runIds);
      const newest = [...all].sort((a, b) => b - a);
      const page1 = await store.listRuns({ limit: 2 });
      const page2 = await store.listRuns({ limit: 2, beforeId: page1[1]!.id });
      expect(page2.map((r) => r.id)).toEqual(newest.slice(2, 4));
      // Back from page 2: the two just newer, still newest first.
      expect((await store.listRuns({ limit: 2, afterId: page2[0]!.id })).map((r) => r.id)).toEqual(newest.slice(0, 2));
      expect((await store.listRuns({ limit: 2, afterId: newest[4] })).map((r) => r.id)).toEqual(newest.slice(2, 4));
      expect(await store.listRuns({ afterId: newest[0] })).toEqual([]);

      expect(await store.countRuns()).toEqual({ count: 5, atLeast: false });
      expect(await store.countRuns({ beforeId: newest[0], limit: 1 })).toEqual({ count: 5, atLeast: false }); // paging ignored
      expect(await store.countRuns({}, 3)).toEqual({ count: 3, atLeast: true });
      expect(await store.countRuns({ search: '823' })).toEqual({ count: 1, atLeast: false });
      expect(await store.countRuns({ status: 'dead' })).toEqual({ count: 0, atLeast: false });
    });

    it('activity counts calls received and runs ended per bucket, and step outcomes per mapping and step', async () => {
      // Buckets are whole hours of the epoch.
      const H0 = Math.ceil(T0 / HOUR) * HOUR;
      const a = expectAccepted(await store.acceptDelivery(delivery(call(831), { runs: CRM, receivedAt: H0 + 10 })));
      const b = expectAccepted(await store.acceptDelivery(delivery(call(832), { runs: CRM, receivedAt: H0 + HOUR + 10 })));
      expectAccepted(await store.acceptDelivery(delivery(call(833), { runs: CRM, receivedAt: H0 + 5 * HOUR })));
      const claimed = await store.claimRuns('w', 2, H0 + 2 * HOUR, LEASE);
      expect(claimed.map((r) => r.id).sort()).toEqual([a.runIds[0], b.runIds[0]].sort());
      expect(await store.startStep(a.runIds[0]!, 'w', 'upsert', {}, 'ih', H0 + HOUR)).toBe(true);
      expect(await store.finishStep(a.runIds[0]!, 'w', 'upsert', { status: 'succeeded', output: {} }, H0 + HOUR)).toBe(true);
      expect(await store.completeRun(a.runIds[0]!, 'w', H0 + HOUR + 20)).toBe(true);
      expect(await store.startStep(b.runIds[0]!, 'w', 'upsert', {}, 'ih', H0 + HOUR)).toBe(true);
      expect(await store.finishStep(b.runIds[0]!, 'w', 'upsert', { status: 'failed', error: 'no' }, H0 + HOUR)).toBe(true);
      expect(await store.killRun(b.runIds[0]!, 'w', 'no', H0 + HOUR + 30)).toBe(true);

      const seen = await store.activity(H0, H0 + 4 * HOUR, HOUR);
      expect(seen.buckets).toEqual([
        { at: H0, calls: 1, succeeded: 0, failed: 0 },
        { at: H0 + HOUR, calls: 1, succeeded: 1, failed: 1 },
        { at: H0 + 2 * HOUR, calls: 0, succeeded: 0, failed: 0 },
        { at: H0 + 3 * HOUR, calls: 0, succeeded: 0, failed: 0 },
      ]);
      // Six-hour buckets add the hours up.
      expect((await store.activity(H0, H0 + 12 * HOUR, 6 * HOUR)).buckets).toEqual([
        { at: H0, calls: 3, succeeded: 1, failed: 1 },
        { at: H0 + 6 * HOUR, calls: 0, succeeded: 0, failed: 0 },
      ]);
      expect(seen.steps).toEqual([{ mappingName: 'crm', stepId: 'upsert', succeeded: 1, failed: 1 }]);
      expect((await store.activity(H0 + 5 * HOUR, H0 + 6 * HOUR, HOUR)).buckets).toEqual([{ at: H0 + 5 * HOUR, calls: 1, succeeded: 0, failed: 0 }]);
    });
  });
}
