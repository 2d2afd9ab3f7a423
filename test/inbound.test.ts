// Inbound-call variables end to end: the real service (SQLite file, mappings folder, HTTP)
// answering POST /webhooks/inbound-call with HubSpot and Pipedrive (their SDKs against stateful
// stand-ins), aftercall's own earlier calls, and http.request lookups to servers that fail or
// never answer. Bounded by events and counts; the deadline test asserts that an answer came and
// what it carried, never how fast.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signBody } from '../src/ingest/body-signature.js';
import { fakeHubSpot, fakePipedrive } from './connectors/support/fake-vendors.js';
import { closedPortUrl, startVendorStub, type VendorStub } from './connectors/support/vendor-stub.js';
import { fixture } from './support/fixtures.js';
import { startTestService, TEST_TOKEN, type TestService } from './support/test-service.js';

const ASSISTANT = '+15550100987';
const KNOWN = '+15550100123'; // in HubSpot, and called before
const PIPEDRIVE_ONLY = '+15550100456';
const STRANGER = '+15550100777';

const SUPPORT = `name: support
steps:
  - id: note
    use: log
    with: { message: "call {{ call.id }}", level: debug }
inbound:
  match: { assistant_phone: "${ASSISTANT}" }
  lookups:
    - id: crm
      use: hubspot.contact.find_by_phone
      with: { phone: "{{ inbound.customer_phone }}" }
    - id: history
      use: earlier_calls
  variables:
    customer_name: "{{ lookups.crm.firstname }}"
    known_customer: "{{ lookups.crm.found }}"
    calls_before: "{{ lookups.history.count }}"
    last_summary: "{{ lookups.history.last_summary }}"
  defaults:
    customer_name: there
    known_customer: false
    calls_before: 0
    last_summary: none
`;

const SALES = `name: sales
steps:
  - id: note
    use: log
    with: { message: "call {{ call.id }}", level: debug }
inbound:
  lookups:
    - id: person
      use: pipedrive.person.find_by_phone
      with: { phone: "{{ inbound.customer_phone }}" }
  variables:
    customer_name: "{{ lookups.person.name }}"
    organization: "{{ lookups.person.organization }}"
  defaults:
    customer_name: friend
    organization: unknown
`;

let hubspotStub: VendorStub;
let pipedriveStub: VendorStub;
let hubspot: ReturnType<typeof fakeHubSpot>;
let pipedrive: ReturnType<typeof fakePipedrive>;
const closers: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  hubspot = fakeHubSpot();
  hubspot.objects.contacts = [{ id: '901', properties: { firstname: 'Ada', lastname: 'Lovelace', phone: KNOWN }, associations: [], createdAt: new Date().toISOString() }];
  pipedrive = fakePipedrive();
  pipedrive.records.push({ id: 77, kind: 'persons', data: { name: 'Grace Hopper', phones: [{ value: PIPEDRIVE_ONLY }], emails: [] } });
  hubspotStub = await startVendorStub(hubspot.route);
  pipedriveStub = await startVendorStub(pipedrive.route);
  closers.push(() => hubspotStub.close(), () => pipedriveStub.close());
  vi.stubEnv('HUBSPOT_ACCESS_TOKEN', 'pat-na1-test-token');
  vi.stubEnv('HUBSPOT_BASE_URL', hubspotStub.url);
  vi.stubEnv('PIPEDRIVE_API_TOKEN', 'pipedrive-test-token');
  vi.stubEnv('PIPEDRIVE_BASE_URL', pipedriveStub.url);
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  vi.unstubAllEnvs();
});

async function start(mappings: Record<string, string>, env: Record<string, string> = {}): Promise<TestService> {
  const s = await startTestService(mappings, env);
  closers.push(() => s.cleanup());
  return s;
}

async function inbound(s: TestService, body: unknown, init: { path?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(s.baseUrl + (init.path ?? `/webhooks/inbound-call/${TEST_TOKEN}`), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const searches = (stub: VendorStub) => stub.requests.filter((r) => r.path.endsWith('/search')).length;

describe('POST /webhooks/inbound-call', () => {
  it('answers CRM and earlier-call variables; the same caller again is answered from the cache, nothing sent to HubSpot', async () => {
    const s = await start({ 'a-support.yaml': SUPPORT });
    const earlier = { ...fixture('seed-001-autocalls'), customer_phone: KNOWN };
    expect((await s.post(earlier)).status).toBe(202);

    const first = await inbound(s, fixture('inbound/classic'));
    expect(first).toEqual({ status: 200, body: { customer_name: 'Ada', known_customer: true, calls_before: 1, last_summary: 'Customer interested in product demo' } });
    expect(searches(hubspotStub)).toBe(1);

    const again = await inbound(s, fixture('inbound/classic'));
    expect(again.body).toEqual(first.body);
    expect(searches(hubspotStub)).toBe(1); // cache hit: no second vendor request

    const stored = await s.waitFor(() => s.store.listInbound(), (list) => list.length === 2);
    const detail = (await s.store.getInbound(stored[0]!.id))!;
    expect(detail).toMatchObject({ outcome: 'answered', status: 200, customerPhone: KNOWN, assistantPhone: ASSISTANT, mappings: ['support'], deadlineHit: false });
    expect(detail.answer).toEqual(first.body);
    expect(detail.lookups.map((l) => [l.name, l.outcome])).toEqual(expect.arrayContaining([['crm', 'cached'], ['history', 'cached']]));
    expect(JSON.parse(detail.rawBody.toString())).toEqual(fixture('inbound/classic'));
  });

  it('merges several mappings in file-name order: the first value found wins, else the first default', async () => {
    const s = await start({ 'a-support.yaml': SUPPORT, 'b-sales.yaml': SALES });
    const known = await inbound(s, fixture('inbound/classic'));
    // HubSpot (a-support) found Ada; Pipedrive (b-sales) found no one: its own variable takes its default.
    expect(known.body).toMatchObject({ customer_name: 'Ada', organization: 'unknown', known_customer: true });

    const pipedriveOnly = await inbound(s, { customer_phone: PIPEDRIVE_ONLY, assistant_phone: ASSISTANT });
    expect(pipedriveOnly.body).toMatchObject({ customer_name: 'Grace Hopper', known_customer: false, calls_before: 0 });

    const stranger = await inbound(s, { customer_phone: STRANGER, assistant_phone: ASSISTANT });
    expect(stranger.body).toEqual({ customer_name: 'there', known_customer: false, calls_before: 0, last_summary: 'none', organization: 'unknown' });

    // Another assistant's number: only b-sales (no match) answers.
    const other = await inbound(s, { customer_phone: KNOWN, assistant_phone: '+15550100111' });
    expect(other.body).toEqual({ customer_name: 'friend', organization: 'unknown' });
  });

  it('answers the newer Famulor body, matched by assistant_id; no mapping taking it answers {}', async () => {
    const byId = SUPPORT.replace(`match: { assistant_phone: "${ASSISTANT}" }`, 'match: { assistant_id: 123 }');
    const s = await start({ 'a-support.yaml': byId });
    expect((await inbound(s, fixture('inbound/famulor-assistant'))).body).toMatchObject({ customer_name: 'Ada', known_customer: true });
    expect(await inbound(s, { ...fixture<Record<string, unknown>>('inbound/famulor-assistant'), assistant_id: 999 })).toEqual({ status: 200, body: {} });
  });

  it('a lookup that never answers: the answer comes at the deadline with the defaults, and the timeout is counted and stored', async () => {
    const arrived: Array<() => void> = [];
    let reached = 0;
    const hanging: Server = createServer(() => {
      reached++;
      arrived.splice(0).forEach((f) => f());
    }); // never answers
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => { hanging.closeAllConnections(); hanging.close(resolve); }));
    const refused = await closedPortUrl();
    const hang = `name: hang
steps:
  - id: note
    use: log
    with: { message: "x", level: debug }
inbound:
  lookups:
    - id: account
      use: http.request
      with: { method: GET, url: "http://127.0.0.1:${(hanging.address() as AddressInfo).port}/accounts?phone={{ $encodeUrlComponent(inbound.customer_phone) }}" }
    - id: down
      use: http.request
      with: { method: GET, url: "${refused}/x" }
    - id: history
      use: earlier_calls
  variables:
    plan: "{{ lookups.account.body.plan }}"
    region: "{{ lookups.down.body.region }}"
    calls_before: "{{ lookups.history.count }}"
  defaults:
    plan: standard
    region: eu
    calls_before: -1
`;
    const s = await start({ 'hang.yaml': hang });
    const reachedHanging = new Promise<void>((resolve) => (reached > 0 ? resolve() : arrived.push(resolve)));
    const answer = await inbound(s, fixture('inbound/classic'));
    await reachedHanging;
    expect(reached).toBe(1);
    // What was known (aftercall's own store answered: no calls yet) plus the defaults of the lookups that did not.
    expect(answer).toEqual({ status: 200, body: { plan: 'standard', region: 'eu', calls_before: 0 } });

    const [stored] = await s.waitFor(() => s.store.listInbound(), (list) => list.length === 1);
    const detail = (await s.store.getInbound(stored!.id))!;
    expect(detail.deadlineHit).toBe(true);
    expect(Object.fromEntries(detail.lookups.map((l) => [l.name, l.outcome]))).toEqual({ account: 'timeout', down: 'failed', history: 'ok' });
    const metrics = await (await fetch(`${s.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/aftercall_inbound_lookups_total\{kind="http.request",outcome="timeout"\} 1/);
    expect(metrics).toMatch(/aftercall_inbound_lookups_total\{kind="http.request",outcome="failed"\} 1/);
    expect(metrics).toMatch(/aftercall_inbound_requests_total\{outcome="deadline"\} 1/);
  });

  it('needs the webhook token like post-call: none or a wrong one is 401, other methods 405', async () => {
    const s = await start({ 'a-support.yaml': SUPPORT });
    expect((await inbound(s, fixture('inbound/classic'), { path: '/webhooks/inbound-call' })).status).toBe(401);
    expect((await inbound(s, fixture('inbound/classic'), { path: '/webhooks/inbound-call/wrong-token-0123456789' })).body).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await inbound(s, fixture('inbound/classic'), { path: '/webhooks/inbound-call', headers: { authorization: `Bearer ${TEST_TOKEN}` } })).status).toBe(200);
    expect((await inbound(s, fixture('inbound/classic'), { path: `/webhooks/inbound-call?token=${TEST_TOKEN}` })).status).toBe(200);
    expect((await fetch(`${s.baseUrl}/webhooks/inbound-call/${TEST_TOKEN}`)).status).toBe(405);
    expect(searches(hubspotStub)).toBe(1);
  });

  it('verifies the 2.0 signature (X-Famulor-Signature: sha256=<hex HMAC of the raw body>) when a signing secret is set', async () => {
    const secret = 'famulor-signing-secret-1234';
    const s = await start({ 'a-support.yaml': SUPPORT }, { WEBHOOK_SIGNING_SECRET: secret });
    const body = JSON.stringify(fixture('inbound/famulor-assistant'));
    expect((await inbound(s, body, { headers: { 'x-famulor-signature': signBody(secret, body) } })).status).toBe(200);
    const wrong = await inbound(s, body, { headers: { 'x-famulor-signature': signBody('another-secret', body) } });
    expect(wrong).toMatchObject({ status: 401, body: { code: 'BAD_SIGNATURE' } });
    expect((await inbound(s, body)).status).toBe(401);
    expect(await s.waitFor(() => s.store.listInbound(), (list) => list.length === 1)).toHaveLength(1); // refused ones are not stored
  });

  it('a malformed body gets a 4xx naming the problem and is stored; a wrong content type is 415', async () => {
    const s = await start({ 'a-support.yaml': SUPPORT });
    const notJson = await inbound(s, '{"customer_phone": "+1555');
    expect(notJson).toMatchObject({ status: 400, body: { code: 'MALFORMED_JSON' } });
    const badField = await inbound(s, { customer_phone: 4915112345678, assistant_phone: ASSISTANT });
    expect(badField.status).toBe(422);
    expect(badField.body).toMatchObject({ code: 'INVALID_INBOUND_REQUEST', errors: [{ path: 'customer_phone' }] });
    expect((await inbound(s, [1, 2])).body).toMatchObject({ errors: [{ path: '', message: 'the body must be a JSON object' }] });
    const text = await fetch(`${s.baseUrl}/webhooks/inbound-call/${TEST_TOKEN}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(text.status).toBe(415);

    const stored = await s.store.listInbound();
    expect(stored.map((r) => [r.outcome, r.status])).toEqual([['invalid', 422], ['invalid', 422], ['invalid', 400]]);
    expect(badField.body.inbound_id).toBe(stored[1]!.id);
    expect((await s.store.getInbound(stored[2]!.id))!.rawBody.toString()).toBe('{"customer_phone": "+1555');
    expect(searches(hubspotStub)).toBe(0);
  });

  it('shows on the Runs page: a list and a detail view, phones masked, values escaped', async () => {
    hubspot.objects.contacts![0]!.properties.firstname = '<script>alert(1)</script>';
    const admin = 'admin-token-0123456789';
    const s = await start({ 'a-support.yaml': SUPPORT }, { ADMIN_TOKEN: admin });
    await inbound(s, fixture('inbound/classic'));
    await inbound(s, '{"customer_phone": ');
    const [refused, answered] = await s.waitFor(() => s.store.listInbound(), (list) => list.length === 2);
    const agent = request.agent(s.server);
    const form = await agent.get('/admin/login');
    await agent.post('/admin/login').type('form').send({ _csrf: /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!, token: admin });

    const list = await agent.get('/admin/inbound');
    expect(list.status).toBe(200);
    expect(list.text).toContain(`href="/admin/inbound/${answered!.id}"`);
    expect(list.text).toContain('refused 400');
    expect(list.text).not.toContain(KNOWN);
    expect(list.text).toContain('+1••••••••23');

    const detail = await agent.get(`/admin/inbound/${answered!.id}`);
    expect(detail.status).toBe(200);
    expect(detail.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(detail.text).not.toContain('<script>alert');
    expect(detail.text).toContain('hubspot.contact.find_by_phone');
    expect(detail.text).not.toContain(KNOWN);
    expect((await agent.get(`/admin/inbound/${refused!.id + 100}`)).status).toBe(404);
    expect((await agent.get('/admin/inbound/abc')).status).toBe(404);
  });
});
