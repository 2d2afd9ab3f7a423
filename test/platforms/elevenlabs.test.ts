/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures are edited freely to build bad bodies */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { elevenlabsSignature } from '../../src/ingest/signatures/elevenlabs.js';
import { SIGNATURE_SCHEMES } from '../../src/ingest/signatures/index.js';
import { elevenlabs } from '../../src/payload/platforms/elevenlabs.js';
import { PLATFORM_PAYLOADS } from '../../src/payload/platforms/index.js';

function fixture(name: string): Record<string, any> {
  return JSON.parse(readFileSync(new URL(`../fixtures/platforms/elevenlabs/${name}.json`, import.meta.url), 'utf8'));
}

const SECRET = 'wsec_test_0123456789abcdef';
const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const raw = Buffer.from(JSON.stringify(fixture('post-call-transcription-phone')));

function verify(headers: Record<string, string>, opts: { body?: Buffer; secrets?: string[]; now?: number } = {}) {
  return elevenlabsSignature.verify({
    raw: opts.body ?? raw,
    header: (name) => headers[name],
    secrets: opts.secrets ?? [SECRET],
    now: opts.now ?? NOW,
  });
}

/** The SDK's own computation (`constructEvent`): "v0=" + hex HMAC-SHA256 of `${t}.${rawBody}`. */
function sdkHeader(body: string, secret: string, t: number): string {
  return `t=${t},v0=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

describe('elevenlabs signature', () => {
  it('is registered', () => {
    expect(SIGNATURE_SCHEMES.elevenlabs).toBe(elevenlabsSignature);
    expect(PLATFORM_PAYLOADS.elevenlabs).toBe(elevenlabs);
    expect(elevenlabsSignature.env).toBe('ELEVENLABS_WEBHOOK_SECRETS');
    expect(elevenlabsSignature.headers).toEqual(['elevenlabs-signature']);
  });

  it('accepts what sign produces, in the documented header format', () => {
    const headers = elevenlabsSignature.sign(raw, SECRET, NOW);
    expect(headers['elevenlabs-signature']).toMatch(/^t=\d+,v0=[0-9a-f]{64}$/);
    expect(headers['elevenlabs-signature']).toBe(sdkHeader(raw.toString(), SECRET, NOW / 1000));
    expect(verify(headers)).toEqual({ ok: true });
  });

  it('accepts a header computed as the SDK computes it (t in seconds, signed `${t}.${body}`)', () => {
    const t = Math.floor(NOW / 1000) - 60;
    expect(verify({ 'elevenlabs-signature': sdkHeader(raw.toString(), SECRET, t) })).toEqual({ ok: true });
    // Upper-case hex and spaces after the comma are read too.
    const header = sdkHeader(raw.toString(), SECRET, t).replace(/v0=(\w+)/, (_, h: string) => `v0=${h.toUpperCase()}`).replace(',', ', ');
    expect(verify({ 'elevenlabs-signature': header })).toEqual({ ok: true });
  });

  it('refuses a wrong secret', () => {
    expect(verify(elevenlabsSignature.sign(raw, 'another-secret', NOW))).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a tampered body', () => {
    const headers = elevenlabsSignature.sign(raw, SECRET, NOW);
    const tampered = Buffer.from(raw.toString().replace('+15550100001', '+15550100009'));
    expect(verify(headers, { body: tampered })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a missing header', () => {
    expect(verify({})).toEqual({ ok: false, reason: 'missing' });
    expect(verify({ 'elevenlabs-signature': '' })).toEqual({ ok: false, reason: 'missing' });
  });

  it('refuses a malformed header', () => {
    const good = elevenlabsSignature.sign(raw, SECRET, NOW)['elevenlabs-signature']!;
    const digest = good.split('v0=')[1]!;
    for (const value of ['garbage', `v0=${digest}`, `t=${NOW / 1000}`, `t=abc,v0=${digest}`, `t=${NOW / 1000},v0=${digest.slice(2)}`, `t=${NOW / 1000},v0=zz${digest.slice(2)}`, `t=${NOW / 1000},v1=${digest}`]) {
      expect(verify({ 'elevenlabs-signature': value }), value).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('refuses a timestamp more than 30 minutes old and more than 5 minutes ahead', () => {
    const at = (offsetSeconds: number) => verify(elevenlabsSignature.sign(raw, SECRET, NOW + offsetSeconds * 1000));
    expect(at(-30 * 60)).toEqual({ ok: true });
    expect(at(-30 * 60 - 1)).toEqual({ ok: false, reason: 'stale' });
    expect(at(5 * 60)).toEqual({ ok: true });
    expect(at(5 * 60 + 1)).toEqual({ ok: false, reason: 'stale' });
  });

  it('accepts a rotated second secret', () => {
    const headers = elevenlabsSignature.sign(raw, 'new-secret', NOW);
    expect(verify(headers, { secrets: [SECRET, 'new-secret'] })).toEqual({ ok: true });
    expect(verify(elevenlabsSignature.sign(raw, SECRET, NOW), { secrets: [SECRET, 'new-secret'] })).toEqual({ ok: true });
  });
});

describe('elevenlabs schema', () => {
  it('passes each end-of-call fixture in strict mode', () => {
    for (const name of ['post-call-transcription-docs', 'post-call-transcription-phone']) {
      const result = elevenlabs.schema.strict.safeParse(fixture(name));
      expect(result.success, name).toBe(true);
    }
  });

  it('refuses a wrong type on a read field with its exact path', () => {
    const cases: Array<[(b: Record<string, any>) => void, Array<string | number>]> = [
      [(b) => (b.data.metadata.call_duration_secs = '95'), ['data', 'metadata', 'call_duration_secs']],
      [(b) => (b.data.transcript[1].role = 'caller'), ['data', 'transcript', 1, 'role']],
      [(b) => (b.data.analysis.call_successful = true), ['data', 'analysis', 'call_successful']],
      [(b) => (b.data.metadata.phone_call.external_number = 15550100001), ['data', 'metadata', 'phone_call', 'external_number']],
      [(b) => (b.data.status = 'failed'), ['data', 'status']],
    ];
    for (const [mutate, path] of cases) {
      const body = fixture('post-call-transcription-phone');
      mutate(body);
      const result = elevenlabs.schema.strict.safeParse(body);
      expect(result.success).toBe(false);
      expect(result.error!.issues.map((i) => i.path)).toEqual([path]);
    }
  });

  it('refuses an unknown envelope key in strict mode, strips it in lenient mode', () => {
    const body = { ...fixture('post-call-transcription-phone'), surprise: 1 };
    const strict = elevenlabs.schema.strict.safeParse(body);
    expect(strict.success).toBe(false);
    expect(strict.error!.issues[0]!.code).toBe('unrecognized_keys');
    const lenient = elevenlabs.schema.lenient.safeParse(body);
    expect(lenient.success).toBe(true);
    expect(lenient.data).not.toHaveProperty('surprise');
  });

  it('lets unknown keys inside data pass in both modes', () => {
    const body = fixture('post-call-transcription-phone');
    body.data.brand_new_field = { x: 1 };
    expect(elevenlabs.schema.strict.safeParse(body).success).toBe(true);
  });
});

describe('elevenlabs normalization', () => {
  it('maps the phone fixture onto the exact Call', () => {
    const call = elevenlabs.normalize(elevenlabs.schema.strict.parse(fixture('post-call-transcription-phone')));
    const start = 1796203200;
    expect(call).toEqual({
      id: 'conv_01jq8x1a2b3c4d5e6f7g8h9j0k',
      platform: 'elevenlabs',
      variant: 'elevenlabs',
      event: 'post_call_transcription',
      channel: 'phone',
      status: 'completed',
      customer_phone: '+15550100001',
      assistant_phone: '+15550100002',
      assistant_id: 'agent_01jq8x0f3m2n4p5r6s7t8v9w0x',
      duration: 95,
      extracted_variables: {
        appointment_date: '2026-12-09',
        appointment_time: '10:00',
        booked: 'success',
        status: true,
        summary: 'The caller booked a cleaning for Wednesday 9 December at 10:00.',
      },
      input_variables: { customer_name: 'Jordan Lee', plan: 'premium' },
      transcript: {
        turns: [
          { sender: 'bot', text: 'Thanks for calling, how can I help?', timestamp: start },
          { sender: 'human', text: "I'd like to book a cleaning next Wednesday.", timestamp: start + 3 },
          { sender: 'bot', text: 'Wednesday the ninth at ten works. Shall I book it?', timestamp: start + 6 },
          { sender: 'human', text: 'Yes please.', timestamp: start + 9 },
        ],
        text: "AI: Thanks for calling, how can I help?\nCustomer: I'd like to book a cleaning next Wednesday.\nAI: Wednesday the ninth at ten works. Shall I book it?\nCustomer: Yes please.",
      },
      recording_url: null,
      created_at: '2026-12-02T09:20:00.000Z',
      finished_at: '2026-12-02T09:21:35.000Z',
      lead: null,
      campaign: null,
      transfers: [],
      attachments: [],
      conversation: null,
    });
  });

  it('maps the docs fixture (a web conversation: no phones)', () => {
    const call = elevenlabs.normalize(elevenlabs.schema.strict.parse(fixture('post-call-transcription-docs')));
    expect(call.id).toBe('abc');
    expect(call.customer_phone).toBeNull();
    expect(call.assistant_phone).toBeNull();
    expect(call.duration).toBe(22);
    expect(call.created_at).toBe('2025-02-14T12:48:17.000Z');
    expect(call.finished_at).toBe('2025-02-14T12:48:39.000Z');
    expect(call.input_variables).toEqual({ user_name: 'angelo' });
    expect(call.extracted_variables.status).toBe(true);
    expect(call.transcript.turns).toHaveLength(3);
    expect(call.transcript.turns[1]).toEqual({ sender: 'human', text: 'Hey, can you tell me, like, a fun fact about 11 Labs?', timestamp: 1739537299 });
  });

  it('maps call_successful failure to false and unknown to no status; skips turns without a message', () => {
    const body = fixture('post-call-transcription-phone');
    body.data.analysis.call_successful = 'failure';
    expect(elevenlabs.normalize(elevenlabs.schema.strict.parse(body)).extracted_variables.status).toBe(false);
    body.data.analysis.call_successful = 'unknown';
    body.data.transcript.push({ role: 'agent', message: null, tool_calls: [{ tool_name: 'book' }], time_in_call_secs: 10 });
    const call = elevenlabs.normalize(elevenlabs.schema.strict.parse(body));
    expect(call.extracted_variables).not.toHaveProperty('status');
    expect(call.transcript.turns).toHaveLength(4);
  });

  it('keeps a nested data collection value as its JSON text', () => {
    const body = fixture('post-call-transcription-phone');
    body.data.analysis.data_collection_results.slot = { data_collection_id: 'slot', value: { day: 9 }, rationale: '' };
    const call = elevenlabs.normalize(elevenlabs.schema.strict.parse(body));
    expect(call.extracted_variables.slot).toBe('{"day":9}');
  });

  it('gives the same JSON whatever order the sender lists keys in', () => {
    const body = fixture('post-call-transcription-phone');
    const reorder = (value: unknown): unknown =>
      Array.isArray(value) ? value.map(reorder) : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reorder(v)])) : value;
    const a = elevenlabs.normalize(elevenlabs.schema.strict.parse(body));
    const b = elevenlabs.normalize(elevenlabs.schema.strict.parse(reorder(body)));
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
});

describe('elevenlabs classify', () => {
  it('classes every kind', () => {
    expect(elevenlabs.classify(fixture('post-call-transcription-phone'))).toEqual({ kind: 'call', event: 'post_call_transcription' });
    expect(elevenlabs.classify(fixture('post-call-audio-docs'))).toEqual({ kind: 'ignored', event: 'post_call_audio' });
    expect(elevenlabs.classify({ type: 'call_initiation_failure', event_timestamp: 1, data: {} })).toEqual({ kind: 'ignored', event: 'call_initiation_failure' });
    expect(elevenlabs.classify(fixture('conversation-initiation-request'))).toEqual({ kind: 'precall', event: 'conversation_initiation_client_data' });
    expect(elevenlabs.classify({ type: 'post_call_summary', data: {} })).toEqual({ kind: 'unknown', event: 'post_call_summary', path: 'type' });
    expect(elevenlabs.classify({ data: {} })).toEqual({ kind: 'unknown', event: null, path: 'type' });
    expect(elevenlabs.classify({ type: 7 })).toEqual({ kind: 'unknown', event: null, path: 'type' });
    expect(elevenlabs.unknownEvents).toBe('ignore');
  });

  it('has no unanswerable kind: no request/response message is documented on this URL', () => {
    // Server tools call their own URLs; a tool-style body here is simply undocumented.
    expect(elevenlabs.classify({ type: 'tool_call', tool_name: 'book' }).kind).toBe('unknown');
  });
});

describe('elevenlabs pre-call (conversation initiation client data)', () => {
  it('reads the request', () => {
    const body = fixture('conversation-initiation-request');
    expect(elevenlabs.precall!.parse(body)).toEqual({
      ok: true,
      request: {
        customer_phone: '+15550100001',
        assistant_phone: '+15550100002',
        assistant_id: 'agent_01jq8x0f3m2n4p5r6s7t8v9w0x',
        call_id: 'CA00000000000000000000000000000001',
        timestamp: null,
        status: null,
        variables: {},
        body,
      },
    });
  });

  it('refuses a wrong type with its path', () => {
    const result = elevenlabs.precall!.parse({ ...fixture('conversation-initiation-request'), caller_id: 15550100001 });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map((i) => i.path)).toEqual(['caller_id']);
  });

  it('answers in the documented shape', () => {
    const docs = fixture('conversation-initiation-response-docs');
    const answer = elevenlabs.precall!.answer(docs.dynamic_variables) as Record<string, unknown>;
    expect(answer).toEqual({ type: docs.type, dynamic_variables: docs.dynamic_variables });
    expect(elevenlabs.precall!.answer({ n: 3, ok: true, gone: null, nested: { a: 1 } })).toEqual({
      type: 'conversation_initiation_client_data',
      dynamic_variables: { gone: '', n: 3, nested: '{"a":1}', ok: true },
    });
  });
});
