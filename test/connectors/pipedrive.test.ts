// Pipedrive step kinds with the real `pipedrive` SDK (API v2; notes on v1) against a local stub
// answering like Pipedrive: exact requests, outputs, and error classification (the SDK's own
// error interceptor would drop the status and Retry-After; the connector keeps them).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { evidenceOf, storedEvidence } from '../../src/connectors/evidence.js';
import { PermanentError, TransientError } from '../../src/connectors/connector.js';
import { hoursMinutes } from '../../src/connectors/pipedrive/steps/activity-create.js';
import { fakePipedrive } from './support/fake-vendors.js';
import { closeTestConnectors, inputProblems, KINDS, runStep, stepError } from './support/step-harness.js';
import { closedPortUrl, startVendorStub, type VendorStub } from './support/vendor-stub.js';

let stub: VendorStub;
let pd: ReturnType<typeof fakePipedrive>;
beforeEach(async () => {
  pd = fakePipedrive();
  stub = await startVendorStub(pd.route);
  vi.stubEnv('PIPEDRIVE_API_TOKEN', 'pd-token-123');
  vi.stubEnv('PIPEDRIVE_BASE_URL', stub.url);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await closeTestConnectors();
  await stub.close();
});

const person = { name: 'Jonas Becker', phone: '+4917612345098', email: 'jonas@example.de', custom_fields: { c0ffee0000000000000000000000000000000001: 'DSL-2231907' } };

describe('pipedrive.person.upsert', () => {
  it('searches by phone, then email (exact), then adds the person', async () => {
    expect(await runStep('pipedrive.person.upsert', person)).toEqual({ id: 101, created: true });
    expect(stub.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /api/v2/persons/search?term=%2B4917612345098&fields=phone&exact_match=true&limit=1',
      'GET /api/v2/persons/search?term=jonas%40example.de&fields=email&exact_match=true&limit=1',
      'POST /api/v2/persons',
    ]);
    expect(stub.requests[0]!.headers['x-api-token']).toBe('pd-token-123');
    expect(stub.requests[2]!.json).toEqual({
      name: 'Jonas Becker',
      phones: [{ value: '+4917612345098', primary: true, label: 'mobile' }],
      emails: [{ value: 'jonas@example.de', primary: true, label: 'work' }],
      custom_fields: { c0ffee0000000000000000000000000000000001: 'DSL-2231907' },
    });
  });

  it('a person found by phone is kept (name, phones) and gets the custom fields: one person after a rerun', async () => {
    await runStep('pipedrive.person.upsert', person);
    expect(await runStep('pipedrive.person.upsert', { ...person, name: 'J. Becker', owner_id: 7 })).toEqual({ id: 101, created: false });
    expect(stub.calls().slice(3)).toEqual(['GET /api/v2/persons/search', 'PATCH /api/v2/persons/101']);
    expect(stub.requests[4]!.json).toEqual({ owner_id: 7, custom_fields: { c0ffee0000000000000000000000000000000001: 'DSL-2231907' } });
    expect(pd.of('persons')).toHaveLength(1);
  });

  it('needs a phone or an email', () => {
    expect(inputProblems('pipedrive.person.upsert', { name: 'X', phone: null })).toEqual(['phone: needs phone or email to find the person by']);
  });
});

describe('pipedrive.note.create, activity.create, deal.create', () => {
  it('a note on v1, escaped, on the person', async () => {
    expect(await runStep('pipedrive.note.create', { content: 'Störung <DSL>\nTechniker nötig', person_id: 101 })).toEqual({ id: 101 });
    expect(stub.calls()).toEqual(['POST /v1/notes']);
    expect(stub.requests[0]!.headers['x-api-token']).toBe('pd-token-123');
    expect(stub.requests[0]!.json).toEqual({ person_id: 101, content: 'Störung &lt;DSL&gt;<br>Techniker nötig' });
  });

  it('a call activity: done, with duration (HH:MM), outcome and note', async () => {
    const out = await runStep('pipedrive.activity.create', {
      subject: 'Support call: connectivity',
      duration_seconds: 236,
      outcome: 'Not resolved — technician needed',
      note: 'DSL light blinking',
      due_date: '2025-03-07T08:15:40Z',
      person_id: '101',
    });
    expect(out).toEqual({ id: 101 });
    expect(stub.calls()).toEqual(['POST /api/v2/activities']);
    expect(stub.requests[0]!.json).toEqual({
      subject: 'Support call: connectivity',
      type: 'call',
      due_date: '2025-03-07',
      duration: '00:04',
      done: true,
      note: '<p><b>Outcome:</b> Not resolved — technician needed</p><p>DSL light blinking</p>',
      person_id: 101,
    });
  });

  it('a deal with value and currency for the person', async () => {
    await runStep('pipedrive.deal.create', { title: 'Techniker-Einsatz DSL-2231907', value: 89, currency: 'EUR', person_id: 101, stage_id: 2 });
    expect(stub.requests[0]!.path).toBe('/api/v2/deals');
    expect(stub.requests[0]!.json).toEqual({ title: 'Techniker-Einsatz DSL-2231907', value: 89, currency: 'EUR', person_id: 101, stage_id: 2 });
  });

  it('durations round up to the started minute', () => {
    expect([0, 1, 60, 61, 236, 3600, 5999].map(hoursMinutes)).toEqual(['00:00', '00:01', '00:01', '00:02', '00:04', '01:00', '01:40']);
  });

  it('a note needs something to attach to (checked when it runs: the id usually comes from an earlier step)', async () => {
    const error = await stepError('pipedrive.note.create', { content: 'x', person_id: null });
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe('Pipedrive (add note): needs person_id, deal_id, org_id or lead_id to attach the note to');
    expect(stub.requests).toHaveLength(0);
    expect(KINDS.get('pipedrive.activity.create')!.defaultRepeat).toBe('never');
  });
});

describe('Pipedrive errors', () => {
  it('429: transient with Retry-After and Pipedrive\'s message', async () => {
    stub.failNext({ status: 429, headers: { 'retry-after': '2' }, body: { success: false, error: 'Rate limit exceeded', error_info: 'Please check developers.pipedrive.com' } });
    const error = await stepError('pipedrive.person.upsert', person);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.retryAfterMs).toBe(2000);
    expect(error.message).toBe('Pipedrive (search persons by phone) answered 429: Rate limit exceeded (Please check developers.pipedrive.com)');
  });

  it('500: transient; 401 and 400: permanent with what Pipedrive said', async () => {
    stub.failNext({ status: 500, body: { success: false, error: 'Internal server error' } });
    expect(await stepError('pipedrive.note.create', { content: 'x', person_id: 1 })).toBeInstanceOf(TransientError);
    stub.failNext({ status: 401, body: { success: false, error: 'unauthorized access', errorCode: 401 } });
    const denied = await stepError('pipedrive.note.create', { content: 'x', person_id: 1 });
    expect(denied).toBeInstanceOf(PermanentError);
    expect(denied.message).toBe('Pipedrive (add note) answered 401: unauthorized access');
    stub.failNext({ status: 400, body: { success: false, error: 'Validation failed: person_id: Person not found', code: 'ERR_SCHEMA_VALIDATION_FAILED' } });
    const invalid = await stepError('pipedrive.deal.create', { title: 'x', person_id: 999 });
    expect(invalid).toBeInstanceOf(PermanentError);
    expect(invalid.message).toBe('Pipedrive (add deal) answered 400: ERR_SCHEMA_VALIDATION_FAILED: Validation failed: person_id: Person not found');
  });

  it('a failed call keeps its evidence (the SDK\'s axios error), and so does an answer of the wrong shape', async () => {
    stub.failNext({ status: 400, body: { success: false, error: 'Validation failed for jonas@example.de', code: 'ERR_SCHEMA_VALIDATION_FAILED' } });
    const invalid = await stepError('pipedrive.deal.create', { title: 'x', person_id: 999 });
    expect(storedEvidence(evidenceOf(invalid)!)).toEqual({
      method: 'POST', url: `${stub.url}/api/v2/deals`, status: 400,
      body: '{"success":false,"error":"Validation failed for [email]","code":"ERR_SCHEMA_VALIDATION_FAILED"}', truncated: false,
    });
    // A 2xx whose body the code cannot read: permanent, one request, the answer kept.
    stub.failNext({ status: 201, body: { success: true, data: 'created' } });
    const odd = await stepError('pipedrive.deal.create', { title: 'x', person_id: 999 });
    expect(odd).toBeInstanceOf(PermanentError);
    expect(storedEvidence(evidenceOf(odd)!)).toMatchObject({ method: 'POST', status: 201, body: '{"success":true,"data":"created"}' });
  });

  it('no answer within the step timeout: transient, ends at the timeout', async () => {
    stub.failNext({ status: 201, delayMs: 3_000, body: { success: true, data: { id: 1 } } });
    const started = Date.now();
    const error = await stepError('pipedrive.activity.create', { person_id: 1 }, { timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toMatch(/^Pipedrive \(add activity\)/);
  });

  it('connection refused: transient', async () => {
    vi.stubEnv('PIPEDRIVE_BASE_URL', await closedPortUrl());
    const error = await stepError('pipedrive.deal.create', { title: 'x' });
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toBe('Pipedrive (add deal) failed: ECONNREFUSED');
  });

  it('missing token named', () => {
    vi.stubEnv('PIPEDRIVE_API_TOKEN', '');
    expect(KINDS.get('pipedrive.deal.create')!.missingConfig!()).toBe('PIPEDRIVE_API_TOKEN');
  });
});
