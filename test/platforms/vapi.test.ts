import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { vapiSignature, vapiSignatureFor } from '../../src/ingest/signatures/vapi.js';
import type { SignatureScheme } from '../../src/ingest/signatures/signature-scheme.js';
import { vapi } from '../../src/payload/platforms/vapi.js';
import { PLATFORM_PAYLOADS } from '../../src/payload/platforms/index.js';
import { SIGNATURE_SCHEMES } from '../../src/ingest/signatures/index.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/platforms/vapi/${name}.json`, import.meta.url), 'utf8'));
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

const NOW = 1796203300000;
const SECRET = 'vapi-hmac-secret';
const RAW = Buffer.from(JSON.stringify(fixture('end-of-call-report')));

function check(scheme: SignatureScheme, raw: Buffer, headers: Record<string, string>, secrets: string[] = [SECRET], now = NOW) {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return scheme.verify({ raw, header: (name) => lower[name], secrets, now });
}

describe('vapi signature (HMAC default)', () => {
  it('is registered with its env and headers', () => {
    expect(SIGNATURE_SCHEMES.vapi).toBe(vapiSignature);
    expect(PLATFORM_PAYLOADS.vapi).toBe(vapi);
    expect(vapiSignature.env).toBe('VAPI_WEBHOOK_SECRETS');
    expect(vapiSignature.headers).toEqual(['x-signature', 'x-timestamp', 'x-vapi-secret']);
  });

  it('signs hex HMAC-SHA256 of `{timestamp}.{body}`', () => {
    const headers = vapiSignature.sign(RAW, SECRET, NOW);
    const expected = createHmac('sha256', SECRET).update(`${NOW}.${RAW.toString()}`).digest('hex');
    expect(headers).toEqual({ 'x-signature': expected, 'x-timestamp': String(NOW) });
    expect(check(vapiSignature, RAW, headers)).toEqual({ ok: true });
  });

  it('accepts a timestamp in seconds', () => {
    const stamp = String(NOW / 1000);
    const sig = createHmac('sha256', SECRET).update(`${stamp}.${RAW.toString()}`).digest('hex');
    expect(check(vapiSignature, RAW, { 'x-signature': sig, 'x-timestamp': stamp })).toEqual({ ok: true });
  });

  it('refuses a wrong secret, a tampered body, a tampered timestamp', () => {
    const headers = vapiSignature.sign(RAW, SECRET, NOW);
    expect(check(vapiSignature, RAW, headers, ['other'])).toEqual({ ok: false, reason: 'mismatch' });
    expect(check(vapiSignature, Buffer.from(RAW.toString().replace('premium', 'basic')), headers)).toEqual({ ok: false, reason: 'mismatch' });
    expect(check(vapiSignature, RAW, { ...headers, 'x-timestamp': String(NOW + 1) })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('reports missing headers', () => {
    const headers = vapiSignature.sign(RAW, SECRET, NOW);
    expect(check(vapiSignature, RAW, {})).toEqual({ ok: false, reason: 'missing' });
    expect(check(vapiSignature, RAW, { 'x-signature': headers['x-signature']! })).toEqual({ ok: false, reason: 'missing' });
  });

  it('reports malformed headers', () => {
    const headers = vapiSignature.sign(RAW, SECRET, NOW);
    expect(check(vapiSignature, RAW, { ...headers, 'x-signature': 'not-hex' })).toEqual({ ok: false, reason: 'malformed' });
    expect(check(vapiSignature, RAW, { ...headers, 'x-signature': headers['x-signature']!.slice(2) })).toEqual({ ok: false, reason: 'malformed' });
    expect(check(vapiSignature, RAW, { ...headers, 'x-timestamp': '2026-12-02T10:40:00Z' })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a stale or future timestamp beyond 5 minutes', () => {
    const old = vapiSignature.sign(RAW, SECRET, NOW - 5 * 60 * 1000 - 1);
    expect(check(vapiSignature, RAW, old)).toEqual({ ok: false, reason: 'stale' });
    const future = vapiSignature.sign(RAW, SECRET, NOW + 5 * 60 * 1000 + 1);
    expect(check(vapiSignature, RAW, future)).toEqual({ ok: false, reason: 'stale' });
    expect(check(vapiSignature, RAW, vapiSignature.sign(RAW, SECRET, NOW - 5 * 60 * 1000))).toEqual({ ok: true });
  });

  it('accepts a rotated second secret', () => {
    const headers = vapiSignature.sign(RAW, 'new-secret', NOW);
    expect(check(vapiSignature, RAW, headers, [SECRET, 'new-secret'])).toEqual({ ok: true });
    expect(check(vapiSignature, RAW, vapiSignature.sign(RAW, SECRET, NOW), [SECRET, 'new-secret'])).toEqual({ ok: true });
  });

  it('accepts the legacy X-Vapi-Secret when no HMAC header is present', () => {
    expect(check(vapiSignature, RAW, { 'X-Vapi-Secret': SECRET })).toEqual({ ok: true });
    expect(check(vapiSignature, RAW, { 'X-Vapi-Secret': 'new-secret' }, [SECRET, 'new-secret'])).toEqual({ ok: true });
    expect(check(vapiSignature, RAW, { 'X-Vapi-Secret': 'wrong' })).toEqual({ ok: false, reason: 'mismatch' });
    expect(check(vapiSignature, RAW, { 'X-Vapi-Secret': `${SECRET}x` })).toEqual({ ok: false, reason: 'mismatch' });
    // An HMAC header present is always the one checked.
    expect(check(vapiSignature, RAW, { 'X-Vapi-Secret': SECRET, 'x-signature': 'ab'.repeat(32), 'x-timestamp': String(NOW) })).toEqual({ ok: false, reason: 'mismatch' });
  });
});

describe('vapiSignatureFor (other credentials)', () => {
  it("the docs' support-escalation check: x-vapi-signature, hex HMAC-SHA256 of the body, no timestamp", () => {
    const scheme = vapiSignatureFor({ signatureHeader: 'x-vapi-signature', includeTimestamp: false });
    const sig = createHmac('sha256', SECRET).update(RAW).digest('hex');
    expect(check(scheme, RAW, { 'x-vapi-signature': sig })).toEqual({ ok: true });
    expect(scheme.sign(RAW, SECRET, NOW)).toEqual({ 'x-vapi-signature': sig });
    expect(check(scheme, RAW, { 'x-vapi-signature': sig }, [SECRET], 0)).toEqual({ ok: true });
  });

  it('sha512, base64, a prefix', () => {
    const scheme = vapiSignatureFor({ algorithm: 'sha512', signatureEncoding: 'base64', signaturePrefix: 'sha512=' });
    const headers = scheme.sign(RAW, SECRET, NOW);
    const expected = createHmac('sha512', SECRET).update(`${NOW}.${RAW.toString()}`).digest('base64');
    expect(headers['x-signature']).toBe(`sha512=${expected}`);
    expect(check(scheme, RAW, headers)).toEqual({ ok: true });
    expect(check(scheme, RAW, { ...headers, 'x-signature': expected })).toEqual({ ok: false, reason: 'malformed' });
    expect(check(scheme, RAW, { ...headers, 'x-signature': 'sha512=@@@' })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('x-vapi-secret only', () => {
    const scheme = vapiSignatureFor({ auth: 'x-vapi-secret' });
    expect(scheme.headers).toEqual(['x-vapi-secret']);
    expect(check(scheme, RAW, scheme.sign(RAW, SECRET, NOW))).toEqual({ ok: true });
    expect(check(scheme, RAW, {})).toEqual({ ok: false, reason: 'missing' });
    expect(check(scheme, RAW, vapiSignature.sign(RAW, SECRET, NOW))).toEqual({ ok: false, reason: 'missing' });
  });

  it('without the legacy fallback a missing HMAC header is missing', () => {
    const scheme = vapiSignatureFor({ acceptLegacySecret: false });
    expect(check(scheme, RAW, { 'x-vapi-secret': SECRET })).toEqual({ ok: false, reason: 'missing' });
  });

  it('refuses placeholders it cannot fill', () => {
    expect(() => vapiSignatureFor({ payloadFormat: '{method}.{url}.{body}' })).toThrow(/not supported/);
    expect(() => vapiSignatureFor({ includeTimestamp: false, payloadFormat: '{timestamp}.{body}' })).toThrow(/includeTimestamp/);
  });
});

describe('vapi schema', () => {
  it.each(['end-of-call-report', 'end-of-call-report-docs-minimal'])('%s passes strict', (name) => {
    const result = vapi.schema.strict.safeParse(fixture(name));
    expect(result.error?.issues).toBeUndefined();
    expect(result.success).toBe(true);
  });

  it.each([
    [['message', 'call', 'id'], 42],
    [['message', 'endedReason'], 7],
    [['message', 'startedAt'], 'yesterday'],
    [['message', 'customer', 'number'], 15550100001],
    [['message', 'artifact', 'recordingUrl'], 'javascript:alert(1)'],
    [['message', 'artifact', 'messages', 1, 'role'], null],
    [['message', 'artifact', 'messages', 1, 'message'], 5],
    [['message', 'analysis', 'successEvaluation'], true],
    [['message', 'analysis', 'structuredData'], 'text'],
    [['message', 'call', 'assistantOverrides', 'variableValues'], []],
  ] as Array<[Array<string | number>, unknown]>)('a wrong type at %j fails with its path', (path, value) => {
    const body = fixture('end-of-call-report');
    let target = body;
    for (const key of path.slice(0, -1)) target = target[key];
    target[path.at(-1)!] = value;
    const result = vapi.schema.strict.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path)).toContainEqual(path);
  });

  it('an unknown envelope key fails strict and passes lenient; unknown message keys pass both', () => {
    const body = { ...fixture('end-of-call-report'), extra: 1 };
    const strict = vapi.schema.strict.safeParse(body);
    expect(strict.success).toBe(false);
    expect(strict.error!.issues[0]!.code).toBe('unrecognized_keys');
    expect(vapi.schema.lenient.safeParse(body).success).toBe(true);
    const inner = fixture('end-of-call-report');
    inner.message.newVapiField = { a: 1 };
    inner.message.call.squad = {};
    expect(vapi.schema.strict.safeParse(inner).success).toBe(true);
  });

  it('another message type fails the end-of-call schema at message.type', () => {
    const result = vapi.schema.strict.safeParse(fixture('assistant-request'));
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path)).toContainEqual(['message', 'type']);
  });
});

describe('vapi normalize', () => {
  const normalize = (body: unknown) => vapi.normalize(vapi.schema.strict.parse(body));

  it('the main fixture', () => {
    expect(normalize(fixture('end-of-call-report'))).toEqual({
      id: '7f0c3a52-9d1e-4b7a-8c55-2e9b1f4d6a10',
      platform: 'vapi',
      variant: 'vapi',
      event: 'end-of-call-report',
      channel: 'phone',
      status: 'ended_by_customer',
      customer_phone: '+15550100001',
      assistant_phone: '+15550100002',
      assistant_id: '5e8a1c3d-2b4f-4a6e-9c7d-8f0a1b2c3d4e',
      duration: 95.4,
      extracted_variables: {
        appointment_booked: true,
        appointment_date: '2026-12-09',
        appointment_time: '10:00',
        ended_reason: 'customer-ended-call',
        status: true,
        summary: 'The caller booked a cleaning for Wednesday 9 December at 10:00.',
      },
      input_variables: { customer_name: 'Jordan Lee', plan: 'premium' },
      transcript: {
        turns: [
          { sender: 'bot', text: 'Thanks for calling, how can I help?', timestamp: 1796203200.42 },
          { sender: 'human', text: "I'd like to book a cleaning next Wednesday.", timestamp: 1796203203.02 },
          { sender: 'bot', text: 'Wednesday the ninth at ten works. Shall I book it?', timestamp: 1796203205.9 },
          { sender: 'human', text: 'Yes please.', timestamp: 1796203209.1 },
        ],
        text: "AI: Thanks for calling, how can I help?\nUser: I'd like to book a cleaning next Wednesday.\nAI: Wednesday the ninth at ten works. Shall I book it?\nUser: Yes please.\n",
      },
      recording_url: 'https://example.invalid/vapi/recordings/7f0c3a52-mono.wav',
      created_at: '2026-12-02T10:40:00.000Z',
      finished_at: '2026-12-02T10:41:35.400Z',
      lead: null,
      campaign: null,
      transfers: [],
      attachments: [],
      conversation: null,
    });
  });

  it("the docs' minimal report", () => {
    const call = normalize(fixture('end-of-call-report-docs-minimal'));
    expect(call).toMatchObject({
      id: '73a6da0f-c455-4bb6-bf4a-5f0634871430',
      status: 'ended_by_assistant',
      customer_phone: null,
      assistant_phone: null,
      assistant_id: null,
      duration: null,
      extracted_variables: { ended_reason: 'assistant-ended-call' },
      input_variables: {},
      transcript: { turns: [], text: '' },
      recording_url: null,
      created_at: null,
      finished_at: null,
    });
  });

  it.each([
    ['customer-ended-call', 'ended_by_customer'],
    ['assistant-ended-call', 'ended_by_assistant'],
    ['customer-did-not-answer', 'unanswered'],
    ['voicemail', 'unanswered'],
    ['customer-busy', 'busy'],
    ['silence-timed-out', 'completed'],
    ['exceeded-max-duration', 'completed'],
    ['pipeline-error-openai-llm-failed', 'failed'],
    ['call.in-progress.error-vapifault-transport-never-connected', 'failed'],
  ])('endedReason %s → %s', (reason, status) => {
    const body = fixture('end-of-call-report');
    body.message.endedReason = reason;
    expect(normalize(body).status).toBe(status);
  });

  it('successEvaluation other than "true"/"false" leaves status absent', () => {
    for (const [grade, expected] of [['false', false], ['7', undefined], ['Excellent', undefined]] as const) {
      const body = fixture('end-of-call-report');
      body.message.analysis.successEvaluation = grade;
      expect(normalize(body).extracted_variables.status).toBe(expected);
    }
  });

  it('structuredOutputs by name, nested values as JSON text, summary wins over a same-named key', () => {
    const body = fixture('end-of-call-report');
    body.message.analysis.structuredData.summary = 'from data';
    body.message.analysis.structuredData.address = { city: 'Springfield' };
    body.message.artifact.structuredOutputs = { 'out-1': { name: 'lead_score', result: 8 }, 'out-2': { result: 'x' } };
    const call = normalize(body);
    expect(call.extracted_variables.summary).toBe('The caller booked a cleaning for Wednesday 9 December at 10:00.');
    expect(call.extracted_variables.address).toBe('{"city":"Springfield"}');
    expect(call.extracted_variables.lead_score).toBe(8);
    expect(call.extracted_variables['out-2']).toBe('x');
  });

  it('falls back to call fields, the stereo recording, and turns from a multi-line text', () => {
    const body = fixture('end-of-call-report');
    delete body.message.customer;
    delete body.message.startedAt;
    delete body.message.endedAt;
    delete body.message.artifact.recordingUrl;
    delete body.message.artifact.messages;
    const call = normalize(body);
    expect(call.customer_phone).toBe('+15550100001');
    expect(call.duration).toBe(95.4);
    expect(call.created_at).toBe('2026-12-02T10:40:00.000Z');
    expect(call.recording_url).toBe('https://example.invalid/vapi/recordings/7f0c3a52-stereo.wav');
    expect(call.transcript.turns.map((t) => t.sender)).toEqual(['bot', 'human', 'bot', 'human']);
    body.message.artifact.transcript = "AI: How can I help? User: What's the weather?";
    expect(normalize(body).transcript.turns).toEqual([]);
  });

  it('builds the text from the turns when no transcript is sent', () => {
    const body = fixture('end-of-call-report');
    delete body.message.artifact.transcript;
    expect(normalize(body).transcript.text.split('\n')[0]).toBe('AI: Thanks for calling, how can I help?');
  });

  it('is stable whatever the key order', () => {
    const body = fixture('end-of-call-report');
    const reorder = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reorder) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).reverse().map((k) => [k, reorder((v as Record<string, unknown>)[k])])) : v;
    const reordered = reorder(clone(body)) as typeof body;
    expect(Object.keys(reordered.message.analysis.structuredData)[0]).toBe('appointment_time');
    expect(JSON.stringify(normalize(reordered))).toBe(JSON.stringify(normalize(body)));
  });
});

describe('vapi classify', () => {
  const kind = (body: Record<string, unknown>) => vapi.classify(body);
  it('every kind', () => {
    expect(kind(fixture('end-of-call-report'))).toEqual({ kind: 'call', event: 'end-of-call-report' });
    expect(kind(fixture('assistant-request'))).toEqual({ kind: 'precall', event: 'assistant-request' });
    for (const type of ['status-update', 'conversation-update', 'transcript', 'hang', 'speech-update', 'model-output', 'user-interrupted']) {
      expect(kind({ message: { type } })).toEqual({ kind: 'ignored', event: type });
    }
    for (const type of ['tool-calls', 'transfer-destination-request', 'knowledge-base-request']) {
      expect(kind({ message: { type } })).toEqual({ kind: 'unanswerable', event: type, path: 'message.type' });
    }
    expect(kind({ message: { type: 'brand-new' } })).toEqual({ kind: 'unknown', event: 'brand-new', path: 'message.type' });
    expect(kind({ message: {} })).toEqual({ kind: 'unknown', event: null, path: 'message.type' });
    expect(kind({ message: [] })).toEqual({ kind: 'unknown', event: null, path: 'message' });
    expect(kind({ type: 'end-of-call-report' })).toEqual({ kind: 'unknown', event: null, path: 'message' });
    expect(vapi.unknownEvents).toBe('ignore');
  });
});

describe('vapi assistant-request', () => {
  it('parses into the inbound request', () => {
    const body = fixture('assistant-request');
    expect(vapi.precall!.parse(body)).toEqual({
      ok: true,
      request: {
        customer_phone: '+15550100001',
        assistant_phone: '+15550100002',
        assistant_id: null,
        call_id: '7f0c3a52-9d1e-4b7a-8c55-2e9b1f4d6a10',
        // The fixture's synthetic ms stamp (80 min before its createdAt), read as ms.
        timestamp: '2026-12-02T09:19:58.300Z',
        status: 'ringing',
        variables: {},
        body,
      },
    });
  });

  it('reports issues with paths', () => {
    const body = fixture('assistant-request');
    body.message.customer.number = 1;
    const result = vapi.precall!.parse(body);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.path)).toContain('message.customer.number');
  });

  it('answers in the documented shape', () => {
    const expected = fixture('assistant-request-response');
    expect(vapi.precall!.answer({ assistantId: expected.assistantId, customer_name: 'Jordan Lee', plan: 'premium' })).toEqual(expected);
    expect(vapi.precall!.answer({ plan: 'premium' })).toEqual({ assistantOverrides: { variableValues: { plan: 'premium' } } });
  });
});
