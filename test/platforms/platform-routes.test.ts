// Every other platform's route through the real service: token and the platform's own
// signature, its end-of-call fixtures accepted and deduped, live events ignored, undocumented
// ones kept or ignored as the platform's retries require, revisions (Retell's call_ended then
// call_analyzed, one booking), and pre-call requests answered by the inbound mechanism.
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { SIGNATURE_SCHEMES } from '../../src/ingest/signatures/index.js';
import type { OtherPlatform } from '../../src/payload/call.js';
import { startTestService, TEST_TOKEN, type TestService } from '../support/test-service.js';

type Json = Record<string, unknown>;
const platformFixture = (platform: string, name: string): Json =>
  JSON.parse(readFileSync(new URL(`../fixtures/platforms/${platform}/${name}.json`, import.meta.url), 'utf8')) as Json;

const LOG = { 'log.yaml': 'name: log-all\nsteps:\n  - id: note\n    use: log\n    with: { message: "call {{ call.id }} from {{ call.platform }}", level: debug }\n' };
const GREETING = `name: greeting
steps:
  - id: note
    use: log
    with: { message: "call {{ call.id }}", level: debug }
inbound:
  lookups:
    - id: history
      use: earlier_calls
  variables:
    caller: "{{ inbound.customer_phone }}"
    calls_before: "{{ lookups.history.count }}"
  defaults: { caller: unknown, calls_before: 0 }
`;

/** Each platform's end-of-call fixture, the one its README names as the main example. */
const END_OF_CALL: Record<OtherPlatform, string> = {
  retell: 'call-analyzed',
  vapi: 'end-of-call-report',
  elevenlabs: 'post-call-transcription-phone',
  synthflow: 'post-call-docs',
  bland: 'post-call',
};
const SECRET = 'platform-secret-0123456789';
const ENV_OF = (platform: OtherPlatform) => SIGNATURE_SCHEMES[platform].env;

const ID_KEY: Record<OtherPlatform, string> = { retell: 'call_id', vapi: 'id', elevenlabs: 'conversation_id', synthflow: 'call_id', bland: 'call_id' };
/** The platform's end-of-call fixture with its call id (wherever the platform puts it) replaced. */
function withCallId(platform: OtherPlatform, id: unknown): string {
  const body = platformFixture(platform, END_OF_CALL[platform]);
  const holder = (body.call ?? (body.message as Json | undefined)?.call ?? body.data ?? body) as Json;
  holder[ID_KEY[platform]] = id;
  return JSON.stringify(body);
}

let services: TestService[] = [];
async function start(env: Record<string, string> = {}, mappings: Record<string, string> = LOG) {
  const service = await startTestService(mappings, env);
  services.push(service);
  return service;
}
afterEach(async () => {
  for (const s of services) await s.cleanup().catch(() => undefined);
  services = [];
});

const post = (s: TestService, path: string, body: string, headers: Record<string, string> = {}) =>
  request(s.server).post(path).set({ 'content-type': 'application/json', ...headers }).send(body);
const signed = (platform: OtherPlatform, body: string, secret = SECRET, now = Date.now()) => SIGNATURE_SCHEMES[platform].sign(body, secret, now);
const pathOf = (platform: string) => `/webhooks/${platform}/${TEST_TOKEN}`;

describe.each(Object.keys(END_OF_CALL) as OtherPlatform[])('POST /webhooks/%s', (platform) => {
  const body = JSON.stringify(platformFixture(platform, END_OF_CALL[platform]));

  it('accepts the end-of-call event signed with the platform scheme, answers a resend as a duplicate, and stores a call of the platform', async () => {
    const s = await start({ [ENV_OF(platform)]: `old-secret-abcdef,${SECRET}` });
    const first = await post(s, pathOf(platform), body, signed(platform, body));
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body).toMatchObject({ status: 'accepted', revision: 1, runs: 1 });
    // The platform's retry of the same event (its retries and duplicate events are common).
    const again = await post(s, pathOf(platform), body, signed(platform, body));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'duplicate', revision: 1, call_id: first.body.call_id });
    const runs = await s.waitFor(() => s.store.listRuns(), (r) => r.length === 1 && r[0]!.status === 'succeeded');
    const run = (await s.store.getRun(runs[0]!.id))!;
    expect(run.call).toMatchObject({ platform, variant: platform, channel: 'phone', id: first.body.call_id });
  });

  it('refuses a wrong, a missing and a foreign signature with 401 and stores nothing', async () => {
    const s = await start({ [ENV_OF(platform)]: SECRET });
    const wrong = await post(s, pathOf(platform), body, signed(platform, body, 'not-the-secret'));
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: 'BAD_SIGNATURE' });
    const missing = await post(s, pathOf(platform), body);
    expect(missing.status).toBe(401);
    // Signed for another call: what the platform signs (the raw body; Synthflow: the call id) differs.
    const tampered = await post(s, pathOf(platform), body, signed(platform, withCallId(platform, 'another-call')));
    expect(tampered.status).toBe(401);
    expect(await s.store.listRuns()).toEqual([]);
    expect(await s.store.listQuarantine(10)).toEqual([]);
  });

  it('takes the webhook token as every route does: none or a wrong one is a 401 before the body is read', async () => {
    const s = await start();
    expect((await post(s, `/webhooks/${platform}`, body)).status).toBe(401);
    expect((await post(s, `/webhooks/${platform}/wrong-token`, body)).status).toBe(401);
    expect((await post(s, `/webhooks/${platform}?token=${TEST_TOKEN}`, body)).status).toBe(202);
  });

  it('keeps a body that breaks the schema in quarantine with the exact field', async () => {
    const s = await start();
    // The call id, wherever the platform puts it, made a boolean.
    const reply = await post(s, pathOf(platform), withCallId(platform, true));
    const idKey = ID_KEY[platform];
    expect(reply.status).toBe(422);
    expect(reply.body).toMatchObject({ code: 'INVALID_PAYLOAD' });
    expect(JSON.stringify(reply.body.errors)).toContain(idKey);
    const [kept] = await s.store.listQuarantine(10);
    expect(kept?.id).toBe(reply.body.receipt_id);
  });
});

describe('events that are no end-of-call data', () => {
  it('answers documented live events 200 ignored and stores nothing', async () => {
    const s = await start();
    const cases: Array<[OtherPlatform, Json]> = [
      ['retell', platformFixture('retell', 'call-started')],
      ['elevenlabs', platformFixture('elevenlabs', 'post-call-audio-docs')],
      ['vapi', { message: { type: 'status-update', status: 'in-progress' } }],
    ];
    for (const [platform, body] of cases) {
      const reply = await post(s, pathOf(platform), JSON.stringify(body));
      expect(reply.status, platform).toBe(200);
      expect(reply.body).toMatchObject({ status: 'ignored' });
    }
    expect(await s.store.listRuns()).toEqual([]);
  });

  it('keeps an undocumented Retell event (Retell retries) and ignores an undocumented Vapi one (Vapi does not)', async () => {
    const s = await start();
    const retell = await post(s, pathOf('retell'), JSON.stringify({ event: 'call_reviewed', call: { call_id: 'call_x' } }));
    expect(retell.status).toBe(422);
    expect(retell.body).toMatchObject({ code: 'UNKNOWN_EVENT', event: 'call_reviewed' });
    expect(await s.store.listQuarantine(10)).toHaveLength(1);
    const vapi = await post(s, pathOf('vapi'), JSON.stringify({ message: { type: 'brand-new-type' } }));
    expect(vapi.status).toBe(200);
    expect(vapi.body).toMatchObject({ status: 'ignored', event: 'brand-new-type' });
  });

  it('refuses a Vapi tool-calls request with 400, so the platform falls back', async () => {
    const s = await start();
    const reply = await post(s, pathOf('vapi'), JSON.stringify({ message: { type: 'tool-calls', toolCallList: [] } }));
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ code: 'UNANSWERABLE_REQUEST', event: 'tool-calls' });
  });
});

describe('Retell revisions', () => {
  const BOOKING = readFileSync(new URL('../../examples/multi-platform/appointment-confirmed.yaml', import.meta.url), 'utf8');

  it('stores call_ended then call_analyzed as revisions 1 and 2 of one call; the example books once, on the analysis', async () => {
    const hits: Json[] = [];
    const { createServer } = await import('node:http');
    const sink = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c));
      req.on('end', () => {
        hits.push(JSON.parse(data) as Json);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const port = (sink.address() as { port: number }).port;
    try {
      const s = await start({}, { 'booking.yaml': BOOKING.replace('http://127.0.0.1:4000', `http://127.0.0.1:${port}`) });
      const ended = await post(s, pathOf('retell'), JSON.stringify(platformFixture('retell', 'call-ended')));
      expect(ended.body).toMatchObject({ status: 'accepted', revision: 1 });
      const analyzed = await post(s, pathOf('retell'), JSON.stringify(platformFixture('retell', 'call-analyzed')));
      expect(analyzed.body).toMatchObject({ status: 'accepted', revision: 2, call_id: ended.body.call_id });
      // A duplicate call_analyzed (Retell's retry): nothing new.
      expect((await post(s, pathOf('retell'), JSON.stringify(platformFixture('retell', 'call-analyzed')))).body).toMatchObject({ status: 'duplicate', revision: 2 });
      const runs = await s.waitFor(() => s.store.listRuns(), (r) => r.length === 2 && r.every((run) => run.status === 'succeeded'));
      expect(runs.map((r) => r.revision).sort()).toEqual([1, 2]);
      expect(hits).toEqual([
        {
          platform: 'retell',
          call_id: 'call_0f1e2d3c4b5a69788796a5b4c3d2e1f0',
          customer_phone: '+15550100001',
          appointment_date: '2026-12-09',
          summary: 'The caller booked a cleaning for Wednesday 9 December at 10:00.',
        },
      ]);
    } finally {
      await new Promise((resolve) => sink.close(resolve));
    }
  });
});

describe('Retell events out of order', () => {
  it('a call_ended first stored after call_analyzed (its first delivery failed) is superseded, never a newest revision without the analysis', async () => {
    const s = await start();
    const analyzed = await post(s, pathOf('retell'), JSON.stringify(platformFixture('retell', 'call-analyzed')));
    expect(analyzed.body).toMatchObject({ status: 'accepted', revision: 1 });
    const late = await post(s, pathOf('retell'), JSON.stringify(platformFixture('retell', 'call-ended')));
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ status: 'superseded', revision: 1, call_id: analyzed.body.call_id });
    const runs = await s.waitFor(() => s.store.listRuns(), (r) => r.length === 1 && r[0]!.status === 'succeeded');
    expect(runs.map((r) => r.revision)).toEqual([1]);
    // In order it is a revision as usual (the Retell revisions test): only the lesser event after the greater is held back.
  });
});

describe('pre-call variables on the platform URL', () => {
  it('answers Retell call_inbound, Vapi assistant-request, ElevenLabs initiation and Synthflow call_inbound in each platform shape', async () => {
    const s = await start({ RETELL_WEBHOOK_SECRETS: SECRET }, { 'greeting.yaml': GREETING });
    // An earlier call of the caller, so the lookup has something to find.
    const earlier = JSON.stringify(platformFixture('retell', 'call-analyzed'));
    expect((await post(s, pathOf('retell'), earlier, signed('retell', earlier))).status).toBe(202);
    await s.waitFor(() => s.store.listRuns(), (r) => r.length === 1 && r[0]!.status === 'succeeded');

    const retellBody = JSON.stringify(platformFixture('retell', 'call-inbound-request'));
    const retell = await post(s, pathOf('retell'), retellBody, signed('retell', retellBody));
    expect(retell.status).toBe(200);
    // Exactly the platform's shape: no request_id beside it. Retell's variables are strings.
    expect(retell.body).toEqual({ call_inbound: { dynamic_variables: { caller: '+15550100001', calls_before: '1' } } });
    const unsigned = await post(s, pathOf('retell'), retellBody);
    expect(unsigned.status).toBe(401);

    const vapi = await post(s, pathOf('vapi'), JSON.stringify(platformFixture('vapi', 'assistant-request')));
    expect(vapi.status).toBe(200);
    expect(vapi.body).toMatchObject({ assistantOverrides: { variableValues: { calls_before: expect.anything() } } });
    expect(vapi.body).not.toHaveProperty('request_id');

    const eleven = await post(s, pathOf('elevenlabs'), JSON.stringify(platformFixture('elevenlabs', 'conversation-initiation-request')));
    expect(eleven.status).toBe(200);
    expect(eleven.body).toMatchObject({ type: 'conversation_initiation_client_data', dynamic_variables: { calls_before: expect.anything() } });

    const synthflow = await post(s, pathOf('synthflow'), JSON.stringify(platformFixture('synthflow', 'inbound-request-docs')));
    expect(synthflow.status).toBe(200);
    expect(synthflow.body).toMatchObject({ call_inbound: { custom_variables: { calls_before: expect.anything() } } });

    // Each answered request is kept with its answer, as the inbound-call route's are.
    const answered = await s.waitFor(() => s.store.listInbound(10), (rows) => rows.length === 4);
    expect(answered.every((r) => r.outcome === 'answered')).toBe(true);
  });
});

describe('aftercall replay --dry-run on every platform fixture', () => {
  it('plans each end-of-call fixture as a call of its platform and names the others for what they are', async () => {
    const { cli } = await import('../support/cli-in-process.js');
    const { readdirSync } = await import('node:fs');
    const { fileURLToPath } = await import('node:url');
    const root = fileURLToPath(new URL('../fixtures/platforms/', import.meta.url));
    const examples = fileURLToPath(new URL('../../examples/multi-platform/', import.meta.url));
    for (const platform of Object.keys(END_OF_CALL) as OtherPlatform[]) {
      // Requests only: answers (`*-response*`) are what aftercall sends, not what it receives.
      const files = readdirSync(`${root}${platform}`).filter((f) => f.endsWith('.json') && !f.includes('response'));
      const r = await cli(['replay', '--dry-run', ...files.map((f) => `${root}${platform}/${f}`)], { MAPPINGS_DIR: examples });
      expect(r.code, `${platform}: ${r.out}`).toBe(0);
      expect(r.out).not.toContain('✗');
      expect(r.out).toContain(`${END_OF_CALL[platform]}.json: call `);
      expect(r.out).toContain(`(${platform}, `);
      expect(r.out).toContain('✓ appointment-confirmed');
    }
    const retell = await cli(['replay', '--dry-run', `${root}retell/call-analyzed.json`, `${root}retell/call-started.json`, `${root}retell/call-inbound-request.json`], { MAPPINGS_DIR: examples });
    expect(retell.out).toContain('book (http.request): would run');
    expect(retell.out).toContain('call-started.json: call_started — no end-of-call data, answered 200 ignored');
    expect(retell.out).toContain('call-inbound-request.json: call_inbound — a pre-call request, answered by the inbound: sections');
  });
});

describe("Vapi's credential options", () => {
  it('VAPI_HMAC_PLAN: an HMAC plan other than the default (its own header, no timestamp) is what is checked', async () => {
    const { vapiSignatureFor } = await import('../../src/ingest/signatures/vapi.js');
    const plan = { signatureHeader: 'x-vapi-signature', includeTimestamp: false };
    const s = await start({ VAPI_WEBHOOK_SECRETS: SECRET, VAPI_HMAC_PLAN: JSON.stringify(plan) });
    const body = JSON.stringify(platformFixture('vapi', 'end-of-call-report'));
    const headers = vapiSignatureFor(plan).sign(body, SECRET, Date.now());
    expect(Object.keys(headers)).toEqual(['x-vapi-signature']);
    expect((await post(s, pathOf('vapi'), body, headers)).status).toBe(202);
    // The default plan's header is not what this credential sends.
    expect((await post(s, pathOf('vapi'), body, signed('vapi', body))).status).toBe(401);
  });

  it('VAPI_HMAC_PLAN that is no JSON, or names an unsupported placeholder, stops the start naming the variable', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(() => loadConfig({ VAPI_HMAC_PLAN: '{signatureHeader' })).toThrow(/VAPI_HMAC_PLAN/);
    expect(() => loadConfig({ VAPI_HMAC_PLAN: '{"payloadFormat":"{url}.{body}"}' })).toThrow(/VAPI_HMAC_PLAN/);
  });
});
