// HubSpot step kinds with the real @hubspot/api-client against a local stub that answers like
// HubSpot's CRM v3 API: the exact requests the SDK sends, the outputs, and how errors are
// classified (429 with Retry-After, 401, 500, validation, timeout, connection refused), and
// writes of steps running at once batched into one request.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PermanentError, TransientError } from '../../src/connectors/connector.js';
import { evidenceOf, storedEvidence } from '../../src/connectors/evidence.js';
import { createHubSpotConnector, type HubSpotConnector } from '../../src/connectors/hubspot/client.js';
import { hubspotStatus } from '../../src/connectors/hubspot/errors.js';
import { createObject, updateObject } from '../../src/connectors/hubspot/crm.js';
import { MAX_BATCH_INPUTS } from '../../src/connectors/hubspot/write-batches.js';
import { MAX_ANSWER_BYTES } from '../../src/connectors/vendor-http.js';
import { fakeHubSpot } from './support/fake-vendors.js';
import { closeTestConnectors, KINDS, runStep, stepContext, stepError, inputProblems } from './support/step-harness.js';
import { closedPortUrl, startVendorStub, type VendorStub } from './support/vendor-stub.js';

let stub: VendorStub;
let hubspot: ReturnType<typeof fakeHubSpot>;
beforeEach(async () => {
  hubspot = fakeHubSpot();
  stub = await startVendorStub(hubspot.route);
  vi.stubEnv('HUBSPOT_ACCESS_TOKEN', 'pat-na1-test-token');
  vi.stubEnv('HUBSPOT_BASE_URL', `${stub.url}/`); // a trailing slash is dropped (else //crm/…)
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await closeTestConnectors();
  await stub.close();
});

const contact = { email: 'dana@whitfield.example', phone: '+14155550142', properties: { firstname: 'Dana', ai_score: 78, hs_lead_status: null } };

describe('hubspot.contact.upsert', () => {
  it('searches by email, phone and mobilephone, then creates the contact with its properties', async () => {
    const out = await runStep('hubspot.contact.upsert', contact);
    expect(out).toEqual({ id: '501', created: true });
    expect(stub.calls()).toEqual(['POST /crm/v3/objects/contacts/search', 'POST /crm/v3/objects/contacts']);
    const [search, create] = stub.requests;
    expect(search!.headers.authorization).toBe('Bearer pat-na1-test-token');
    expect(search!.json).toEqual({
      filterGroups: [
        { filters: [{ propertyName: 'email', operator: 'EQ', value: 'dana@whitfield.example' }] },
        { filters: [{ propertyName: 'phone', operator: 'EQ', value: '+14155550142' }] },
        { filters: [{ propertyName: 'mobilephone', operator: 'EQ', value: '+14155550142' }] },
      ],
      properties: ['email', 'phone', 'mobilephone'],
      limit: 10,
    });
    // Property values are strings; null leaves a property alone.
    expect(create!.json).toEqual({
      associations: [],
      properties: { email: 'dana@whitfield.example', phone: '+14155550142', firstname: 'Dana', ai_score: '78' },
    });
  });

  it('goes through aftercall\'s transport with the SDK\'s headers: its User-Agent, JSON, no compressed answer asked for', async () => {
    await runStep('hubspot.note.create', { body: 'x', contact_id: '1' });
    const { headers } = stub.requests[0]!;
    expect(headers['user-agent']).toMatch(/^hubspot-api-client-nodejs; /);
    expect(headers['content-type']).toBe('application/json');
    expect(headers['accept-encoding']).toBeUndefined(); // node-fetch, the SDK's default, asks for gzip
  });

  it('a contact found by phone is updated, and gets the email it lacked (its phone is kept)', async () => {
    hubspot.objects.contacts = [{ id: '77', properties: { phone: '+14155550142', firstname: 'D.' }, associations: [], createdAt: '2024-01-01T00:00:00Z' }];
    const out = await runStep('hubspot.contact.upsert', contact);
    expect(out).toEqual({ id: '77', created: false });
    expect(stub.calls()).toEqual(['POST /crm/v3/objects/contacts/search', 'PATCH /crm/v3/objects/contacts/77']);
    expect(stub.requests[1]!.json).toEqual({ properties: { email: 'dana@whitfield.example', firstname: 'Dana', ai_score: '78' } });
  });

  it('running again finds the contact it created: still one contact', async () => {
    await runStep('hubspot.contact.upsert', contact);
    expect(await runStep('hubspot.contact.upsert', contact)).toEqual({ id: '501', created: false });
    expect(hubspot.objects.contacts).toHaveLength(1);
  });

  it('a 409 on create (the search index lagged) updates the existing contact HubSpot names', async () => {
    hubspot.objects.contacts = [{ id: '88', properties: { email: 'dana@whitfield.example' }, associations: [], createdAt: '2024-01-01T00:00:00Z' }];
    stub.failNext({ status: 200, body: { total: 0, results: [] } }); // stale search
    expect(await runStep('hubspot.contact.upsert', contact)).toEqual({ id: '88', created: false });
    expect(stub.calls()).toEqual(['POST /crm/v3/objects/contacts/search', 'POST /crm/v3/objects/contacts', 'PATCH /crm/v3/objects/contacts/88']);
  });

  it('needs an email or a phone to find the contact by', () => {
    expect(inputProblems('hubspot.contact.upsert', { properties: {} })).toEqual(['email: needs email or phone to find the contact by']);
    expect(inputProblems('hubspot.contact.upsert', { email: null, phone: '+1415' })).toEqual([]);
  });
});

describe('hubspot.note.create, deal.create, task.create', () => {
  it('a note: text escaped into HTML with line breaks, associated with the contact (202) and deal (214)', async () => {
    const out = await runStep('hubspot.note.create', {
      body: 'Summary: <b>25 seats</b> & a demo\nAI: Hi Dana',
      contact_id: '501',
      deal_id: 9001,
      timestamp: '2025-03-04T16:07:23.901244Z',
    });
    expect(out).toEqual({ id: '501', created: true });
    expect(stub.calls()).toEqual(['POST /crm/v3/objects/notes']);
    expect(stub.requests[0]!.json).toEqual({
      associations: [
        { to: { id: '501' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 202 }] },
        { to: { id: '9001' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 214 }] },
      ],
      properties: { hs_note_body: 'Summary: &lt;b&gt;25 seats&lt;/b&gt; &amp; a demo<br>AI: Hi Dana', hs_timestamp: '2025-03-04T16:07:23.901Z' },
    });
  });

  it('with an idempotency property: the key is stored, and a retry finds the note instead of adding one', async () => {
    const input = { body: 'Qualified', contact_id: '501', idempotency_property: 'aftercall_key' };
    expect(await runStep('hubspot.note.create', input)).toEqual({ id: '501', created: true });
    expect(await runStep('hubspot.note.create', input)).toEqual({ id: '501', created: false });
    expect(stub.calls()).toEqual(['POST /crm/v3/objects/notes/search', 'POST /crm/v3/objects/notes', 'POST /crm/v3/objects/notes/search']);
    expect(stub.requests[0]!.json).toMatchObject({
      filterGroups: [{ filters: [{ propertyName: 'aftercall_key', operator: 'EQ', value: 'aftercall-41-step' }] }],
    });
    expect((stub.requests[1]!.json as { properties: object }).properties).toMatchObject({ aftercall_key: 'aftercall-41-step' });
    expect(hubspot.objects.notes).toHaveLength(1);
  });

  it('a deal: name, amount, pipeline, stage and close date, associated with the contact (3)', async () => {
    const out = await runStep('hubspot.deal.create', {
      name: 'Whitfield Roofing — Team Plan',
      amount: 18000,
      stage: 'qualifiedtobuy',
      close_date: '2025-04-15',
      contact_id: '501',
      properties: { lead_source: 'AI phone assistant' },
    });
    expect(out).toEqual({ id: '501', created: true });
    expect(stub.requests[0]!.path).toBe('/crm/v3/objects/deals');
    expect(stub.requests[0]!.json).toEqual({
      associations: [{ to: { id: '501' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 }] }],
      properties: {
        dealname: 'Whitfield Roofing — Team Plan',
        amount: '18000',
        pipeline: 'default',
        dealstage: 'qualifiedtobuy',
        closedate: '2025-04-15T00:00:00.000Z',
        lead_source: 'AI phone assistant',
      },
    });
  });

  it('a task: subject, escaped body, due date, type and priority, for the contact (204)', async () => {
    await runStep('hubspot.task.create', {
      subject: 'Call Dana back',
      body: 'Budget 18k\nwants <demo>',
      due: '2025-03-05T09:00:00Z',
      priority: 'HIGH',
      owner_id: 123,
      contact_id: '501',
    });
    expect(stub.requests[0]!.path).toBe('/crm/v3/objects/tasks');
    expect(stub.requests[0]!.json).toEqual({
      associations: [{ to: { id: '501' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 204 }] }],
      properties: {
        hs_task_subject: 'Call Dana back',
        hs_task_body: 'Budget 18k<br>wants &lt;demo&gt;',
        hs_timestamp: '2025-03-05T09:00:00.000Z',
        hs_task_type: 'CALL',
        hs_task_priority: 'HIGH',
        hs_task_status: 'NOT_STARTED',
        hubspot_owner_id: '123',
      },
    });
  });

  it('defaults: deals and tasks never repeat for a new revision; notes and contacts follow changes', () => {
    expect(KINDS.get('hubspot.deal.create')!.defaultRepeat).toBe('never');
    expect(KINDS.get('hubspot.task.create')!.defaultRepeat).toBe('never');
    expect(KINDS.get('hubspot.note.create')!.defaultRepeat).toBe('on-change');
    expect(KINDS.get('hubspot.contact.upsert')!.defaultRepeat).toBe('on-change');
  });
});

describe('HubSpot errors', () => {
  const rateLimited = {
    status: 429,
    headers: { 'retry-after': '3' },
    body: { status: 'error', message: 'You have reached your secondly limit.', category: 'RATE_LIMITS', correlationId: 'x' },
  };

  it('429: transient, Retry-After honoured, HubSpot\'s words kept', async () => {
    stub.failNext(rateLimited);
    const error = await stepError('hubspot.contact.upsert', contact);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.retryAfterMs).toBe(3000);
    expect(error.message).toBe('HubSpot (search contacts) answered 429: RATE_LIMITS: You have reached your secondly limit.');
  });

  it('500 and 503: transient, with the answer as evidence and without it in the summary logs use', async () => {
    stub.failNext({ status: 500, body: { status: 'error', message: 'internal error', category: 'INTERNAL_ERROR' } });
    const failed = await stepError('hubspot.note.create', { body: 'x', contact_id: '1' });
    expect(failed).toBeInstanceOf(TransientError);
    expect(storedEvidence(evidenceOf(failed)!)).toEqual({
      method: 'POST', url: `${stub.url}/crm/v3/objects/notes`, status: 500,
      body: '{"status":"error","message":"internal error","category":"INTERNAL_ERROR"}', truncated: false,
    });
    expect((failed as TransientError).summary).toBe('HubSpot (create note) answered 500');
    stub.failNext({ status: 503, headers: { 'content-type': 'text/html' }, body: '<html>503 Service Unavailable</html>' });
    expect((await stepError('hubspot.note.create', { body: 'x', contact_id: '1' })).message).toBe('HubSpot (create note) answered 503: <html>503 Service Unavailable</html>');
  });

  it('401: permanent, saying what HubSpot said', async () => {
    stub.failNext({ status: 401, body: { status: 'error', message: 'Authentication credentials not found.', category: 'INVALID_AUTHENTICATION' } });
    const error = await stepError('hubspot.contact.upsert', contact);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe('HubSpot (search contacts) answered 401: INVALID_AUTHENTICATION: Authentication credentials not found.');
  });

  it('400 validation error on create: permanent, with the property errors', async () => {
    stub.failNext(
      { status: 200, body: { total: 0, results: [] } },
      {
        status: 400,
        body: {
          status: 'error',
          message: 'Property values were not valid',
          category: 'VALIDATION_ERROR',
          errors: [{ message: 'Property "ai_score" does not exist', code: 'PROPERTY_DOESNT_EXIST' }],
        },
      },
    );
    const error = await stepError('hubspot.contact.upsert', contact);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe(
      'HubSpot (create contact) answered 400: VALIDATION_ERROR: Property values were not valid (Property "ai_score" does not exist)',
    );
  });

  it('404 on update: permanent', async () => {
    hubspot.objects.contacts = [{ id: '77', properties: { phone: '+14155550142' }, associations: [], createdAt: '2024-01-01T00:00:00Z' }];
    stub.failNext(
      { status: 200, body: { total: 1, results: [{ id: '12', properties: { phone: '+14155550142' }, createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z' }] } },
    );
    const error = await stepError('hubspot.contact.upsert', contact);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe('HubSpot (update contact) answered 404: OBJECT_NOT_FOUND: resource not found');
  });

  it('no answer within the step timeout: transient, and the step ends at the timeout', async () => {
    stub.failNext({ status: 200, delayMs: 3_000, body: { total: 0, results: [] } });
    const started = Date.now();
    const error = await stepError('hubspot.contact.upsert', contact, { timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toBe('HubSpot (upsert contact): no answer within 200 ms');
  });

  it('an answer larger than any CRM answer is not read to its end: transient, nothing kept', async () => {
    stub.failNext({ status: 201, body: { id: '9', properties: { hs_note_body: 'x'.repeat(MAX_ANSWER_BYTES) } } });
    const error = await stepError('hubspot.note.create', { body: 'x', contact_id: '1' });
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toBe(`HubSpot (create note) failed: ECONNABORTED`);
  });

  it('connection refused: transient', async () => {
    vi.stubEnv('HUBSPOT_BASE_URL', await closedPortUrl());
    const error = await stepError('hubspot.note.create', { body: 'x', contact_id: '1' });
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toBe('HubSpot (create note) failed: ECONNREFUSED');
  });
});

describe('HubSpot configuration', () => {
  it('names the missing token; checks the base URL', () => {
    const step = KINDS.get('hubspot.note.create')!;
    expect(step.missingConfig!()).toBeNull();
    vi.stubEnv('HUBSPOT_ACCESS_TOKEN', '');
    expect(step.missingConfig!()).toBe('HUBSPOT_ACCESS_TOKEN');
    vi.stubEnv('HUBSPOT_ACCESS_TOKEN', 'x');
    vi.stubEnv('HUBSPOT_BASE_URL', 'api.hubapi.com');
    expect(step.missingConfig!()).toBe('HUBSPOT_BASE_URL (must be a URL like https://sandbox.example.com)');
  });
});

const note = (i: number) => ({ body: `note ${i}`, contact_id: String(100 + i) });
const notesAtOnce = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => runStep('hubspot.note.create', note(i))));
const bodyOf = (id: string) => hubspot.objects.notes!.find((o) => o.id === id)!.properties.hs_note_body;
type Settled<T> = { value?: T; error?: Error & { retryAfterMs?: number } };
const settle = <T>(work: Promise<T>): Promise<Settled<T>> =>
  work.then((value) => ({ value }), (error: unknown) => ({ error: error as Error & { retryAfterMs?: number } }));

// Writes of steps running at the same time go out as one batch request (write-batches.ts): each
// step still gets its own record and, when the batch does not settle it, its own request's answer.
describe('HubSpot writes batched across steps', () => {
  // The connector as the service builds it, for writes below the step kinds.
  let connector: HubSpotConnector;
  beforeEach(() => {
    connector = createHubSpotConnector({ HUBSPOT_ACCESS_TOKEN: 'pat-na1-test-token', HUBSPOT_BASE_URL: stub.url });
  });
  afterEach(() => connector.close?.());

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

  it('a 500 or none in time: every step is transient; an answer without results is permanent with its evidence; nothing is sent again', async () => {
    stub.failNext({ status: 500, body: { status: 'error', message: 'internal error' } });
    for (const { error } of await Promise.all([0, 1].map((i) => settle(runStep('hubspot.note.create', note(i)))))) {
      expect(error).toBeInstanceOf(TransientError);
      expect(error!.message).toMatch(/answered 500/);
    }
    stub.failNext({ status: 201, body: { status: 'COMPLETE', startedAt: '2026-01-01T00:00:00Z', completedAt: '2026-01-01T00:00:00Z' } });
    for (const { error } of await Promise.all([0, 1].map((i) => settle(runStep('hubspot.note.create', note(i)))))) {
      // An answer of a shape the code does not know: retrying gets the same (and the records may exist).
      expect(error).toBeInstanceOf(PermanentError);
      expect(error!.message).toMatch(/without its results/);
      expect(evidenceOf(error)).toMatchObject({ method: 'POST', status: 201 });
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
      connector.withClient(stepContext(), 'update contact', (client) => updateObject(client, 'contacts', id, { firstname }));
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
      vi.stubEnv('HUBSPOT_BASE_URL', other.url); // the next step runs on a connector built for it
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
      connector.withClient(stepContext(), 'create contact', (client) =>
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
