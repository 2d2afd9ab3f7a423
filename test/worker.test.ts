// The worker against real receivers: retries with backoff, Retry-After, permanent failures,
// dead letters and operator retry, repeat policies across revisions, step outputs.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunDetail } from '../src/store/store.js';
import { fixture } from './support/fixtures.js';
import { startStubServer, type StubServer } from './support/stub-server.js';
import { logCapture, startTestService, type TestService } from './support/test-service.js';

const ADMIN = 'admin-token-0123456789';
let services: TestService[] = [];
let stubs: StubServer[] = [];
afterEach(async () => {
  for (const s of services) await s.cleanup().catch(() => undefined);
  for (const s of stubs) await s.close();
  services = [];
  stubs = [];
});

async function stub(...replies: Parameters<typeof startStubServer>[0][]) {
  const server = await startStubServer(replies[0]);
  stubs.push(server);
  return server;
}
async function start(mappings: Record<string, string>, env: Record<string, string> = {}) {
  const service = await startTestService(mappings, { ADMIN_TOKEN: ADMIN, ...env });
  services.push(service);
  return service;
}

function call(id: number, extracted: Record<string, unknown> = {}) {
  const c = fixture('seed-001-autocalls');
  c.id = id;
  c.customer_phone = '+14155550100';
  c.extracted_variables = { ...(c.extracted_variables as object), ...extracted };
  return c;
}

const forward = (url: string, extra = '') =>
  `name: forward\nsteps:\n  - id: forward\n    use: http.request\n${extra}    with: { url: "${url}", body: { id: "{{ call.id }}", summary: "{{ extracted.summary }}" } }\n`;

async function settledRun(s: TestService, status: string | string[]): Promise<RunDetail> {
  const wanted = Array.isArray(status) ? status : [status];
  const [summary] = await s.waitFor(() => s.store.listRuns(), (runs) => runs.length > 0 && wanted.includes(runs[0]!.status));
  return (await s.store.getRun(summary!.id))!;
}

describe('retries', () => {
  it('a receiver that fails twice then succeeds: three attempts, one success, run succeeded', async () => {
    const receiver = await stub([{ status: 500, body: { error: 'boom' } }, { status: 503 }, { status: 200, body: { id: 'rec-1' } }]);
    const s = await start({ 'f.yaml': forward(`${receiver.url}/calls`) });
    expect((await s.post(call(1))).status).toBe(202);
    const run = await settledRun(s, 'succeeded');
    expect(receiver.requests).toHaveLength(3);
    expect(run.attempts).toBe(2); // two failed attempts before the success
    expect(run.steps[0]).toMatchObject({ stepId: 'forward', status: 'succeeded', attempts: 3, output: { status: 200, body: { id: 'rec-1' } } });
    // Every attempt carried the same idempotency key, so the receiver can dedupe.
    expect(new Set(receiver.requests.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect(receiver.requests[2]!.json).toEqual({ id: 1, summary: 'Customer interested in product demo' });
  });

  it('honours Retry-After on 429 over the (much shorter) backoff', async () => {
    const receiver = await stub([{ status: 429, headers: { 'retry-after': '1' } }, { status: 200 }]);
    const s = await start({ 'f.yaml': forward(receiver.url) }); // base backoff: 20 ms
    await s.post(call(2));
    await settledRun(s, 'succeeded');
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.requests[1]!.at - receiver.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('a timeout is transient and retried', async () => {
    const receiver = await stub([{ status: 200, delayMs: 1_500 }, { status: 200, body: { ok: 1 } }]);
    const s = await start({ 'f.yaml': forward(receiver.url) }, { STEP_TIMEOUT_MS: '200' });
    await s.post(call(3));
    const run = await settledRun(s, 'succeeded');
    expect(run.attempts).toBe(1);
    expect(run.steps[0]!.attempts).toBe(2);
  });

  it('a 4xx is permanent: dead at once with what the receiver said', async () => {
    const receiver = await stub([{ status: 400, body: { error: 'field "summary" too long' } }]);
    const s = await start({ 'f.yaml': forward(receiver.url) });
    await s.post(call(4));
    const run = await settledRun(s, 'dead');
    expect(receiver.requests).toHaveLength(1);
    expect(run.lastError).toMatch(/^STEP_PERMANENT: step forward: POST 127\.0\.0\.1:\d+ answered 400$/);
    // What the receiver said is the step's evidence.
    expect(run.steps[0]).toMatchObject({ status: 'failed', evidence: { status: 400, body: '{"error":"field \\"summary\\" too long"}' } });
  });

  it('transient failures up to RETRY_MAX_ATTEMPTS end in the dead letter', async () => {
    const receiver = await stub([{ status: 502 }]);
    const s = await start({ 'f.yaml': forward(receiver.url) }, { RETRY_MAX_ATTEMPTS: '3' });
    await s.post(call(5));
    const run = await settledRun(s, 'dead');
    expect(receiver.requests).toHaveLength(3);
    expect(run.attempts).toBe(3);
    expect(run.lastError).toMatch(/^RETRIES_EXHAUSTED after 3 attempts: STEP_TRANSIENT/);
  });
});

describe('dead runs can be retried without repeating completed steps', () => {
  const twoSteps = (a: string, b: string) =>
    `name: two\nsteps:\n  - id: crm\n    use: http.request\n    with: { url: "${a}" }\n` +
    `  - id: notify\n    use: http.request\n    with: { url: "${b}", body: { crm: "{{ steps.crm.body.id }}" } }\n`;

  it('via the admin API', async () => {
    const crm = await stub([{ status: 201, body: { id: 'contact-77' } }]);
    const notify = await stub([{ status: 401, body: { error: 'bad key' } }]);
    const s = await start({ 'two.yaml': twoSteps(crm.url, notify.url) });
    await s.post(call(6));
    const dead = await settledRun(s, 'dead');
    expect(dead.steps.map((st) => [st.stepId, st.status])).toEqual([['crm', 'succeeded'], ['notify', 'failed']]);

    const api = request(s.server);
    expect((await api.post(`/api/runs/${dead.id}/retry`)).status).toBe(401);
    notify.script([{ status: 200, body: { sent: true } }]);
    const retried = await api.post(`/api/runs/${dead.id}/retry`).set('authorization', `Bearer ${ADMIN}`);
    expect(retried.status).toBe(202);
    const done = await settledRun(s, 'succeeded');
    expect(crm.requests).toHaveLength(1); // not repeated
    expect(notify.requests).toHaveLength(2);
    // The later step read the earlier step's stored output.
    expect(notify.requests[1]!.json).toEqual({ crm: 'contact-77' });
    expect(done.steps.find((st) => st.stepId === 'notify')).toMatchObject({ status: 'succeeded', attempts: 2 });

    const again = await api.post(`/api/runs/${dead.id}/retry`).set('authorization', `Bearer ${ADMIN}`);
    expect(again.status).toBe(409);
    expect((await api.post('/api/runs/9999/retry').set('authorization', `Bearer ${ADMIN}`)).status).toBe(404);
  });
});

describe('mapping semantics in the worker', () => {
  it('skips a step whose `when` is false and records why', async () => {
    const receiver = await stub([{ status: 200 }]);
    const s = await start({
      'w.yaml': `name: w\nsteps:\n  - id: hot\n    use: http.request\n    when: 'extracted.lead_quality = "high"'\n    with: { url: "${receiver.url}/hot" }\n` +
        `  - id: cold\n    use: http.request\n    when: 'extracted.lead_quality = "low"'\n    with: { url: "${receiver.url}/cold" }\n`,
    });
    await s.post(call(7));
    const run = await settledRun(s, 'succeeded');
    expect(receiver.requests.map((r) => r.url)).toEqual(['/hot']);
    expect(run.steps.find((st) => st.stepId === 'cold')).toMatchObject({ status: 'skipped', error: `when is false: extracted.lead_quality = "low"` });
  });

  it('a rendered input that does not fit the step kind is a permanent, named error', async () => {
    const s = await start({ 'bad.yaml': 'name: bad\nsteps:\n  - id: forward\n    use: http.request\n    with: { url: "{{ extracted.summary }}" }\n' });
    await s.post(call(8));
    const run = await settledRun(s, 'dead');
    expect(run.lastError).toMatch(/^STEP_INVALID_INPUT: step forward \(http\.request\): with\.url: /);
  });

  it('repeat policies decide what a re-evaluated call repeats', async () => {
    const receiver = await stub([{ status: 200, body: { ok: true } }]);
    const yaml =
      'name: revisions\nsteps:\n' +
      `  - id: crm\n    use: http.request\n    with: { url: "${receiver.url}/crm", body: { quality: "{{ extracted.lead_quality }}" } }\n` +
      `  - id: sms\n    use: http.request\n    repeat: never\n    with: { url: "${receiver.url}/sms" }\n` +
      `  - id: audit\n    use: http.request\n    repeat: always\n    with: { url: "${receiver.url}/audit" }\n`;
    const s = await start({ 'r.yaml': yaml });
    const paths = () => receiver.requests.map((r) => r.url);
    const allSettled = (n: number) => s.waitFor(() => s.store.listRuns(), (runs) => runs.length === n && runs.every((r) => r.status === 'succeeded'));

    await s.post(call(9, { summary: 'v1' }));
    await allSettled(1);
    expect(paths()).toEqual(['/crm', '/sms', '/audit']);

    // Re-evaluated, but nothing the CRM step sends changed: on-change skips, never skips, always runs.
    expect((await s.post(call(9, { summary: 'v2' }))).body.revision).toBe(2);
    await allSettled(2);
    expect(paths()).toEqual(['/crm', '/sms', '/audit', '/audit']);

    // The CRM input changed: on-change runs again; the SMS still never repeats.
    expect((await s.post(call(9, { summary: 'v3', lead_quality: 'medium' }))).body.revision).toBe(3);
    const runs = await allSettled(3);
    expect(paths()).toEqual(['/crm', '/sms', '/audit', '/audit', '/crm', '/audit']);
    const third = (await s.store.getRun(runs[0]!.id))!;
    expect(third.steps.find((st) => st.stepId === 'sms')).toMatchObject({ status: 'skipped', error: 'repeat: never (done for revision 1)' });
  });

  it('graceful stop lets a running step finish', async () => {
    const receiver = await stub([{ status: 200, delayMs: 400, body: { slow: true } }]);
    const s = await start({ 'f.yaml': forward(receiver.url) });
    await s.post(call(10));
    await s.waitFor(() => receiver.requests.length, (n) => n === 1);
    await s.stopKeepingFiles();
    services = services.filter((x) => x !== s);
    const again = await startTestService({ 'f.yaml': forward(receiver.url) }, {}, { dir: s.dir });
    services.push(again);
    const [run] = await again.store.listRuns();
    expect(run).toMatchObject({ status: 'succeeded' });
    expect(receiver.requests).toHaveLength(1);
  });

  it('a call whose variables break the declaration gets an invalid-variables run; a fitting one is scored', async () => {
    const receiver = await stub([{ status: 200 }]);
    const declared = (budgetType: string) =>
      `name: typed\nvariables:\n  status: boolean\n  budget: ${budgetType}\nscore:\n  weights: { budget: 0.01 }\n` +
      `  rules:\n    - { when: 'extracted.status = true', add: 10 }\n  bands: { hot: 50, cold: 0 }\n` +
      `steps:\n  - id: crm\n    use: http.request\n    with: { url: "${receiver.url}", body: { score: "{{ score.value }}", band: "{{ score.band }}" } }\n`;
    const s = await start({ 'typed.yaml': declared('number') });
    await s.post(call(11, { budget: 'about 5k' }));
    const invalid = await settledRun(s, 'invalid-variables');
    expect(invalid.lastError).toBe('INVALID_VARIABLES: extracted.budget: expected number, got "about 5k"');
    expect(receiver.requests).toHaveLength(0);

    // A number arrives: scored (5000 × 0.01 + 10 = 60 → hot), stored on the run, used by the step.
    await s.post(call(12, { budget: 5000 }));
    await s.waitFor(() => s.store.listRuns(), (runs) => runs.some((r) => r.callId === '12' && r.status === 'succeeded'));
    const scored = (await s.store.listRuns()).find((r) => r.callId === '12')!;
    expect(scored.score).toEqual({ value: 60, band: 'hot', fired: [{ source: 'weight budget', add: 50 }, { source: 'extracted.status = true', add: 10 }] });
    expect(receiver.requests[0]!.json).toEqual({ score: 60, band: 'hot' });
  });
});

describe('logs', () => {
  it("a step's log lines carry its run, call, mapping and step (the loggers are made when first used)", async () => {
    const { sink, lines } = logCapture();
    const mapping = 'name: noisy\nsteps:\n  - id: say\n    use: log\n    with: { message: "hello {{ call.id }}", level: warn }\n';
    const s = await startTestService({ 'noisy.yaml': mapping }, { ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn' }, undefined, { logTo: sink });
    services.push(s);
    await s.post(call(21));
    const [run] = await s.waitFor(() => s.store.listRuns(), (runs) => runs[0]?.status === 'succeeded');
    const said = await s.waitFor(() => lines.filter((l) => l.msg === 'hello 21'), (found) => found.length === 1);
    expect(said[0]).toMatchObject({ level: 'warn', run_id: run!.id, call_id: 21, revision: 1, mapping: 'noisy', step: 'say' });
  });
});
