// HubSpot writes of steps running at the same time go out as one batch request (write-batches.ts),
// with the real @hubspot/api-client against the stub: each step still gets its own record and,
// when the batch does not settle it, the answer of its own request.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PermanentError, TransientError } from '../../src/connectors/connector.js';
import { hubspotStatus, withHubSpot } from '../../src/connectors/hubspot/client.js';
import { createObject, updateObject } from '../../src/connectors/hubspot/crm.js';
import { MAX_BATCH_INPUTS } from '../../src/connectors/hubspot/write-batches.js';
import { fakeHubSpot } from './support/fake-vendors.js';
import { runStep, stepContext } from './support/step-harness.js';
import { startVendorStub, type VendorStub } from './support/vendor-stub.js';

let stub: VendorStub;
let hubspot: ReturnType<typeof fakeHubSpot>;
beforeEach(async () => {
  hubspot = fakeHubSpot();
  stub = await startVendorStub(hubspot.route);
  vi.stubEnv('HUBSPOT_ACCESS_TOKEN', 'pat-na1-test-token');
  vi.stubEnv('HUBSPOT_BASE_URL', stub.url);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await stub.close();
});

const note = (i: number) => ({ body: `note ${i}`, contact_id: String(100 + i) });
const notesAtOnce = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => runStep('hubspot.note.create', note(i))));
const bodyOf = (id: string) => hubspot.objects.notes!.find((o) => o.id === id)!.properties.hs_note_body;
type Settled<T> = { value?: T; error?: Error & { retryAfterMs?: number } };
const settle = <T>(work: Promise<T>): Promise<Settled<T>> =>
  work.then((value) => ({ value }), (error: unknown) => ({ error: error as Error & { retryAfterMs?: number } }));

describe('HubSpot writes batched across steps', () => {
  it('notes created at once go out as one batch; each step gets the record made from its own input', async () => {
    const outs = (await notesAtOnce(5)) as Array<{ id: string; created: boolean }>;
    expect(stub.calls()).toEqual(['POST /crm/v3/objects/notes/batch/create']);
    const { inputs } = stub.requests[0]!.json as { inputs: Array<{ objectWriteTraceId: string; associations: Array<{ to: { id: string } }> }> };
    expect(inputs.map((i) => i.objectWriteTraceId)).toEqual(['0', '1', '2', '3', '4']);
    expect(inputs[2]!.associations).toEqual([{ to: { id: '102' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 202 }] }]);
    // The fake answers in reverse order: results are matched by trace id, not position.
    outs.forEach((out, i) => {
      expect(out.created).toBe(true);
      expect(bodyOf(out.id)).toBe(`note ${i}`);
    });
    expect(new Set(outs.map((o) => o.id)).size).toBe(5);
  });

  it('a step alone uses the single-record endpoint; more than a batch holds goes out in batches of 100', async () => {
    await runStep('hubspot.note.create', note(0));
    expect(stub.calls()).toEqual(['POST /crm/v3/objects/notes']);
    stub.requests.length = 0;
    const outs = await notesAtOnce(MAX_BATCH_INPUTS + 3);
    expect(stub.calls()).toEqual(Array(2).fill('POST /crm/v3/objects/notes/batch/create'));
    expect(stub.requests.map((r) => (r.json as { inputs: unknown[] }).inputs.length)).toEqual([MAX_BATCH_INPUTS, 3]);
    expect(outs).toHaveLength(MAX_BATCH_INPUTS + 3);
  });

  it('inputs a 207 answer does not confirm are sent alone, so each of those steps gets its own answer', async () => {
    stub.failNext({
      status: 207,
      body: {
        status: 'COMPLETE',
        results: [{ id: '900', properties: {}, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', objectWriteTraceId: '1' }],
        numErrors: 2,
        errors: [{ status: 'error', category: 'VALIDATION_ERROR', message: 'bad', context: { objectWriteTraceId: ['0', '2'] } }],
        startedAt: '2026-01-01T00:00:00Z',
        completedAt: '2026-01-01T00:00:00Z',
      },
    });
    stub.failNext({ status: 400, body: { status: 'error', category: 'VALIDATION_ERROR', message: 'Property values were not valid' } });
    const [first, second, third] = await Promise.all([0, 1, 2].map((i) => settle(runStep('hubspot.note.create', note(i)))));
    expect(second).toEqual({ value: { id: '900', created: true } });
    expect(first!.error).toBeInstanceOf(PermanentError);
    expect(first!.error!.message).toBe('HubSpot (create note) answered 400: VALIDATION_ERROR: Property values were not valid');
    expect(third).toEqual({ value: { id: expect.any(String), created: true } });
    expect(stub.calls()).toEqual(['POST /crm/v3/objects/notes/batch/create', 'POST /crm/v3/objects/notes', 'POST /crm/v3/objects/notes']);
    expect((stub.requests[1]!.json as { properties: Record<string, string> }).properties.hs_note_body).toBe('note 0');
  });

  it('a batch refused as a whole (400: HubSpot wrote none of it) is sent again input by input', async () => {
    stub.failNext({ status: 400, body: { status: 'error', category: 'VALIDATION_ERROR', message: 'one input was invalid' } });
    const outs = (await notesAtOnce(3)) as Array<{ id: string }>;
    expect(stub.calls()).toEqual(['POST /crm/v3/objects/notes/batch/create', ...Array(3).fill('POST /crm/v3/objects/notes')]);
    expect(outs.map((o) => bodyOf(o.id))).toEqual(['note 0', 'note 1', 'note 2']);
  });

  it('429 on a batch: every step is transient with the Retry-After, nothing is sent again', async () => {
    stub.failNext({ status: 429, headers: { 'retry-after': '7' }, body: { status: 'error', category: 'RATE_LIMITS', message: 'You have reached your secondly limit.' } });
    const results = await Promise.all([0, 1, 2].map((i) => settle(runStep('hubspot.note.create', note(i)))));
    for (const { error } of results) {
      expect(error).toBeInstanceOf(TransientError);
      expect(error!.retryAfterMs).toBe(7_000);
      expect(error!.message).toMatch(/^HubSpot \(create note \(a batch of 3\)\) answered 429/);
    }
    expect(stub.calls()).toEqual(['POST /crm/v3/objects/notes/batch/create']);
  });

  it('a 500, an answer without results or none in time: every step is transient (the records may exist), nothing is sent again', async () => {
    stub.failNext({ status: 500, body: { status: 'error', message: 'internal error' } });
    for (const { error } of await Promise.all([0, 1].map((i) => settle(runStep('hubspot.note.create', note(i)))))) {
      expect(error).toBeInstanceOf(TransientError);
      expect(error!.message).toMatch(/answered 500/);
    }
    stub.failNext({ status: 201, body: { status: 'COMPLETE', startedAt: '2026-01-01T00:00:00Z', completedAt: '2026-01-01T00:00:00Z' } });
    for (const { error } of await Promise.all([0, 1].map((i) => settle(runStep('hubspot.note.create', note(i)))))) {
      expect(error).toBeInstanceOf(TransientError);
      expect(error!.message).toMatch(/without its results/);
    }
    stub.failNext({ status: 201, body: {}, delayMs: 2_000 });
    const started = Date.now();
    const late = await Promise.all([0, 1].map((i) => settle(runStep('hubspot.note.create', note(i), { timeoutMs: 200 }))));
    for (const { error } of late) {
      expect(error).toBeInstanceOf(TransientError);
      // The step whose deadline came first, or the batch cut at that deadline, says so.
      expect(error!.message).toMatch(/^HubSpot \(create note( \(a batch of 2\))?\): no answer within 200 ms$/);
    }
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(stub.calls()).toEqual(Array(3).fill('POST /crm/v3/objects/notes/batch/create'));
  });

  it('updates of the same moment batch; two of one record never share a batch', async () => {
    hubspot.objects.contacts = ['71', '72'].map((id) => ({ id, properties: {}, associations: [], createdAt: '2024-01-01T00:00:00Z' }));
    const update = (id: string, firstname: string) =>
      withHubSpot(stepContext(), 'update contact', (client) => updateObject(client, 'contacts', id, { firstname }));
    await Promise.all([update('71', 'Ada'), update('72', 'Bo'), update('71', 'Ada B.')]);
    // The second update of 71 goes alone, beside the batch (as two steps' requests would without batching).
    expect(stub.calls().sort()).toEqual(['PATCH /crm/v3/objects/contacts/71', 'POST /crm/v3/objects/contacts/batch/update']);
    expect(stub.requests.find((r) => r.path.endsWith('/batch/update'))!.json).toEqual({
      inputs: [
        { id: '71', properties: { firstname: 'Ada' }, objectWriteTraceId: '0' },
        { id: '72', properties: { firstname: 'Bo' }, objectWriteTraceId: '1' },
      ],
    });
    expect(hubspot.objects.contacts[1]!.properties.firstname).toBe('Bo');
    // An update of a record that is gone (a 207 naming it): that step gets its own 404.
    stub.requests.length = 0;
    const [gone, kept] = await Promise.all([settle(update('404404', 'X')), settle(update('72', 'Bea'))]);
    expect(kept).toEqual({ value: undefined });
    expect(gone.error).toBeInstanceOf(PermanentError);
    expect(gone.error!.message).toMatch(/^HubSpot \(update contact\) answered 404/);
    expect(stub.calls()).toEqual(['POST /crm/v3/objects/contacts/batch/update', 'PATCH /crm/v3/objects/contacts/404404']);
  });

  it('steps of different accounts never share a batch', async () => {
    const other = await startVendorStub(fakeHubSpot().route);
    try {
      const first = runStep('hubspot.note.create', note(0));
      vi.stubEnv('HUBSPOT_BASE_URL', other.url); // read by the next step
      await Promise.all([first, runStep('hubspot.note.create', note(1))]);
      expect(stub.calls()).toEqual(['POST /crm/v3/objects/notes']);
      expect(other.calls()).toEqual(['POST /crm/v3/objects/notes']);
    } finally {
      await other.close();
    }
  });

  it('a contact create a batch refuses for a taken email goes alone and gets the 409 naming the contact (the upsert uses it)', async () => {
    hubspot.objects.contacts = [{ id: '88', properties: { email: 'dana@whitfield.example' }, associations: [], createdAt: '2024-01-01T00:00:00Z' }];
    const create = (email: string) =>
      withHubSpot(stepContext(), 'create contact', (client) =>
        createObject(client, 'contacts', { email }, []).then(
          (created) => ({ id: created.id }),
          (error: unknown) => ({ status: hubspotStatus(error), body: JSON.stringify((error as { body?: unknown }).body) }),
        ),
      );
    const [dana, eli] = await Promise.all([create('dana@whitfield.example'), create('eli@whitfield.example')]);
    expect(dana).toEqual({ status: 409, body: expect.stringContaining('Existing ID: 88') });
    expect(eli).toEqual({ id: expect.any(String) });
    expect(stub.calls()).toEqual(['POST /crm/v3/objects/contacts/batch/create', 'POST /crm/v3/objects/contacts']);
    expect(hubspot.objects.contacts).toHaveLength(2);
  });
});
