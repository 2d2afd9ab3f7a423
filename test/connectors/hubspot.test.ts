// HubSpot step kinds with the real @hubspot/api-client against a local stub that answers like
// HubSpot's CRM v3 API: the exact requests the SDK sends, the outputs, and how errors are
// classified (429 with Retry-After, 401, 500, validation, timeout, connection refused).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PermanentError, TransientError } from '../../src/connectors/connector.js';
import { MAX_ANSWER_BYTES } from '../../src/connectors/vendor-http.js';
import { fakeHubSpot } from './support/fake-vendors.js';
import { KINDS, runStep, stepError, inputProblems } from './support/step-harness.js';
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

  it('500 and 503: transient', async () => {
    stub.failNext({ status: 500, body: { status: 'error', message: 'internal error', category: 'INTERNAL_ERROR' } });
    expect(await stepError('hubspot.note.create', { body: 'x', contact_id: '1' })).toBeInstanceOf(TransientError);
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
