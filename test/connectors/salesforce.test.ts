// Salesforce step kinds with the real jsforce against a local stub answering like the REST API
// (v59.0) and the OAuth2 token endpoint: exact requests, outputs, error classification, and
// both ways to sign in (access token + instance URL; client credentials).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { evidenceOf, storedEvidence } from '../../src/connectors/evidence.js';
import { PermanentError, TransientError } from '../../src/connectors/connector.js';
import { fakeSalesforce } from './support/fake-vendors.js';
import { closeTestConnectors, inputProblems, KINDS, runStep, stepError } from './support/step-harness.js';
import { closedPortUrl, startVendorStub, type VendorStub } from './support/vendor-stub.js';

const V = '/services/data/v59.0';
let stub: VendorStub;
let sf: ReturnType<typeof fakeSalesforce>;
/** The instance URL the token endpoint names (default: the stub itself). */
let tokenInstance: string | undefined;
beforeEach(async () => {
  tokenInstance = undefined;
  sf = fakeSalesforce({ instanceUrl: () => tokenInstance ?? stub.url });
  stub = await startVendorStub(sf.route);
  vi.stubEnv('SALESFORCE_INSTANCE_URL', stub.url);
  vi.stubEnv('SALESFORCE_ACCESS_TOKEN', '00D5e000000AbCd!token');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await closeTestConnectors();
  await stub.close();
});

const soql = (i: number) => stub.requests[i]!.query.get('q');
const lead = { fields: { LastName: 'Whitfield', FirstName: 'Dana', Company: 'Whitfield Roofing', Phone: '+14155550142', Email: null, Rating: 'Hot' } };

describe('salesforce.lead.upsert', () => {
  it('looks the lead up by phone (open leads), then creates it', async () => {
    expect(await runStep('salesforce.lead.upsert', lead)).toEqual({ id: '00Q5e0000000000001', created: true });
    expect(stub.calls()).toEqual([`GET ${V}/query`, `POST ${V}/sobjects/Lead`]);
    expect(stub.requests[0]!.headers.authorization).toBe('Bearer 00D5e000000AbCd!token');
    expect(soql(0)).toBe(
      "SELECT Id FROM Lead WHERE IsConverted = false AND (Phone = '+14155550142' OR MobilePhone = '+14155550142') ORDER BY CreatedDate ASC LIMIT 1",
    );
    // null fields are left alone
    expect(stub.requests[1]!.json).toEqual({ LastName: 'Whitfield', FirstName: 'Dana', Company: 'Whitfield Roofing', Phone: '+14155550142', Rating: 'Hot' });
  });

  it('a lead found by email or phone is updated: running twice leaves one lead', async () => {
    const input = { fields: { ...lead.fields, Email: "o'neil@whitfield.example" } };
    await runStep('salesforce.lead.upsert', input);
    expect(await runStep('salesforce.lead.upsert', { fields: { ...input.fields, Rating: 'Warm' } })).toEqual({ id: '00Q5e0000000000001', created: false });
    expect(stub.calls().slice(2)).toEqual([`GET ${V}/query`, `PATCH ${V}/sobjects/Lead/00Q5e0000000000001`]);
    expect(soql(2)).toContain("(Email = 'o\\'neil@whitfield.example' OR Phone = '+14155550142' OR MobilePhone = '+14155550142')");
    expect(sf.records).toHaveLength(1);
    expect(sf.records[0]!.fields.Rating).toBe('Warm');
  });

  it('by an External ID field: one PATCH upsert, the value URL-encoded', async () => {
    const input = { ...lead, external_id_field: 'Aftercall_Caller__c', external_id: '+1 415/555' };
    expect(await runStep('salesforce.lead.upsert', input)).toEqual({ id: '00Q5e0000000000001', created: true });
    expect(await runStep('salesforce.lead.upsert', input)).toEqual({ id: '00Q5e0000000000001', created: false });
    expect(stub.requests[0]!.method).toBe('PATCH');
    expect(stub.requests[0]!.url).toBe(`${V}/sobjects/Lead/Aftercall_Caller__c/%2B1%20415%2F555`);
    expect(stub.requests[0]!.json).toEqual({ LastName: 'Whitfield', FirstName: 'Dana', Company: 'Whitfield Roofing', Phone: '+14155550142', Rating: 'Hot' });
  });

  it('needs a way to find the lead', () => {
    expect(inputProblems('salesforce.lead.upsert', { fields: { LastName: 'X', Company: 'Y' } })).toEqual([
      'fields: needs external_id_field and external_id, or fields.Email or fields.Phone to find the lead by',
    ]);
    expect(inputProblems('salesforce.lead.upsert', { fields: { Phone: '+1' }, external_id_field: 'X__c' })).toEqual([
      'external_id: external_id_field and external_id go together',
    ]);
  });
});

describe('salesforce.contact.update', () => {
  it('finds the contact by phone and updates it', async () => {
    sf.records.push({ Id: '0035e00000AAAAAAA1', type: 'Contact', fields: { MobilePhone: '+14155550142' } });
    const out = await runStep('salesforce.contact.update', { phone: '+14155550142', fields: { Description: 'Wants a demo', Score__c: 78 } });
    expect(out).toEqual({ id: '0035e00000AAAAAAA1', updated: true });
    expect(stub.calls()).toEqual([`GET ${V}/query`, `PATCH ${V}/sobjects/Contact/0035e00000AAAAAAA1`]);
    expect(soql(0)).toBe("SELECT Id FROM Contact WHERE Phone = '+14155550142' OR MobilePhone = '+14155550142' ORDER BY CreatedDate ASC LIMIT 1");
    expect(stub.requests[1]!.json).toEqual({ Description: 'Wants a demo', Score__c: 78 });
  });

  it('by id: no lookup; no match: skipped, or failed with if_missing: fail', async () => {
    sf.records.push({ Id: '0035e00000AAAAAAA9', type: 'Contact', fields: {} });
    expect(await runStep('salesforce.contact.update', { id: '0035e00000AAAAAAA9', fields: { Title: 'CEO' } })).toEqual({ id: '0035e00000AAAAAAA9', updated: true });
    expect(stub.calls()).toEqual([`PATCH ${V}/sobjects/Contact/0035e00000AAAAAAA9`]);
    expect(await runStep('salesforce.contact.update', { email: 'x@y.example', fields: { Title: 'CEO' } })).toEqual({ id: null, updated: false });
    const error = await stepError('salesforce.contact.update', { email: 'x@y.example', fields: { Title: 'CEO' }, if_missing: 'fail' });
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe('Salesforce (update contact): no contact with that email');
  });
});

describe('salesforce.task.create', () => {
  const task = {
    subject: 'Call: appointment booked',
    description: 'Avaliação agendada',
    duration_seconds: 148,
    recording_url: 'https://call.otonistark.com.br/storage/recordings/call-730415.mp4',
    who_id: '00Q5e0000000000001',
    call_type: 'Inbound',
    call_disposition: 'Appointment booked',
    activity_date: '2025-03-06T13:41:52.276314Z',
  };

  it('logs the call: a completed Task of subtype Call, CallObject = the idempotency key', async () => {
    expect(await runStep('salesforce.task.create', task)).toEqual({ id: '00T5e0000000000001', created: true });
    expect(stub.calls()).toEqual([`GET ${V}/query`, `POST ${V}/sobjects/Task`]);
    expect(soql(0)).toBe("SELECT Id FROM Task WHERE CallObject = 'aftercall-41-step' LIMIT 1");
    expect(stub.requests[1]!.json).toEqual({
      Subject: 'Call: appointment booked',
      Description: 'Avaliação agendada\n\nRecording: https://call.otonistark.com.br/storage/recordings/call-730415.mp4',
      TaskSubtype: 'Call',
      Status: 'Completed',
      Priority: 'Normal',
      CallDurationInSeconds: 148,
      CallType: 'Inbound',
      CallDisposition: 'Appointment booked',
      CallObject: 'aftercall-41-step',
      ActivityDate: '2025-03-06',
      WhoId: '00Q5e0000000000001',
    });
  });

  it('a retry finds the task its earlier attempt created', async () => {
    await runStep('salesforce.task.create', { ...task, call_object: 730415 });
    expect(await runStep('salesforce.task.create', { ...task, call_object: 730415 })).toEqual({ id: '00T5e0000000000001', created: false });
    expect(sf.records.filter((r) => r.type === 'Task')).toHaveLength(1);
    expect(stub.calls()).toEqual([`GET ${V}/query`, `POST ${V}/sobjects/Task`, `GET ${V}/query`]);
  });
});

describe('OAuth2 client credentials', () => {
  beforeEach(() => {
    vi.stubEnv('SALESFORCE_ACCESS_TOKEN', '');
    vi.stubEnv('SALESFORCE_INSTANCE_URL', '');
    vi.stubEnv('SALESFORCE_LOGIN_URL', stub.url);
    vi.stubEnv('SALESFORCE_CLIENT_ID', '3MVG9-client');
    vi.stubEnv('SALESFORCE_CLIENT_SECRET', 'secret-1');
  });

  beforeEach(() => {
    sf.records.push({ Id: '0035e00000AAAAAAA1', type: 'Contact', fields: {} });
  });

  it('gets a token from the login URL, calls the instance it names, and reuses the token', async () => {
    const instance = await startVendorStub(sf.route);
    tokenInstance = instance.url;
    try {
      await runStep('salesforce.contact.update', { id: '0035e00000AAAAAAA1', fields: { Title: 'CEO' } });
      await runStep('salesforce.contact.update', { id: '0035e00000AAAAAAA1', fields: { Title: 'CTO' } });
      expect(stub.calls()).toEqual(['POST /services/oauth2/token']);
      expect(stub.requests[0]!.form).toEqual({ grant_type: 'client_credentials', client_id: '3MVG9-client', client_secret: 'secret-1' });
      expect(instance.calls()).toEqual([`PATCH ${V}/sobjects/Contact/0035e00000AAAAAAA1`, `PATCH ${V}/sobjects/Contact/0035e00000AAAAAAA1`]);
      expect(instance.requests[0]!.headers.authorization).toMatch(/^Bearer 00Dtoken\d+$/);
    } finally {
      await instance.close();
    }
  });

  it('a refused (expired) token is replaced once and the call made again', async () => {
    await runStep('salesforce.contact.update', { id: '0035e00000AAAAAAA1', fields: { Title: 'CEO' } });
    stub.failNext({ status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] });
    expect(await runStep('salesforce.contact.update', { id: '0035e00000AAAAAAA1', fields: { Title: 'CTO' } })).toMatchObject({ updated: true });
    expect(stub.calls()).toEqual([
      'POST /services/oauth2/token',
      `PATCH ${V}/sobjects/Contact/0035e00000AAAAAAA1`,
      `PATCH ${V}/sobjects/Contact/0035e00000AAAAAAA1`,
      'POST /services/oauth2/token',
      `PATCH ${V}/sobjects/Contact/0035e00000AAAAAAA1`,
    ]);
  });

  it('bad client credentials: permanent, with the OAuth error', async () => {
    stub.failNext({ status: 400, body: { error: 'invalid_client', error_description: 'invalid client credentials' } });
    const error = await stepError('salesforce.contact.update', { id: '0035e00000AAAAAAA1', fields: { Title: 'CEO' } });
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe('Salesforce (sign in) answered 400: invalid_client: invalid client credentials');
  });
});

describe('Salesforce errors', () => {
  it('429 and 503: transient with Retry-After; jsforce does not retry them itself', async () => {
    stub.failNext({ status: 429, headers: { 'retry-after': '7' }, body: [{ message: 'Too many requests', errorCode: 'REQUEST_LIMIT_EXCEEDED' }] });
    const limited = await stepError('salesforce.lead.upsert', lead);
    expect(limited).toBeInstanceOf(TransientError);
    expect(limited.retryAfterMs).toBe(7000);
    expect(limited.message).toBe('Salesforce (upsert lead) answered 429: REQUEST_LIMIT_EXCEEDED: Too many requests');
    stub.failNext({ status: 503, headers: { 'content-type': 'text/html' }, body: '<html>Maintenance</html>' });
    const down = await stepError('salesforce.lead.upsert', lead);
    expect(down).toBeInstanceOf(TransientError);
    expect(down.message).toBe('Salesforce (upsert lead) answered 503: ERROR_HTTP_503');
    expect(stub.requests).toHaveLength(2);
  });

  it('500: transient; 403 REQUEST_LIMIT_EXCEEDED (daily API limit) and UNABLE_TO_LOCK_ROW: transient', async () => {
    stub.failNext({ status: 500, body: [{ message: 'An unexpected error occurred', errorCode: 'UNKNOWN_EXCEPTION' }] });
    expect(await stepError('salesforce.task.create', {})).toBeInstanceOf(TransientError);
    stub.failNext({ status: 403, body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }] });
    expect(await stepError('salesforce.task.create', {})).toBeInstanceOf(TransientError);
    stub.failNext({ status: 200, body: { totalSize: 0, done: true, records: [] } });
    stub.failNext({ status: 400, body: [{ message: 'unable to obtain exclusive access to this record', errorCode: 'UNABLE_TO_LOCK_ROW' }] });
    expect(await stepError('salesforce.task.create', {})).toBeInstanceOf(TransientError);
  });

  it('400 on create: permanent, with the fields Salesforce names', async () => {
    stub.failNext(
      { status: 200, body: { totalSize: 0, done: true, records: [] } },
      { status: 400, body: [{ message: 'Required fields are missing: [Company]', errorCode: 'REQUIRED_FIELD_MISSING', fields: ['Company'] }] },
    );
    const error = await stepError('salesforce.lead.upsert', { fields: { LastName: 'X', Phone: '+14155550142' } });
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe('Salesforce (upsert lead) answered 400: REQUIRED_FIELD_MISSING: Required fields are missing: [Company]');
  });

  it('a refused call keeps its evidence: the request and Salesforce\'s answer, masked', async () => {
    stub.failNext(
      { status: 200, body: { totalSize: 0, done: true, records: [] } },
      { status: 400, body: [{ message: 'Phone +14155550142 is invalid', errorCode: 'INVALID_FIELD' }] },
    );
    const error = await stepError('salesforce.lead.upsert', { fields: { LastName: 'X', Company: 'Y', Phone: '+14155550142' } });
    expect(storedEvidence(evidenceOf(error)!)).toEqual({
      method: 'POST', url: `${stub.url}/services/data/v59.0/sobjects/Lead`, status: 400,
      body: '[{"message":"Phone +1••••••••42 is invalid","errorCode":"INVALID_FIELD"}]', truncated: false,
    });
  });

  it('401 with a fixed access token: permanent (no refresh loop)', async () => {
    stub.failNext({ status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] });
    const error = await stepError('salesforce.task.create', {});
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe('Salesforce (create task) answered 401: INVALID_SESSION_ID: Session expired or invalid');
    expect(stub.requests).toHaveLength(1);
  });

  it('404: permanent', async () => {
    const error = await stepError('salesforce.contact.update', { id: '0035e00000AAAAAAA1', fields: { Title: 'CEO' } });
    // The stub has no such contact: NOT_FOUND
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe('Salesforce (update contact) answered 404: NOT_FOUND: The requested resource does not exist');
  });

  it('no answer within the step timeout: transient, ends at the timeout', async () => {
    stub.failNext({ status: 200, delayMs: 3_000, body: { totalSize: 0, done: true, records: [] } });
    const started = Date.now();
    const error = await stepError('salesforce.task.create', {}, { timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toMatch(/^Salesforce \(create task\): no answer (within 200 ms|in time)$/);
  });

  it('consecutive steps reuse one TCP connection (jsforce takes no agent: Node\'s global keep-alive agent)', async () => {
    await runStep('salesforce.lead.upsert', lead);
    await runStep('salesforce.lead.upsert', lead);
    expect(stub.requests.length).toBeGreaterThanOrEqual(3);
    expect(stub.connections()).toBe(1);
  });

  it('connection refused: transient', async () => {
    vi.stubEnv('SALESFORCE_INSTANCE_URL', await closedPortUrl());
    const error = await stepError('salesforce.task.create', {});
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toBe('Salesforce (create task) failed: ECONNREFUSED');
  });
});

describe('Salesforce configuration', () => {
  it('names what is missing for either way of signing in', () => {
    const step = KINDS.get('salesforce.lead.upsert')!;
    expect(step.missingConfig!()).toBeNull();
    vi.stubEnv('SALESFORCE_INSTANCE_URL', '');
    expect(step.missingConfig!()).toBe('SALESFORCE_INSTANCE_URL');
    vi.stubEnv('SALESFORCE_ACCESS_TOKEN', '');
    expect(step.missingConfig!()).toBe(
      'SALESFORCE_ACCESS_TOKEN and SALESFORCE_INSTANCE_URL, or SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET and SALESFORCE_LOGIN_URL',
    );
    vi.stubEnv('SALESFORCE_CLIENT_ID', 'id');
    expect(step.missingConfig!()).toBe('SALESFORCE_CLIENT_SECRET and SALESFORCE_LOGIN_URL');
  });
});
