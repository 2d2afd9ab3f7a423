// The receiving path end to end over real HTTP: auth, content checks, signatures, replies,
// dedupe and revisions, quarantine and replay, against a real SQLite file.
import Database from 'better-sqlite3';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { signBody } from '../src/ingest/body-signature.js';
import { fixture, fixtureText } from './support/fixtures.js';
import { startStubServer, type StubServer } from './support/stub-server.js';
import { LOG_ONLY, startTestService, TEST_TOKEN, type TestService } from './support/test-service.js';


let services: TestService[] = [];
async function start(env: Record<string, string> = {}, mappings: Record<string, string> = LOG_ONLY, reuse?: { dir: string }) {
  const service = await startTestService(mappings, env, reuse);
  services.push(service);
  return service;
}
afterEach(async () => {
  for (const s of services) await s.cleanup().catch(() => undefined);
  services = [];
});

function countRows(service: TestService, table: string): number {
  const db = new Database(service.config.SQLITE_PATH, { readonly: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** A sales call (not the documented sample, so not a test delivery). */
function salesCall(id = 700001, summary = 'Interested in the Pro plan') {
  const call = fixture('seed-001-autocalls');
  call.id = id;
  call.customer_phone = '+14155550100';
  (call.extracted_variables as Record<string, unknown>).summary = summary;
  return call;
}

describe('authentication', () => {
  it('accepts the token in the path, the query and a Bearer header', async () => {
    const s = await start();
    const body = JSON.stringify(salesCall());
    const path = await request(s.server).post(s.hookPath).set('content-type', 'application/json').send(body);
    expect(path.status).toBe(202);
    const query = await request(s.server)
      .post(`/webhooks/post-call?token=${TEST_TOKEN}`)
      .set('content-type', 'application/json')
      .send(JSON.stringify(salesCall(700002)));
    expect(query.status).toBe(202);
    const bearer = await request(s.server)
      .post('/webhooks/post-call')
      .set('authorization', `Bearer ${TEST_TOKEN}`)
      .set('content-type', 'application/json')
      .send(JSON.stringify(salesCall(700003)));
    expect(bearer.status).toBe(202);
  });

  it('answers 401 to a missing or wrong token and stores nothing', async () => {
    const s = await start();
    const body = JSON.stringify(salesCall());
    const missing = await request(s.server).post('/webhooks/post-call').set('content-type', 'application/json').send(body);
    const wrong = await request(s.server)
      .post('/webhooks/post-call/not-the-token-at-all')
      .set('content-type', 'application/json')
      .send(body);
    const wrongBearer = await request(s.server)
      .post('/webhooks/post-call')
      .set('authorization', 'Bearer nope-nope-nope-nope')
      .set('content-type', 'application/json')
      .send(body);
    for (const r of [missing, wrong, wrongBearer]) {
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ status: 'error', code: 'UNAUTHORIZED' });
    }
    expect(countRows(s, 'receipts')).toBe(0);
    expect(countRows(s, 'calls')).toBe(0);
  });

  it('takes several tokens for rotation and labels senders by name; dedupe is per sender', async () => {
    const s = await start({ WEBHOOK_TOKENS: 'acme=acme-token-1111111111,acme=acme-token-2222222222,beta=beta-token-333333333' });
    const body = JSON.stringify(salesCall());
    const send = (token: string) =>
      request(s.server).post(`/webhooks/post-call/${token}`).set('content-type', 'application/json').send(body);
    expect((await send('acme-token-1111111111')).status).toBe(202);
    // The rotated token of the same sender sees the same call: duplicate.
    expect((await send('acme-token-2222222222')).body).toMatchObject({ status: 'duplicate', revision: 1 });
    // Another sender with the same call id is another call.
    expect((await send('beta-token-333333333')).body).toMatchObject({ status: 'accepted', revision: 1 });
    expect((await send(TEST_TOKEN)).status).toBe(401);
    const runs = await s.store.listRuns();
    expect(runs.map((r) => r.sender).sort()).toEqual(['acme', 'beta']);
  });
});

describe('body signatures', () => {
  it('requires a valid sha256 HMAC of the raw body with any configured secret', async () => {
    const s = await start({ WEBHOOK_SIGNING_SECRET: 'old-secret,new-secret' });
    const body = JSON.stringify(salesCall());
    const post = (signature?: string, raw = body) => {
      const r = request(s.server).post(s.hookPath).set('content-type', 'application/json');
      if (signature) r.set('x-famulor-signature', signature);
      return r.send(raw);
    };
    expect((await post()).body.code).toBe('BAD_SIGNATURE');
    expect((await post('sha256=' + '0'.repeat(64))).status).toBe(401);
    expect((await post('garbage')).status).toBe(401);
    // Signed over different bytes (whitespace changed): the raw body is what counts.
    expect((await post(signBody('new-secret', body), body.replace('{', '{ '))).status).toBe(401);
    expect((await post(signBody('old-secret', body))).status).toBe(202);
    expect((await post(signBody('new-secret', body))).body.status).toBe('duplicate');
    expect(countRows(s, 'receipts')).toBe(2);
  });

  it('reads the signature from a configurable header', async () => {
    const s = await start({ WEBHOOK_SIGNING_SECRET: 'secret-one', WEBHOOK_SIGNATURE_HEADER: 'X-Hub-Signature-256' });
    const body = JSON.stringify(salesCall());
    const r = await request(s.server)
      .post(s.hookPath)
      .set('content-type', 'application/json')
      .set('x-hub-signature-256', signBody('secret-one', body))
      .send(body);
    expect(r.status).toBe(202);
  });
});

describe('bad input gets a clear 4xx, a JSON body and loses nothing', () => {
  it('415 for a body that is not JSON', async () => {
    const s = await start();
    const plain = await request(s.server).post(s.hookPath).set('content-type', 'text/plain').send('hello');
    expect(plain.status).toBe(415);
    expect(plain.body).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', content_type: 'text/plain' });
    const form = await request(s.server).post(s.hookPath).type('form').send({ a: 1 });
    expect(form.status).toBe(415);
    const latin1 = await request(s.server)
      .post(s.hookPath)
      .set('content-type', 'application/json; charset=iso-8859-1')
      .send(JSON.stringify(salesCall()));
    expect(latin1.status).toBe(415);
    const utf8 = await request(s.server)
      .post(s.hookPath)
      .set('content-type', 'application/json; charset=UTF-8')
      .send(JSON.stringify(salesCall()));
    expect(utf8.status).toBe(202);
  });

  it('413 beyond BODY_LIMIT_BYTES, announced or streamed', async () => {
    const s = await start({ BODY_LIMIT_BYTES: '4096' });
    const big = JSON.stringify({ ...salesCall(), formatted_transcript: 'x'.repeat(10_000) });
    const announced = await request(s.server).post(s.hookPath).set('content-type', 'application/json').send(big);
    expect(announced.status).toBe(413);
    expect(announced.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', limit_bytes: 4096 });
    // Chunked: no content-length, the limit is enforced while reading.
    const streamed = await fetch(s.baseUrl + s.hookPath, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(big));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(countRows(s, 'receipts')).toBe(0);
  });

  it('400 with a JSON error for malformed JSON or bytes that are not UTF-8, body quarantined', async () => {
    const s = await start();
    const broken = await request(s.server).post(s.hookPath).set('content-type', 'application/json').send('{"id": 1,');
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ status: 'error', code: 'MALFORMED_JSON' });
    expect(typeof broken.body.receipt_id).toBe('number');
    const receipt = await s.store.getReceipt(broken.body.receipt_id as number);
    expect(receipt).toMatchObject({ outcome: 'quarantined', reason: 'malformed-json' });
    expect(receipt!.rawBody!.toString()).toBe('{"id": 1,');

    const bytes = Buffer.concat([Buffer.from('{"id": 1, "status": "completed", "x": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const notUtf8 = await fetch(s.baseUrl + s.hookPath, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
    expect(notUtf8.status).toBe(400);
    expect(((await notUtf8.json()) as { detail: string }).detail).toMatch(/UTF-8/);
  });

  it('422 names every failing path and keeps the payload in quarantine', async () => {
    const s = await start();
    const call = salesCall();
    call.customer_phone = '0151 1234';
    (call.lead as Record<string, unknown>).favourite_colour = 'blue';
    call.status = 'done';
    const r = await request(s.server).post(s.hookPath).set('content-type', 'application/json').send(JSON.stringify(call));
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('INVALID_PAYLOAD');
    const paths = (r.body.errors as Array<{ path: string }>).map((e) => e.path).sort();
    expect(paths).toEqual(['customer_phone', 'lead.favourite_colour', 'status']);
    const quarantined = await s.store.listQuarantine();
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0]!.issues.map((i) => i.path).sort()).toEqual(paths);
    expect(countRows(s, 'runs')).toBe(0);
  });

  it('rejects prototype-pollution keys and the process stays healthy', async () => {
    const s = await start();
    const raw = fixtureText('seed-001-autocalls').replace('"extracted_variables": {', '"extracted_variables": {"__proto__": {"polluted": true},');
    const r = await request(s.server).post(s.hookPath).set('content-type', 'application/json').send(raw);
    expect(r.status).toBe(422);
    expect(r.body.errors).toEqual([{ path: 'extracted_variables.__proto__', message: 'reserved key name' }]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await request(s.server).get('/healthz')).status).toBe(200);
  });

  it('every reply is JSON with a request id; a given X-Request-Id is echoed', async () => {
    const s = await start();
    const replies = await Promise.all([
      request(s.server).post(s.hookPath).set('content-type', 'application/json').set('x-request-id', 'abc-123').send('{}'),
      request(s.server).get('/no-such-page'),
      request(s.server).get('/webhooks/post-call'),
      request(s.server).post('/webhooks/post-call').send('x'),
    ]);
    expect(replies.map((r) => r.status)).toEqual([422, 404, 405, 401]);
    expect(replies[0]!.headers['x-request-id']).toBe('abc-123');
    expect(replies[0]!.body.request_id).toBe('abc-123');
    for (const r of replies) {
      expect(r.headers['content-type']).toMatch(/application\/json/);
      expect(r.headers['x-request-id']).toMatch(/^[\w.:-]+$/);
      expect(r.body.request_id).toBe(r.headers['x-request-id']);
    }
    expect(replies[2]!.headers.allow).toBe('POST');
  });

  it('429 with a JSON body once a client passes RATE_LIMIT_PER_MINUTE', async () => {
    const s = await start({ RATE_LIMIT_PER_MINUTE: '3' });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await request(s.server).post(s.hookPath).set('content-type', 'application/json').send(JSON.stringify(salesCall(800 + i)));
      statuses.push(r.status);
      if (r.status === 429) expect(r.body.code).toBe('RATE_LIMITED');
    }
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    expect((await request(s.server).get('/healthz')).status).toBe(200); // health is not limited
  });
});

describe('dedupe and revisions', () => {
  it('a resend is a duplicate; a re-evaluation is a new revision; a late old retry never rolls back', async () => {
    const s = await start();
    const first = await s.post(salesCall(4242, 'first summary'));
    expect(first).toMatchObject({ status: 202, body: { status: 'accepted', call_id: 4242, revision: 1, runs: 1 } });
    // Same content, different key order and whitespace: still the same call content.
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(salesCall(4242, 'first summary')).reverse()), null, 2);
    expect(await s.post(reordered)).toMatchObject({ status: 200, body: { status: 'duplicate', revision: 1 } });
    const reevaluated = await s.post(salesCall(4242, 'second summary'));
    expect(reevaluated).toMatchObject({ status: 202, body: { status: 'accepted', revision: 2 } });
    const late = await s.post(salesCall(4242, 'first summary'));
    expect(late).toMatchObject({ status: 200, body: { status: 'duplicate', revision: 1 } });
    expect(countRows(s, 'revisions')).toBe(2);
    expect(countRows(s, 'runs')).toBe(2);
  });

  it('concurrent identical deliveries resolve to exactly one revision', async () => {
    const s = await start();
    const body = JSON.stringify(salesCall(5151));
    const replies = await Promise.all(
      Array.from({ length: 25 }, () => request(s.server).post(s.hookPath).set('content-type', 'application/json').send(body)),
    );
    expect(replies.filter((r) => r.status === 202)).toHaveLength(1);
    expect(replies.filter((r) => r.status === 200)).toHaveLength(24);
    expect(new Set(replies.map((r) => r.body.revision))).toEqual(new Set([1]));
    expect(countRows(s, 'runs')).toBe(1);
    expect(countRows(s, 'receipts')).toBe(25);
  });

  it('marks the "Make test request" sample and X-Aftercall-Test deliveries as tests', async () => {
    const s = await start();
    const sample = await s.post(fixture('seed-000-post-call-actions'));
    expect(sample.body).toMatchObject({ status: 'accepted', test: true });
    const marked = await s.post(salesCall(31337), { headers: { 'x-aftercall-test': 'true' } });
    expect(marked.body).toMatchObject({ status: 'accepted', test: true });
    const real = await s.post(salesCall(31338));
    expect(real.body).toMatchObject({ status: 'accepted', test: false });
    const runs = await s.waitFor(
      () => s.store.listRuns(),
      (list) => list.length === 3 && list.every((r) => r.status === 'succeeded'),
    );
    const byCall = Object.fromEntries(runs.map((r) => [r.callId, r]));
    expect(byCall['12345']).toMatchObject({ status: 'succeeded', isTest: true });
    expect(byCall['31337']).toMatchObject({ status: 'succeeded', isTest: true });
    expect(byCall['31338']).toMatchObject({ status: 'succeeded', isTest: false });
  });
});

describe('TEST_DELIVERIES', () => {
  let receiver: StubServer | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });
  /** One mapping forwarding every call to a local receiver, then logging. */
  async function forwarding(env: Record<string, string>, status = 200) {
    receiver = await startStubServer([{ status, body: { ok: status < 400 } }]);
    return start(env, {
      'forward.yaml':
        'name: forward\nsteps:\n' +
        `  - { id: post, use: http.request, with: { url: "${receiver.url}/calls", body: { call: "{{ call.id }}" } } }\n` +
        '  - { id: note, use: log, with: { message: "call {{ call.id }}", level: debug } }\n',
    });
  }
  const finished = (s: TestService, n: number) =>
    s.waitFor(() => s.store.listRuns(), (list) => list.length === n && list.every((r) => ['succeeded', 'dead', 'skipped'].includes(r.status)));

  it('run (the default): a test delivery\'s steps run for real; a failing one ends dead, still marked test', async () => {
    const admin = 'admin-token-0123456789';
    const s = await forwarding({ RETRY_MAX_ATTEMPTS: '1', ADMIN_TOKEN: admin }, 400);
    await s.post(fixture('seed-000-post-call-actions'));
    const [run] = await finished(s, 1);
    expect(run).toMatchObject({ status: 'dead', isTest: true });
    expect(receiver!.requests).toHaveLength(1);
    // The Runs page says both: dead, and a test.
    const agent = request.agent(s.server);
    const form = await agent.get('/admin/login');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
    await agent.post('/admin/login').type('form').send({ _csrf: csrf, token: admin });
    const page = (await agent.get('/admin')).text;
    const row = page.slice(page.indexOf(`/admin/runs/${run!.id}"`));
    expect(row.slice(0, row.indexOf('</tr>'))).toMatch(/<span class="badge test">test<\/span>[\s\S]*dead/);
  });

  it('dry-run: steps are evaluated and their inputs recorded, nothing is sent; real deliveries run', async () => {
    const s = await forwarding({ TEST_DELIVERIES: 'dry-run' });
    await s.post(fixture('seed-000-post-call-actions'));
    const [test] = await finished(s, 1);
    expect(test).toMatchObject({ status: 'succeeded', isTest: true });
    const detail = await s.store.getRun(test!.id);
    const steps = Object.fromEntries(detail!.steps.map((st) => [st.stepId, st]));
    expect(steps.post).toMatchObject({ status: 'skipped', error: 'test delivery (dry-run)' });
    expect(steps.note).toMatchObject({ status: 'skipped', error: 'test delivery (dry-run)', input: { message: 'call 12345' } });
    expect(steps.post!.input).toMatchObject({ url: `${receiver!.url}/calls`, body: { call: 12345 } });
    expect(receiver!.requests).toHaveLength(0);
    await s.post(salesCall(4242));
    const runs = await finished(s, 2);
    expect(runs.find((r) => r.callId === '4242')).toMatchObject({ status: 'succeeded', isTest: false });
    expect(receiver!.requests).toHaveLength(1);
  });

  it('skip: a test delivery\'s runs are recorded as skipped without evaluating', async () => {
    const s = await forwarding({ TEST_DELIVERIES: 'skip' });
    const reply = await s.post(salesCall(5353), { headers: { 'x-aftercall-test': 'true' } });
    expect(reply.body).toMatchObject({ status: 'accepted', runs: 0, test: true });
    const [run] = await s.store.listRuns();
    expect(run).toMatchObject({ mappingName: 'forward', status: 'skipped', isTest: true, lastError: 'test delivery (TEST_DELIVERIES=skip)' });
    expect((await s.store.getRun(run!.id))!.steps).toEqual([]);
    expect(await s.store.claimRuns('probe', 10, Date.now() + 60_000, 1_000)).toEqual([]);
    expect(receiver!.requests).toHaveLength(0);
  });
});

describe('calls no mapping takes', () => {
  it('still show up in the run history as skipped, saying why (a "Make test request" included)', async () => {
    const s = await start({}, {
      'sales.yaml': 'name: sales\nmatch: { assistant_phone: "+16505550199" }\nsteps:\n  - { id: a, use: log, with: { message: m } }\n',
    });
    const reply = await s.post(fixture('seed-000-post-call-actions'));
    expect(reply.body).toMatchObject({ status: 'accepted', revision: 1, runs: 0, test: true });
    const [run] = await s.store.listRuns();
    expect(run).toMatchObject({
      mappingName: '(no mapping)',
      status: 'skipped',
      isTest: true,
      lastError: 'no mapping matched: sales: assistant_phone is not one of the listed numbers',
    });
    // Nothing to execute: the worker never claims it.
    expect(await s.store.claimRuns('probe', 10, Date.now() + 60_000, 1_000)).toEqual([]);
  });
});

describe('quarantine replay', () => {
  it('a payload rejected in strict mode is replayed once the mode allows it', async () => {
    const s1 = await start({ ADMIN_TOKEN: 'admin-token-0123456789' });
    const call = salesCall(9090);
    call.sentiment = 'positive'; // a field the sender added before the schema knew it
    const rejected = await s1.post(call);
    expect(rejected.status).toBe(422);
    const receiptId = rejected.body.receipt_id as number;
    const stillStrict = await request(s1.server)
      .post(`/api/quarantine/${receiptId}/replay`)
      .set('authorization', 'Bearer admin-token-0123456789');
    expect(stillStrict.status).toBe(422);
    await s1.stopKeepingFiles();
    services = services.filter((s) => s !== s1);

    const s2 = await start({ ADMIN_TOKEN: 'admin-token-0123456789', SCHEMA_MODE: 'warn' }, LOG_ONLY, { dir: s1.dir });
    const unauthorized = await request(s2.server).post(`/api/quarantine/${receiptId}/replay`);
    expect(unauthorized.status).toBe(401);
    const replayed = await request(s2.server)
      .post(`/api/quarantine/${receiptId}/replay`)
      .set('authorization', 'Bearer admin-token-0123456789');
    expect(replayed.status).toBe(202);
    expect(replayed.body).toMatchObject({ status: 'accepted', call_id: 9090, revision: 1 });
    expect((await s2.store.getReceipt(receiptId))!.replayedAt).toEqual(expect.any(Number));
    await s2.waitFor(() => s2.store.listRuns(), (runs) => runs[0]?.status === 'succeeded');
    const list = await request(s2.server).get('/api/quarantine').set('authorization', 'Bearer admin-token-0123456789');
    expect(list.body.quarantine[0]).toMatchObject({ id: receiptId, reason: 'invalid-payload', errors: [{ path: 'sentiment', message: 'unknown key' }] });
  });

  it('SCHEMA_MODE=warn accepts unknown keys and counts them in /metrics', async () => {
    const s = await start({ SCHEMA_MODE: 'warn' });
    const call = salesCall(6060);
    call.sentiment = 'positive';
    (call.lead as Record<string, unknown>).score = 3;
    expect((await s.post(call)).status).toBe(202);
    const metrics = await request(s.server).get('/metrics');
    expect(metrics.text).toMatch(/aftercall_payload_unknown_keys_total 2/);
    expect(metrics.text).toMatch(/aftercall_deliveries_total\{outcome="accepted"\} 1/);
  });
});

describe('store failures', () => {
  it('answers 503 (never a false 202) while the database cannot commit, and recovers', async () => {
    const s = await start({ SQLITE_BUSY_TIMEOUT_MS: '100' });
    // Another connection holds the write lock longer than busy_timeout: commits fail.
    const blocker = new Database(s.config.SQLITE_PATH);
    blocker.exec('BEGIN EXCLUSIVE');
    const refused = await s.post(salesCall(1111));
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('STORE_UNAVAILABLE');
    blocker.exec('ROLLBACK');
    blocker.close();
    expect(countRows(s, 'calls')).toBe(0);
    const accepted = await s.post(salesCall(1111));
    expect(accepted.status).toBe(202);
  }, 30_000);
});

describe('health', () => {
  it('/healthz is alive and /readyz reports the store and mappings (details for the metrics token)', async () => {
    const metricsToken = 'metrics-token-0123456789';
    const s = await start({ METRICS_TOKEN: metricsToken });
    expect((await request(s.server).get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await request(s.server).get('/readyz').set('authorization', `Bearer ${metricsToken}`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ready',
      checks: { store: { ok: true, detail: 'sqlite' }, mappings: { ok: true, detail: '1 mapping loaded' } },
    });
    await s.store.close();
    const notReady = await request(s.server).get('/readyz').set('authorization', `Bearer ${metricsToken}`);
    expect(notReady.status).toBe(503);
    expect(notReady.body.checks.store.ok).toBe(false);
    expect(notReady.body.checks.store.detail).toMatch(/closed|unavailable/i);
    // Without the token: which check failed, never why.
    const anonymous = await request(s.server).get('/readyz');
    expect(anonymous.status).toBe(503);
    expect(anonymous.body.checks).toEqual({ store: { ok: false }, mappings: { ok: true }, queue: { ok: false } });
  });
});
