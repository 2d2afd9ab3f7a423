// The Runs page's defences: no access without the token, CSRF on every POST, escaped output,
// masked phones, security headers and cookie flags.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture } from './support/fixtures.js';
import { startTestService, type TestService } from './support/test-service.js';

const ADMIN = 'admin-token-0123456789';
const LOG = { 'log.yaml': 'name: log-all\nsteps:\n  - id: note\n    use: log\n    with: { message: "{{ extracted.summary }}", level: debug }\n' };
let service: TestService | undefined;
afterEach(async () => {
  await service?.cleanup();
  service = undefined;
});

/** Logs in through the form like a browser: returns the session cookie and the page's CSRF token. */
async function login(s: TestService) {
  const agent = request.agent(s.server);
  const form = await agent.get('/admin/login');
  const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
  const done = await agent.post('/admin/login').type('form').send({ _csrf: loginCsrf, token: ADMIN, next: '/admin' });
  expect(done.status).toBe(303);
  expect(done.headers.location).toBe('/admin');
  const cookie = done.headers['set-cookie'] as unknown as string[];
  const session = cookie.find((c) => c.startsWith('aftercall_admin='))!;
  expect(session).toMatch(/HttpOnly/i);
  expect(session).toMatch(/SameSite=Strict/i);
  const list = await agent.get('/admin');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(list.text)![1]!;
  return { agent, csrf, list, cookie: session.split(';')[0]! };
}

async function deadRun(s: TestService) {
  const call = fixture('seed-001-autocalls');
  call.id = 90001;
  call.customer_phone = '+14155550142';
  (call.extracted_variables as Record<string, unknown>).summary = '<script>alert("x")</script><b>bold</b>';
  expect((await s.post(call)).status).toBe(202);
  return s.waitFor(() => s.store.listRuns(), (runs) => runs[0]?.status === 'succeeded');
}

describe('admin page security', () => {
  it('is absent without ADMIN_TOKEN', async () => {
    service = await startTestService(LOG);
    expect((await request(service.server).get('/admin')).status).toBe(404);
  });

  it('needs a login: GETs redirect to the form, POSTs are refused, a wrong token is refused', async () => {
    service = await startTestService(LOG, { ADMIN_TOKEN: ADMIN });
    const s = service;
    const list = await request(s.server).get('/admin?status=dead');
    expect(list.status).toBe(303);
    expect(list.headers.location).toBe('/admin/login?next=%2Fadmin%3Fstatus%3Ddead');
    expect((await request(s.server).get('/admin/runs/1')).status).toBe(303);
    expect((await request(s.server).post('/admin/runs/1/retry').type('form').send({ _csrf: 'x' })).status).toBe(401);
    // A forged or expired cookie is no session.
    const forged = await request(s.server).get('/admin').set('cookie', 'aftercall_admin=9999999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(forged.status).toBe(303);

    const agent = request.agent(s.server);
    const form = await agent.get('/admin/login');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
    const wrong = await agent.post('/admin/login').type('form').send({ _csrf: csrf, token: 'not-the-admin-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('That token is not right.');
    expect(wrong.headers['set-cookie']?.toString() ?? '').not.toContain('aftercall_admin=');
  });

  it('logging out ends the session: a copy of the cookie no longer works', async () => {
    service = await startTestService(LOG, { ADMIN_TOKEN: ADMIN });
    const s = service;
    const { agent, csrf, cookie } = await login(s);
    expect((await request(s.server).get('/admin').set('cookie', cookie)).status).toBe(200);
    const out = await agent.post('/admin/logout').type('form').send({ _csrf: csrf });
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/admin/login');
    const reused = await request(s.server).get('/admin').set('cookie', cookie);
    expect(reused.status).toBe(303);
    expect(reused.headers.location).toBe('/admin/login?next=%2Fadmin');
    expect((await request(s.server).post('/admin/runs/1/retry').set('cookie', cookie).type('form').send({ _csrf: csrf })).status).toBe(401);
    // Ended in the store, which every instance asks (PostgreSQL: one database for all).
    const sessionId = /^aftercall_admin=\d+\.([\w-]+)\./.exec(cookie)![1]!;
    expect(await s.store.adminSessionActive(sessionId, Date.now())).toBe(false);
  });

  it('rejects POSTs without the CSRF token, including the login form', async () => {
    service = await startTestService(LOG, { ADMIN_TOKEN: ADMIN });
    const s = service;
    const noLoginCsrf = await request(s.server).post('/admin/login').type('form').send({ token: ADMIN });
    expect(noLoginCsrf.status).toBe(403);
    expect(noLoginCsrf.headers['set-cookie']?.toString() ?? '').not.toContain('aftercall_admin=');

    const { agent, csrf } = await login(s);
    expect((await agent.post('/admin/runs/1/retry').type('form').send({})).status).toBe(403);
    expect((await agent.post('/admin/runs/1/retry').type('form').send({ _csrf: `${csrf}x` })).status).toBe(403);
    expect((await agent.post('/admin/quarantine/1/replay').type('form').send({ _csrf: 'nope' })).status).toBe(403);
    const ok = await agent.post('/admin/runs/1/retry').type('form').send({ _csrf: csrf });
    expect(ok.status).toBe(303); // accepted (the run is not dead, so nothing happens)
    expect(ok.headers.location).toBe('/admin/runs/1?notice=not-retryable');
  });

  it('shows HTML from payloads escaped and phones masked, with strict security headers', async () => {
    service = await startTestService(LOG, { ADMIN_TOKEN: ADMIN });
    const s = service;
    const [run] = await deadRun(s);
    const { agent, list } = await login(s);
    expect(list.text).toContain('+1••••••••42');
    expect(list.text).not.toContain('+14155550142');

    const detail = await agent.get(`/admin/runs/${run!.id}`);
    expect(detail.status).toBe(200);
    expect(detail.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;');
    expect(detail.text).not.toContain('<script>alert');
    expect(detail.text).not.toContain('<b>bold</b>');
    expect(detail.text).not.toContain('+14155550142');
    expect(detail.text).toContain('+1••••••••42');

    const csp = detail.headers['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
    // Scripts only from the page's own origin: no inline script, no eval, trusted types.
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(detail.headers['x-content-type-options']).toBe('nosniff');
    expect(detail.text).not.toMatch(/<script(?![^>]*\ssrc="\/admin\/assets\/admin\.js")/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(detail.headers['x-content-type-options']).toBe('nosniff');
    expect(detail.headers['cache-control']).toBe('no-store');
  });

  it('masks phones and emails in step inputs and extracted variables on the run page, whatever their format', async () => {
    const mapping = { 'log.yaml': 'name: log-all\nsteps:\n  - id: note\n    use: log\n    with:\n      message: "ring {{ extracted.callback }}"\n      level: debug\n' +
      '      fields: { callback: "+1 415 555 0142", national: "0151 2345 6789", who: { mail: "jane.doe@example.com" } }\n' };
    service = await startTestService(mapping, { ADMIN_TOKEN: ADMIN });
    const s = service;
    const call = fixture('seed-001-autocalls');
    call.id = 90002;
    (call.extracted_variables as Record<string, unknown>).callback = '(415) 555-0142';
    expect((await s.post(call)).status).toBe(202);
    const [run] = await s.waitFor(() => s.store.listRuns(), (runs) => runs[0]?.status === 'succeeded');
    expect((await s.store.getRun(run!.id))!.steps[0]!.input).toMatchObject({ fields: { callback: '+1 415 555 0142' } });
    const { agent } = await login(s);
    const detail = await agent.get(`/admin/runs/${run!.id}`);
    expect(detail.status).toBe(200);
    for (const secret of ['415 555 0142', '555-0142', '2345 6789', 'jane.doe@example.com']) expect(detail.text).not.toContain(secret);
    expect(detail.text).toContain('+1 ••• ••• ••42');
    expect(detail.text).toContain('•••• •••• ••89');
  });

  it('never redirects off-site after login', async () => {
    service = await startTestService(LOG, { ADMIN_TOKEN: ADMIN });
    const agent = request.agent(service.server);
    const form = await agent.get('/admin/login?next=https://evil.example/');
    expect(form.text).toContain('name="next" value="/admin"');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
    const done = await agent.post('/admin/login').type('form').send({ _csrf: csrf, token: ADMIN, next: '//evil.example/' });
    expect(done.headers.location).toBe('/admin');
  });
});
