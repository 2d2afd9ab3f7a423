// Operator features beyond the list: re-run with the current mappings (and its confirmation),
// /metrics (with METRICS_TOKEN), and /readyz's queue lag.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture } from './support/fixtures.js';
import { startStubServer, type StubServer } from './support/stub-server.js';
import { startTestService, type TestService } from './support/test-service.js';

const ADMIN = 'admin-token-0123456789';
let service: TestService | undefined;
let receiver: StubServer | undefined;
afterEach(async () => {
  await service?.cleanup();
  await receiver?.close();
  service = undefined;
  receiver = undefined;
});

async function login(s: TestService) {
  const agent = request.agent(s.server);
  const form = await agent.get('/admin/login');
  const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
  await agent.post('/admin/login').type('form').send({ _csrf: loginCsrf, token: ADMIN });
  const csrf = /name="_csrf" value="([^"]+)"/.exec((await agent.get('/admin')).text)![1]!;
  return { agent, csrf };
}

const call = (id: number) => ({ ...fixture('seed-001-autocalls'), id, customer_phone: '+14155550100' });
const threeSteps = (url: string, label: string) =>
  'name: three\nsteps:\n' +
  `  - id: crm\n    use: http.request\n    with: { url: "${url}/crm", body: { label: ${label} } }\n` +
  `  - id: sms\n    use: http.request\n    repeat: never\n    with: { url: "${url}/sms" }\n` +
  `  - id: audit\n    use: http.request\n    repeat: always\n    with: { url: "${url}/audit" }\n`;

describe('re-run with the current mappings', () => {
  it('says which steps will and will not repeat, then does exactly that', async () => {
    receiver = await startStubServer([{ status: 200, body: { ok: true } }]);
    service = await startTestService({ 'three.yaml': threeSteps(receiver.url, 'v1') }, { ADMIN_TOKEN: ADMIN });
    const s = service;
    await s.post(call(77));
    const [run] = await s.waitFor(() => s.store.listRuns(), (runs) => runs[0]?.status === 'succeeded');
    const { agent, csrf } = await login(s);
    const paths = () => receiver!.requests.map((r) => r.url);
    expect(paths()).toEqual(['/crm', '/sms', '/audit']);

    // Unchanged mapping: only the always-step would run.
    let confirm = await agent.get(`/admin/runs/${run!.id}/rerun`);
    expect(confirm.text).toContain('will not repeat (repeat: on-change; its input is unchanged)');
    expect(confirm.text).toContain('will not repeat (repeat: never; it succeeded before)');
    expect(confirm.text).toContain('will run again (repeat: always)');
    expect(confirm.text).toContain('Re-run: 1 step(s) will execute');

    // The CRM body changes in the current mapping: now the CRM step runs again too.
    const before = s.mappings.current()[0]!.hash;
    writeFileSync(join(s.config.MAPPINGS_DIR, 'three.yaml'), threeSteps(receiver.url, 'v2'));
    await s.waitFor(() => s.mappings.current()[0]!.hash, (h) => h !== before);
    confirm = await agent.get(`/admin/runs/${run!.id}/rerun`);
    expect(confirm.text).toContain('will run again (repeat: on-change; its input changed)');
    expect(confirm.text).toContain('Re-run: 2 step(s) will execute');

    expect((await agent.post(`/admin/runs/${run!.id}/rerun`).type('form').send({})).status).toBe(403); // CSRF
    const go = await agent.post(`/admin/runs/${run!.id}/rerun`).type('form').send({ _csrf: csrf });
    expect(go.headers.location).toBe(`/admin/runs/${run!.id}?notice=rerun-queued`);
    await s.waitFor(() => s.store.listRuns(), (runs) => runs[0]?.status === 'succeeded' && receiver!.requests.length === 5);
    expect(paths()).toEqual(['/crm', '/sms', '/audit', '/crm', '/audit']);
    expect(receiver.requests[3]!.json).toEqual({ label: 'v2' });
    const detail = await s.store.getRun(run!.id);
    // The SMS that was not repeated still counts as done, for later revisions' repeat: never.
    expect(detail!.steps.find((st) => st.stepId === 'sms')).toMatchObject({ status: 'succeeded' });
    expect((await agent.post('/admin/runs/999/rerun').type('form').send({ _csrf: csrf })).headers.location).toBe(
      '/admin/runs/999?notice=not-rerunnable',
    );
  });
});

describe('/metrics', () => {
  it('counts deliveries, runs, steps by connector, queue and reload errors; METRICS_TOKEN guards it', async () => {
    receiver = await startStubServer([{ status: 500 }, { status: 200 }]);
    service = await startTestService(
      { 'f.yaml': `name: f\nsteps:\n  - id: forward\n    use: http.request\n    with: { url: "${receiver.url}" }\n` },
      { METRICS_TOKEN: 'metrics-token-0123456789' },
    );
    const s = service;
    await s.post(call(1));
    await s.post(call(1));
    await request(s.server).post('/webhooks/post-call/wrong-token-000000').set('content-type', 'application/json').send('{}');
    await s.waitFor(() => s.store.listRuns(), (runs) => runs[0]?.status === 'succeeded');
    writeFileSync(join(s.config.MAPPINGS_DIR, 'broken.yaml'), 'name: [');
    await s.waitFor(() => s.mappings.problems().length, (n) => n > 0);

    expect((await request(s.server).get('/metrics')).status).toBe(401);
    const text = (await request(s.server).get('/metrics').set('authorization', 'Bearer metrics-token-0123456789')).text;
    expect(text).toMatch(/aftercall_deliveries_total\{outcome="accepted"\} 1/);
    expect(text).toMatch(/aftercall_deliveries_total\{outcome="duplicate"\} 1/);
    expect(text).toMatch(/aftercall_deliveries_total\{outcome="unauthorized"\} 1/);
    expect(text).toMatch(/aftercall_runs\{status="succeeded"\} 1/);
    expect(text).toMatch(/aftercall_runs_settled_total\{outcome="retrying"\} 1/);
    expect(text).toMatch(/aftercall_runs_settled_total\{outcome="succeeded"\} 1/);
    expect(text).toMatch(/aftercall_step_errors_total\{connector="http",kind="http.request",class="transient"\} 1/);
    expect(text).toMatch(/aftercall_step_seconds_count\{connector="http",kind="http.request",outcome="succeeded"\} 1/);
    expect(text).toMatch(/aftercall_queue_depth 0/);
    expect(text).toMatch(/aftercall_queue_oldest_due_seconds 0/);
    expect(text).toMatch(/aftercall_mapping_reload_errors_total [1-9]/);
    expect(text).toMatch(/aftercall_ingest_seconds_bucket/);
  });
});

describe('/readyz queue lag', () => {
  it('turns not-ready with a reason when due runs wait longer than READY_MAX_QUEUE_LAG_MS', async () => {
    receiver = await startStubServer([{ status: 200, delayMs: 2_500 }]);
    service = await startTestService(
      { 'f.yaml': `name: f\nsteps:\n  - id: forward\n    use: http.request\n    with: { url: "${receiver.url}" }\n` },
      { WORKER_CONCURRENCY: '1', READY_MAX_QUEUE_LAG_MS: '1000', STEP_TIMEOUT_MS: '5000', ADMIN_TOKEN: ADMIN },
    );
    const readyz = () => request(s.server).get('/readyz').set('authorization', `Bearer ${ADMIN}`);
    const s = service;
    await s.post(call(1)); // occupies the only worker slot for 2.5 s
    await s.post(call(2)); // waits in the queue
    const lagging = await s.waitFor(
      async () => (await readyz()) as { status: number; body: { checks: { queue: { ok: boolean; detail: string } } } },
      (r) => r.status === 503,
      5_000,
    );
    expect(lagging.body.checks.queue.ok).toBe(false);
    expect(lagging.body.checks.queue.detail).toMatch(/^1 run\(s\) due, oldest waiting \d+ s \(over READY_MAX_QUEUE_LAG_MS=1000/);
    await s.waitFor(() => s.store.listRuns(), (runs) => runs.length === 2 && runs.every((r) => r.status === 'succeeded'), 15_000);
    const ready = await readyz();
    expect(ready.status).toBe(200);
    expect(ready.body.checks.queue).toEqual({ ok: true, detail: '0 run(s) due, oldest waiting 0 s' });
  }, 30_000);
});
