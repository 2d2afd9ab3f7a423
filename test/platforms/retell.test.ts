// Retell AI: the signature (retell-sdk's published test vector), the schema, the exact Call,
// the events' classification and the call_inbound answer. Sources: test/fixtures/platforms/retell/README.md.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { retellSignature } from '../../src/ingest/signatures/retell.js';
import { parsePayload } from '../../src/payload/parse-payload.js';
import { retell } from '../../src/payload/platforms/retell.js';
import { serializeCall } from '../../src/payload/content-hash.js';

type Json = Record<string, unknown>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`../fixtures/platforms/retell/${name}.json`, import.meta.url), 'utf8')) as Json;
const verify = (raw: string, header: string | undefined, now: number, secrets = ['test-api-key']) =>
  retellSignature.verify({ raw: Buffer.from(raw), header: (name) => (name === 'x-retell-signature' ? header : undefined), secrets, now });

describe('x-retell-signature', () => {
  // retell-sdk tests/webhook-auth.test.ts: body, key and timestamp → this header.
  const VECTOR = { body: '{"event":"call_ended"}', stamp: 1700000000000, header: 'v=1700000000000,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e' };

  it("matches the SDK's published vector, and sign produces it", () => {
    expect(verify(VECTOR.body, VECTOR.header, VECTOR.stamp)).toEqual({ ok: true });
    expect(retellSignature.sign(VECTOR.body, 'test-api-key', VECTOR.stamp)).toEqual({ 'x-retell-signature': VECTOR.header });
  });

  it('accepts any of several keys (rotation), refuses a wrong key, another body, no header and a malformed one', () => {
    expect(verify(VECTOR.body, VECTOR.header, VECTOR.stamp, ['old-key', 'test-api-key'])).toEqual({ ok: true });
    expect(verify(VECTOR.body, VECTOR.header, VECTOR.stamp, ['another-key'])).toEqual({ ok: false, reason: 'mismatch' });
    expect(verify('{"event":"call_analyzed"}', VECTOR.header, VECTOR.stamp)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verify(VECTOR.body, undefined, VECTOR.stamp)).toEqual({ ok: false, reason: 'missing' });
    expect(verify(VECTOR.body, 'sha256=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e', VECTOR.stamp)).toEqual({ ok: false, reason: 'malformed' });
    expect(verify(VECTOR.body, VECTOR.header.slice(0, -2), VECTOR.stamp)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('takes a timestamp within 5 minutes either way, as the SDK does, and refuses a stale or a future one', () => {
    const fiveMinutes = 5 * 60 * 1000;
    expect(verify(VECTOR.body, VECTOR.header, VECTOR.stamp + fiveMinutes)).toEqual({ ok: true });
    expect(verify(VECTOR.body, VECTOR.header, VECTOR.stamp - fiveMinutes)).toEqual({ ok: true });
    expect(verify(VECTOR.body, VECTOR.header, VECTOR.stamp + fiveMinutes + 1)).toEqual({ ok: false, reason: 'stale' });
    expect(verify(VECTOR.body, VECTOR.header, VECTOR.stamp - fiveMinutes - 1)).toEqual({ ok: false, reason: 'stale' });
  });
});

describe('the Retell schema', () => {
  it('takes both end-of-call fixtures and refuses a wrong type at its exact path', () => {
    for (const name of ['call-ended', 'call-analyzed']) expect(parsePayload(fixture(name), 'strict', { platform: 'retell' }).ok, name).toBe(true);
    const body = fixture('call-analyzed');
    ((body.call as Json).call_analysis as Json).call_successful = 'yes';
    expect(parsePayload(body, 'strict', { platform: 'retell' })).toMatchObject({ ok: false, issues: [{ path: 'call.call_analysis.call_successful' }] });
    const bad = fixture('call-ended');
    (bad.call as Json).duration_ms = -1;
    expect(parsePayload(bad, 'strict', { platform: 'retell' })).toMatchObject({ ok: false, issues: [{ path: 'call.duration_ms' }] });
  });

  it('refuses an unknown envelope key in strict mode, strips it in warn mode', () => {
    const body = { ...fixture('call-ended'), event_type: 'call_ended' };
    expect(parsePayload(body, 'strict', { platform: 'retell' })).toMatchObject({ ok: false, issues: [{ path: 'event_type', message: 'unknown key' }] });
    expect(parsePayload(body, 'warn', { platform: 'retell' })).toMatchObject({ ok: true, unknownKeys: ['event_type'] });
  });
});

describe('a Retell call as the one Call', () => {
  it('call_analyzed: phones by direction, seconds, ISO times, analysis in extracted, dynamic variables in input, turns with wall time', () => {
    const parsed = parsePayload(fixture('call-analyzed'), 'strict', { platform: 'retell' });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const call = parsed.call;
    expect(call).toMatchObject({
      id: 'call_0f1e2d3c4b5a69788796a5b4c3d2e1f0',
      platform: 'retell',
      variant: 'retell',
      event: 'call_analyzed',
      channel: 'phone',
      status: 'ended_by_customer',
      customer_phone: '+15550100001',
      assistant_phone: '+15550100002',
      assistant_id: 'agent_3c2b1a09f8e7d6c5b4a39281',
      duration: 95.4,
      created_at: '2026-12-02T09:20:00.000Z',
      finished_at: '2026-12-02T09:21:35.400Z',
      recording_url: (fixture('call-analyzed').call as Json).recording_url,
      input_variables: { customer_name: 'Jordan Lee', plan: 'premium' },
      lead: null,
      campaign: null,
    });
    expect(call.extracted_variables).toEqual({
      appointment_booked: true,
      appointment_date: '2026-12-09',
      appointment_time: '10:00',
      ended_reason: 'user_hangup',
      sentiment: 'Positive',
      status: true,
      summary: 'The caller booked a cleaning for Wednesday 9 December at 10:00.',
    });
    expect(call.transcript.turns[0]).toEqual({ sender: 'bot', text: 'Thanks for calling, how can I help?', timestamp: 1796203200.42 });
    expect(call.transcript.turns.map((t) => t.sender)).toEqual(['bot', 'human', 'bot', 'human']);
    expect(call.transcript.text).toBe((fixture('call-analyzed').call as Json).transcript);
  });

  it('call_ended has no analysis yet: no summary, no status', () => {
    const parsed = parsePayload(fixture('call-ended'), 'strict', { platform: 'retell' });
    if (!parsed.ok) throw new Error('invalid');
    expect(parsed.call.extracted_variables).toEqual({ appointment_date: '2026-12-09', ended_reason: 'user_hangup' });
  });

  it('the same call in another key order is the same content (same hash)', () => {
    const body = fixture('call-analyzed');
    const reversed = JSON.parse(JSON.stringify(body, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v))) as Json;
    const a = parsePayload(body, 'strict', { platform: 'retell' });
    const b = parsePayload(reversed, 'strict', { platform: 'retell' });
    if (!a.ok || !b.ok) throw new Error('invalid');
    expect(serializeCall(b.call).hash).toBe(serializeCall(a.call).hash);
  });

  it.each([
    ['user_hangup', 'ended_by_customer'],
    ['agent_hangup', 'ended_by_assistant'],
    ['dial_no_answer', 'unanswered'],
    ['voicemail_reached', 'unanswered'],
    ['dial_busy', 'busy'],
    ['dial_failed', 'failed'],
    ['error_llm_websocket_open', 'failed'],
    ['max_duration_reached', 'completed'],
  ])('disconnection_reason %s is status %s', (reason, status) => {
    const body = fixture('call-ended');
    (body.call as Json).disconnection_reason = reason;
    const parsed = parsePayload(body, 'strict', { platform: 'retell' });
    expect(parsed.ok && parsed.call.status).toBe(status);
  });
});

describe('Retell events', () => {
  it('classifies end-of-call, live, pre-call and unknown events', () => {
    expect(retell.classify({ event: 'call_ended' })).toEqual({ kind: 'call', event: 'call_ended' });
    expect(retell.classify({ event: 'call_analyzed' })).toEqual({ kind: 'call', event: 'call_analyzed' });
    for (const event of ['call_started', 'transcript_updated', 'transfer_started', 'chat_ended']) expect(retell.classify({ event })).toEqual({ kind: 'ignored', event });
    expect(retell.classify({ event: 'call_inbound' })).toEqual({ kind: 'precall', event: 'call_inbound' });
    expect(retell.classify({ event: 'call_reviewed' })).toEqual({ kind: 'unknown', event: 'call_reviewed', path: 'event' });
    expect(retell.classify({ event_type: 'call_analyzed' })).toEqual({ kind: 'unknown', event: null, path: 'event' });
  });

  it('reads call_inbound as the inbound request and answers dynamic_variables as strings', () => {
    const parsed = retell.precall!.parse(fixture('call-inbound-request'));
    expect(parsed).toMatchObject({ ok: true, request: { customer_phone: '+15550100001', assistant_phone: '+15550100002', assistant_id: 'agent_3c2b1a09f8e7d6c5b4a39281' } });
    expect(retell.precall!.answer({ customer_name: 'Jordan Lee', calls_before: 2, vip: true })).toEqual({
      call_inbound: { dynamic_variables: { customer_name: 'Jordan Lee', calls_before: '2', vip: 'true' } },
    });
    expect(retell.precall!.parse({ event: 'call_inbound', call_inbound: { from_number: 5 } })).toMatchObject({ ok: false, issues: [{ path: 'call_inbound.from_number' }] });
  });
});
