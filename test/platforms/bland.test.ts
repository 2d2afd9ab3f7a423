import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { bland, normalizeBland, type RawBlandCall } from '../../src/payload/platforms/bland.js';
import { blandSignature } from '../../src/ingest/signatures/bland.js';
import { PLATFORM_PAYLOADS } from '../../src/payload/platforms/index.js';
import { SIGNATURE_SCHEMES } from '../../src/ingest/signatures/index.js';
import type { SignatureInput } from '../../src/ingest/signatures/signature-scheme.js';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/platforms/bland/${name}.json`, import.meta.url), 'utf8'));
const postCall = () => fixture('post-call');

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const SECRET = 'bland-signing-secret';

function input(raw: string, headers: Record<string, string>, secrets: readonly string[] = [SECRET], now = NOW): SignatureInput {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { raw: Buffer.from(raw), header: (name) => lower[name], secrets, now };
}

function parse(body: unknown): RawBlandCall {
  const parsed = bland.schema.strict.safeParse(body);
  if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues));
  return parsed.data;
}

describe('bland signature', () => {
  const raw = JSON.stringify(postCall());

  it('is registered', () => {
    expect(SIGNATURE_SCHEMES.bland).toBe(blandSignature);
    expect(PLATFORM_PAYLOADS.bland).toBe(bland);
    expect(blandSignature.env).toBe('BLAND_WEBHOOK_SECRETS');
    expect(blandSignature.headers).toEqual(['x-webhook-signature']);
  });

  it('signs as the docs describe: hex HMAC-SHA256 of the body, no prefix', () => {
    const headers = blandSignature.sign(raw, SECRET, NOW);
    expect(headers).toEqual({ 'x-webhook-signature': createHmac('sha256', SECRET).update(raw).digest('hex') });
    expect(headers['x-webhook-signature']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('accepts a valid signature, in either case of hex, whatever the time', () => {
    const sig = blandSignature.sign(raw, SECRET, NOW)['x-webhook-signature']!;
    expect(blandSignature.verify(input(raw, { 'X-Webhook-Signature': sig }))).toEqual({ ok: true });
    expect(blandSignature.verify(input(raw, { 'X-Webhook-Signature': sig.toUpperCase() }))).toEqual({ ok: true });
    // No timestamp in the scheme: nothing can be stale.
    expect(blandSignature.verify(input(raw, { 'X-Webhook-Signature': sig }, [SECRET], NOW + 365 * 86_400_000))).toEqual({ ok: true });
  });

  it('refuses a wrong secret', () => {
    const headers = blandSignature.sign(raw, 'other-secret', NOW);
    expect(blandSignature.verify(input(raw, headers))).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a tampered body', () => {
    const headers = blandSignature.sign(raw, SECRET, NOW);
    expect(blandSignature.verify(input(raw.replace('"call_length":0.75', '"call_length":7.5'), headers))).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('verifies the raw bytes, not a re-serialisation', () => {
    const pretty = JSON.stringify(postCall(), null, 2);
    const headers = blandSignature.sign(raw, SECRET, NOW);
    expect(blandSignature.verify(input(pretty, headers))).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a missing header', () => {
    expect(blandSignature.verify(input(raw, {}))).toEqual({ ok: false, reason: 'missing' });
    expect(blandSignature.verify(input(raw, { 'x-webhook-signature': '' }))).toEqual({ ok: false, reason: 'missing' });
  });

  it('refuses a malformed header', () => {
    const sig = blandSignature.sign(raw, SECRET, NOW)['x-webhook-signature']!;
    for (const value of [`sha256=${sig}`, sig.slice(0, 63), `${sig}00`, 'zz'.repeat(32), Buffer.from(sig, 'hex').toString('base64')]) {
      expect(blandSignature.verify(input(raw, { 'x-webhook-signature': value }))).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('tries every secret: a second, rotated secret is accepted', () => {
    const headers = blandSignature.sign(raw, 'new-secret', NOW);
    expect(blandSignature.verify(input(raw, headers, [SECRET, 'new-secret']))).toEqual({ ok: true });
    expect(blandSignature.verify(input(raw, blandSignature.sign(raw, SECRET, NOW), [SECRET, 'new-secret']))).toEqual({ ok: true });
    expect(blandSignature.verify(input(raw, headers, []))).toEqual({ ok: false, reason: 'mismatch' });
  });
});

describe('bland schema', () => {
  it('accepts the post-call fixture in strict and lenient mode', () => {
    expect(bland.schema.strict.safeParse(postCall()).success).toBe(true);
    expect(bland.schema.lenient.safeParse(postCall()).success).toBe(true);
  });

  it('accepts a numeric call id and a documented status field', () => {
    expect(bland.schema.strict.safeParse({ ...postCall(), call_id: 12345, status: 'completed' }).success).toBe(true);
  });

  it.each([
    [['call_length'], 'call_length', '45'],
    [['inbound'], 'inbound', 'false'],
    [['call_id'], 'call_id', null],
    [['recording_url'], 'recording_url', 'javascript:alert(1)'],
    [['started_at'], 'started_at', 'yesterday'],
    [['analysis'], 'analysis', 'booked'],
  ])('refuses a wrong type at %j', (path, key, value) => {
    const parsed = bland.schema.strict.safeParse({ ...postCall(), [key]: value });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path)).toEqual([path]);
  });

  it('refuses a wrong type inside a transcript turn with its path', () => {
    const body = postCall();
    (body.transcripts as Array<Record<string, unknown>>)[2]!.text = 42;
    const parsed = bland.schema.strict.safeParse(body);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path)).toEqual([['transcripts', 2, 'text']]);
    (body.transcripts as Array<Record<string, unknown>>)[2]!.text = 'ok';
    (body.transcripts as Array<Record<string, unknown>>)[1]!.user = 'narrator';
    expect(bland.schema.strict.safeParse(body).error!.issues.map((i) => i.path)).toEqual([['transcripts', 1, 'user']]);
  });

  it('refuses an unknown top-level key in strict mode and strips it in lenient mode', () => {
    const body = { ...postCall(), surprise: 1 };
    const strict = bland.schema.strict.safeParse(body);
    expect(strict.success).toBe(false);
    expect(strict.error!.issues[0]!.code).toBe('unrecognized_keys');
    const lenient = bland.schema.lenient.safeParse(body);
    expect(lenient.success).toBe(true);
    expect(lenient.data).not.toHaveProperty('surprise');
  });

  it('lets other keys of a transcript turn pass', () => {
    const body = postCall();
    (body.transcripts as Array<Record<string, unknown>>)[0]!.extra = 'x';
    expect(bland.schema.strict.safeParse(body).success).toBe(true);
  });
});

describe('bland normalization', () => {
  it('maps the post-call fixture onto the exact Call', () => {
    const call = normalizeBland(parse(postCall()));
    expect(call).toEqual({
      id: '12345678-1234-1234-1234-123456789012',
      platform: 'bland',
      variant: 'bland',
      event: null,
      channel: 'phone',
      status: 'ended_by_assistant',
      customer_phone: '+12223334444',
      assistant_phone: '+17163511654',
      assistant_id: null,
      duration: 45,
      extracted_variables: {
        input: '{"date":"2024-04-28","rooms":3}',
        summary:
          'The call was a conversation between a hotel booking service assistant and a customer. The customer expressed interest in booking a hotel room for tomorrow and needing three rooms. The assistant booked book the reservation for three rooms for the next day. Then, the call ended with the assistant thanking the customer for choosing their service.',
      },
      input_variables: { language: 'ENG', phone_number: '+12223334444', wait: true },
      transcript: {
        turns: [
          { sender: 'human', text: 'Hello?', timestamp: Date.UTC(2024, 3, 27, 23, 51, 26) / 1000 },
          {
            sender: 'bot',
            text: "Hi there! I'm calling from the hotel booking service. I'd love to help you with your reservation. Could you let me know what day you'd like to book your hotel for?",
            timestamp: Date.UTC(2024, 3, 27, 23, 51, 28) / 1000,
          },
          { sender: 'human', text: 'Tomorrow, three rooms please.', timestamp: Date.UTC(2024, 3, 27, 23, 51, 40) / 1000 },
          { sender: 'bot', text: 'Done, three rooms for tomorrow. Thank you for choosing our service!', timestamp: Date.UTC(2024, 3, 27, 23, 51, 43) / 1000 },
        ],
        text: "user: Hello? \n assistant: Hi there! I'm calling from the hotel booking service. I'd love to help you with your reservation. Could you let me know what day you'd like to book your hotel for? \n user: Tomorrow, three rooms please. \n assistant: Done, three rooms for tomorrow. Thank you for choosing our service!",
      },
      recording_url: null,
      created_at: '2024-04-27T23:51:25.000Z',
      finished_at: null,
      lead: null,
      campaign: null,
      transfers: [],
      attachments: [],
      conversation: null,
    });
    expect(call.extracted_variables).not.toHaveProperty('status');
  });

  it('swaps the phones for an inbound call and falls back to created_at', () => {
    const body = { ...postCall(), inbound: true, started_at: null };
    const call = normalizeBland(parse(body));
    expect(call.customer_phone).toBe('+17163511654');
    expect(call.assistant_phone).toBe('+12223334444');
    expect(call.created_at).toBe('2024-04-27T23:51:18.025251Z');
  });

  it('maps analysis, custom variables and metadata, nested values as JSON text, summary last', () => {
    const body = {
      ...postCall(),
      analysis: { booked: true, rooms: 3, summary: 'overwritten', details: { a: 1 } },
      metadata: { crm_id: 'L-7' },
      variables: { ...(postCall().variables as object), customer_name: 'Ada' },
      recording_url: 'https://example.com/rec.mp3',
      call_length: 0.1,
    };
    const call = normalizeBland(parse(body));
    expect(call.extracted_variables).toEqual({
      booked: true,
      customer_name: 'Ada',
      details: '{"a":1}',
      input: '{"date":"2024-04-28","rooms":3}',
      rooms: 3,
      summary: (postCall().summary as string),
    });
    expect(call.input_variables).toEqual({ crm_id: 'L-7', language: 'ENG', phone_number: '+12223334444', wait: true });
    expect(call.recording_url).toBe('https://example.com/rec.mp3');
    expect(call.duration).toBe(6);
  });

  it.each([
    [{ answered_by: 'no-answer' }, 'unanswered'],
    [{ answered_by: 'voicemail' }, 'unanswered'],
    [{ queue_status: 'call_error', call_ended_by: null, completed: false }, 'failed'],
    [{ queue_status: 'queue_error' }, 'failed'],
    [{ queue_status: 'complete_error' }, 'ended_by_assistant'],
    [{ call_ended_by: 'USER' }, 'ended_by_customer'],
    [{ call_ended_by: null }, 'completed'],
    [{ call_ended_by: null, completed: false, queue_status: 'queued' }, 'initiated'],
    [{ call_ended_by: null, completed: false, queue_status: 'started' }, 'in-progress'],
    [{ call_ended_by: null, completed: false, queue_status: 'x', error_message: 'boom' }, 'failed'],
    [{ call_ended_by: null, completed: false, queue_status: null }, 'ended'],
  ])('status of %j is %s', (patch, expected) => {
    expect(normalizeBland(parse({ ...postCall(), ...patch })).status).toBe(expected);
  });

  it('skips robot and agent-action turns, and parses the text when no turns are sent', () => {
    const body = postCall();
    const turns = body.transcripts as Array<Record<string, unknown>>;
    turns.push({ id: 5, created_at: '2024-04-27T23:51:44+00:00', text: 'transferred', user: 'agent-action' }, { id: 6, text: 'beep', user: 'robot' });
    expect(normalizeBland(parse(body)).transcript.turns).toHaveLength(4);
    const textOnly = normalizeBland(parse({ ...postCall(), transcripts: [] }));
    expect(textOnly.transcript.turns.map((t) => [t.sender, t.text.trim()])).toEqual([
      ['human', 'Hello?'],
      ['bot', "Hi there! I'm calling from the hotel booking service. I'd love to help you with your reservation. Could you let me know what day you'd like to book your hotel for?"],
      ['human', 'Tomorrow, three rooms please.'],
      ['bot', 'Done, three rooms for tomorrow. Thank you for choosing our service!'],
    ]);
    const neither = normalizeBland(parse({ ...postCall(), transcripts: null, concatenated_transcript: null }));
    expect(neither.transcript).toEqual({ turns: [], text: '' });
  });

  it('is stable whatever order the keys come in', () => {
    const body = postCall();
    const reversed = (value: unknown): unknown =>
      Array.isArray(value) ? value.map(reversed) : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)])) : value;
    const withExtras = { ...body, metadata: { b: 1, a: 2 }, analysis: { z: 1, y: 2 } };
    const first = JSON.stringify(normalizeBland(parse(withExtras)));
    const second = JSON.stringify(normalizeBland(parse(reversed(withExtras))));
    expect(second).toBe(first);
  });
});

describe('bland classify', () => {
  it('reads a body with a call id as the end-of-call event', () => {
    expect(bland.classify(postCall())).toEqual({ kind: 'call', event: null });
    expect(bland.classify({ call_id: 42 })).toEqual({ kind: 'call', event: null });
  });

  it('calls a body without a call id, or naming an event, unknown', () => {
    expect(bland.classify({})).toEqual({ kind: 'unknown', event: null, path: 'call_id' });
    // A call id of the wrong type is a call body: the schema names the field.
    expect(bland.classify({ call_id: true })).toEqual({ kind: 'call', event: null });
    expect(bland.classify({ call_id: 'c1', event: 'call_started' })).toEqual({ kind: 'unknown', event: 'call_started', path: 'event' });
  });

  it('quarantines unknown events and has no pre-call request', () => {
    expect(bland.unknownEvents).toBe('quarantine');
    expect(bland.precall).toBeUndefined();
  });
});
