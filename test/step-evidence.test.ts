// What a failed step keeps of the vendor's answer, end to end: the real service and worker, the
// real HubSpot SDK and http.request against stub vendors on 127.0.0.1. An answer of a shape the
// code does not know is permanent (one attempt, not retried until dead); every failed step
// stores the request and the start of the answer, masked, shown by the API, the Runs page and
// `aftercall runs show`; log lines say what failed without the vendor's words.
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunDetail } from '../src/store/store.js';
import { fixture } from './support/fixtures.js';
import { startStubServer, type StubServer } from './support/stub-server.js';
import { cli } from './support/cli-in-process.js';
import { logCapture, startTestService, type TestService } from './support/test-service.js';

const ADMIN = 'admin-token-0123456789';
let services: TestService[] = [];
let stubs: StubServer[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  for (const s of services) await s.cleanup().catch(() => undefined);
  for (const s of stubs) await s.close();
  services = [];
  stubs = [];
});

async function stub(replies: Parameters<typeof startStubServer>[0]) {
  const server = await startStubServer(replies);
  stubs.push(server);
  return server;
}

function call(id: number) {
  const c = fixture('seed-001-autocalls');
  c.id = id;
  c.customer_phone = '+14155550100';
  return c;
}

async function settledRun(s: TestService, status: string[]): Promise<RunDetail> {
  const [summary] = await s.waitFor(() => s.store.listRuns(), (runs) => runs.length > 0 && status.includes(runs[0]!.status));
  return (await s.store.getRun(summary!.id))!;
}

async function runPage(s: TestService, id: number): Promise<string> {
  const agent = request.agent(s.server);
  const form = await agent.get('/admin/login');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
  await agent.post('/admin/login').type('form').send({ _csrf: csrf, token: ADMIN });
  return (await agent.get(`/admin/runs/${id}`)).text;
}

/** `aftercall runs show <id> --json` on the service's database. */
async function runsShow(s: TestService, id: number): Promise<string> {
  return (await cli(['runs', 'show', String(id), '--json'], { SQLITE_PATH: s.config.SQLITE_PATH })).out;
}

const contactUpsert =
  'name: crm\nsteps:\n  - id: contact\n    use: hubspot.contact.upsert\n    with:\n      email: "jane.doe@example.com"\n      phone: "{{ call.customer_phone }}"\n';

describe('a failed step keeps its evidence', () => {
  it('a HubSpot search answer of the wrong shape: permanent after one attempt, the answer stored and shown', async () => {
    // 200, but not a search page: no `results` array.
    const hubspot = await stub([{ status: 200, body: { status: 'ok', data: [{ email: 'jane.doe@example.com', phone: '+14155550100' }] } }]);
    vi.stubEnv('HUBSPOT_ACCESS_TOKEN', 'pat-na1-secret-token');
    vi.stubEnv('HUBSPOT_BASE_URL', hubspot.url);
    const logs = logCapture();
    const s = await startTestService({ 'crm.yaml': contactUpsert }, { ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'info' }, undefined, { logTo: logs.sink });
    services.push(s);
    await s.post(call(1));
    const run = await settledRun(s, ['dead', 'retrying']);

    expect(run.status).toBe('dead');
    expect(run.attempts).toBe(1);
    expect(hubspot.requests).toHaveLength(1);
    expect(run.lastError).toMatch(/^STEP_PERMANENT: step contact: HubSpot \(upsert contact\): unexpected answer \(TypeError: page\.results is not iterable\)$/);
    const evidence = {
      method: 'POST',
      url: `${hubspot.url}/crm/v3/objects/contacts/search`,
      status: 200,
      body: '{"status":"ok","data":[{"email":"[email]","phone":"+1••••••••00"}]}',
      truncated: false,
    };
    expect(run.steps[0]).toMatchObject({ stepId: 'contact', status: 'failed', attempts: 1, evidence });

    // The API, the Runs page and `runs show` show it.
    const api = await request(s.server).get(`/api/runs/${run.id}`).set('authorization', `Bearer ${ADMIN}`);
    expect(api.body.run.steps[0].evidence).toEqual(evidence);
    const page = await runPage(s, run.id);
    expect(page).toContain(`<span class="vendor-status">HTTP 200</span> from <code>POST ${hubspot.url}/crm/v3/objects/contacts/search</code>`);
    // A JSON answer is shown pretty-printed in the JSON viewer.
    expect(page).toMatch(/<details class="json" open data-key="[^"]+:answer"><summary>Answer/);
    expect(page).toContain('&quot;email&quot;: &quot;[email]&quot;,\n      &quot;phone&quot;: &quot;+1••••••••00&quot;');
    const shown = JSON.parse(await runsShow(s, run.id)) as RunDetail;
    expect(shown.steps[0]!.evidence).toEqual(evidence);

    const text = JSON.stringify(logs.lines);
    expect(logs.lines.some((l) => l.msg === 'run is dead')).toBe(true);
    expect(text).not.toContain('jane.doe');
    expect(text).not.toContain('"data"');
  });

  it('a 500 with a body: transient, its evidence stored, the body in no log line; secrets masked in the stored URL', async () => {
    const receiver = await stub([{ status: 500, body: { error: 'boom: Jane Doe, jane.doe@example.com, +14155550100 said "cancel my order"' } }]);
    const logs = logCapture();
    const target = receiver.url.replace('http://', 'http://forwarder:hunter2@');
    const mapping =
      `name: forward\nsteps:\n  - id: forward\n    use: http.request\n` +
      `    with: { url: "${target}/calls?api_token=pd-0123456789&access_token=abc&sig=XYZ&team=sales", body: { id: "{{ call.id }}" } }\n`;
    const s = await startTestService({ 'f.yaml': mapping }, { ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'info', RETRY_BASE_DELAY_MS: '60000', RETRY_MAX_DELAY_MS: '60000' }, undefined, {
      logTo: logs.sink,
    });
    services.push(s);
    await s.post(call(2));
    const run = await settledRun(s, ['retrying', 'dead']);

    expect(run.status).toBe('retrying');
    expect(run.lastError).toMatch(/^STEP_TRANSIENT: step forward: POST 127\.0\.0\.1:\d+ answered 500$/);
    expect(run.steps[0]!.evidence).toEqual({
      method: 'POST',
      url: `${receiver.url}/calls?api_token=[secret]&access_token=[secret]&sig=[secret]&team=sales`,
      status: 500,
      body: '{"error":"boom: Jane Doe, [email], +1••••••••00 said \\"cancel my order\\""}',
      truncated: false,
    });
    const retried = logs.lines.find((l) => l.msg === 'run will be retried');
    expect(retried).toBeDefined();
    expect(retried!.error).toMatch(/answered 500$/);
    const text = JSON.stringify(logs.lines);
    for (const leak of ['boom', 'Jane Doe', 'cancel my order', 'hunter2', 'pd-0123456789']) expect(text).not.toContain(leak);
  });

  it('a long answer is kept to its first 2 KB, marked truncated', async () => {
    const receiver = await stub([{ status: 503, body: { filler: 'x'.repeat(10_000) } }]);
    const mapping = `name: forward\nsteps:\n  - id: forward\n    use: http.request\n    with: { url: "${receiver.url}/x" }\n`;
    const s = await startTestService({ 'f.yaml': mapping }, { ADMIN_TOKEN: ADMIN, RETRY_BASE_DELAY_MS: '60000', RETRY_MAX_DELAY_MS: '60000' });
    services.push(s);
    await s.post(call(3));
    const run = await settledRun(s, ['retrying', 'dead']);
    expect(run.steps[0]!.evidence).toMatchObject({ status: 503, truncated: true });
    expect(run.steps[0]!.evidence!.body).toHaveLength(2048);
    expect(run.steps[0]!.evidence!.body!.startsWith('{"filler":"xxx')).toBe(true);
  });
});
