/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures are edited freely to build bad bodies */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SIGNATURE_SCHEMES } from '../../src/ingest/signatures/index.js';
import { synthflowSignature } from '../../src/ingest/signatures/synthflow.js';
import { PLATFORM_PAYLOADS } from '../../src/payload/platforms/index.js';
import { synthflow } from '../../src/payload/platforms/synthflow.js';
import { scrubPayload } from '../../src/payload/scrub-payload.js';

function fixture(name: string): Record<string, any> {
  return JSON.parse(readFileSync(new URL(`../fixtures/platforms/synthflow/${name}.json`, import.meta.url), 'utf8'));
}

const SECRET = 'sf_test_secret_0123456789abcdef0123456789';
const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const raw = Buffer.from(JSON.stringify(fixture('post-call-docs')));
const CALL_ID = '1711646262471x768387119913843100';

function verify(headers: Record<string, string>, opts: { body?: Buffer; secrets?: string[]; now?: number } = {}) {
  return synthflowSignature.verify({
    raw: opts.body ?? raw,
    header: (name) => headers[name],
    secrets: opts.secrets ?? [SECRET],
    now: opts.now ?? NOW,
  });
}

/** The docs' Python check: base64(HMAC-SHA256(secret, call_id)). */
function docsSignature(callId: string, secret: string): string {
  return createHmac('sha256', secret).update(callId).digest('base64');
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v));
}

describe('synthflow signature', () => {
  it('is registered', () => {
    expect(SIGNATURE_SCHEMES.synthflow).toBe(synthflowSignature);
    expect(PLATFORM_PAYLOADS.synthflow).toBe(synthflow);
    expect(synthflowSignature.env).toBe('SYNTHFLOW_WEBHOOK_SECRETS');
    expect(synthflowSignature.headers).toEqual(['synthflow-signature', 'http_synthflow_signature']);
  });

  it('matches the published example (secret your-secret-key, call id 123456789)', () => {
    const body = Buffer.from(JSON.stringify({ call: { call_id: '123456789' } }));
    expect(synthflowSignature.sign(body, 'your-secret-key', NOW)).toEqual({ 'synthflow-signature': 'BDYfUVpCOdnUFPaYuTYUbNCIr4aYC/CL503qxdV2c8A=' });
    expect(verify({ 'synthflow-signature': 'BDYfUVpCOdnUFPaYuTYUbNCIr4aYC/CL503qxdV2c8A=' }, { body, secrets: ['your-secret-key'] })).toEqual({ ok: true });
  });

  it('accepts what sign produces, and the docs computation', () => {
    const headers = synthflowSignature.sign(raw, SECRET, NOW);
    expect(headers).toEqual({ 'synthflow-signature': docsSignature(CALL_ID, SECRET) });
    expect(verify(headers)).toEqual({ ok: true });
  });

  it('accepts the documented META spelling of the header too', () => {
    expect(verify({ http_synthflow_signature: docsSignature(CALL_ID, SECRET) })).toEqual({ ok: true });
  });

  it('refuses a wrong secret', () => {
    expect(verify({ 'synthflow-signature': docsSignature(CALL_ID, 'another-secret') })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a body whose call id was changed', () => {
    const tampered = clone(fixture('post-call-docs'));
    tampered.call.call_id = '1711646262471x768387119913843101';
    expect(verify(synthflowSignature.sign(raw, SECRET, NOW), { body: Buffer.from(JSON.stringify(tampered)) })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('does not cover the rest of the body (documented weakness)', () => {
    const altered = clone(fixture('post-call-docs'));
    altered.call.duration = 999;
    expect(verify(synthflowSignature.sign(raw, SECRET, NOW), { body: Buffer.from(JSON.stringify(altered)) })).toEqual({ ok: true });
  });

  it('reports a missing header', () => {
    expect(verify({})).toEqual({ ok: false, reason: 'missing' });
    expect(verify({ 'synthflow-signature': '' })).toEqual({ ok: false, reason: 'missing' });
  });

  it('reports a malformed header', () => {
    const good = docsSignature(CALL_ID, SECRET);
    expect(verify({ 'synthflow-signature': 'not base64!' })).toEqual({ ok: false, reason: 'malformed' });
    expect(verify({ 'synthflow-signature': Buffer.from(good, 'base64').toString('hex') })).toEqual({ ok: false, reason: 'malformed' });
    expect(verify({ 'synthflow-signature': good.slice(0, -4) })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('reports a body without a call id, or that is no JSON, as malformed', () => {
    const headers = synthflowSignature.sign(raw, SECRET, NOW);
    expect(verify(headers, { body: Buffer.from('{not json') })).toEqual({ ok: false, reason: 'malformed' });
    expect(verify(headers, { body: Buffer.from('[]') })).toEqual({ ok: false, reason: 'malformed' });
    expect(verify(headers, { body: Buffer.from(JSON.stringify({ call: {} })) })).toEqual({ ok: false, reason: 'malformed' });
    expect(verify(headers, { body: Buffer.from(JSON.stringify({ call: { call_id: 42 } })) })).toEqual({ ok: false, reason: 'malformed' });
    expect(verify(headers, { body: Buffer.from(JSON.stringify(fixture('inbound-request-docs'))) })).toEqual({ ok: false, reason: 'malformed' });
    expect(() => synthflowSignature.sign('{}', SECRET, NOW)).toThrow(/call_id/);
  });

  it('has no timestamp, so an old signature is never stale', () => {
    expect(verify(synthflowSignature.sign(raw, SECRET, NOW), { now: NOW + 365 * 24 * 3600 * 1000 })).toEqual({ ok: true });
  });

  it('accepts a rotated second secret', () => {
    const headers = synthflowSignature.sign(raw, 'new-secret', NOW);
    expect(verify(headers, { secrets: [SECRET, 'new-secret'] })).toEqual({ ok: true });
    expect(verify(headers, { secrets: [SECRET] })).toEqual({ ok: false, reason: 'mismatch' });
  });
});

describe('synthflow schema', () => {
  it('accepts the documented post-call example in both modes', () => {
    expect(synthflow.schema.strict.safeParse(fixture('post-call-docs')).success).toBe(true);
    expect(synthflow.schema.lenient.safeParse(fixture('post-call-docs')).success).toBe(true);
  });

  it('accepts the newer pages keys: analysis, custom_end_call_reason, collected_variables in both places', () => {
    const body = clone(fixture('post-call-docs'));
    body.analysis = { greeting: true, greeting_feedback: 'Polite.', booking: 'partial' };
    body.custom_end_call_reason = 'customer asked to call back';
    body.collected_variables = { email: { value: 'a@example.com', collected: true } };
    body.call.collected_variables = { agent_1: { city: { value: 'Berlin', collected: true } } };
    body.lead.prompt_variables = {};
    expect(synthflow.schema.strict.safeParse(body).success).toBe(true);
  });

  it('fails a wrong type on a read field with its exact path', () => {
    const body = clone(fixture('post-call-docs'));
    body.call.duration = '32';
    const result = synthflow.schema.strict.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toEqual(['call.duration']);

    const start = clone(fixture('post-call-docs'));
    start.call.start_time = '28.03.2024 18:17';
    expect(synthflow.schema.strict.safeParse(start).error!.issues.map((i) => i.path.join('.'))).toEqual(['call.start_time']);

    const action = clone(fixture('post-call-docs'));
    action.executed_actions.extract_info_1.return_value = 'car';
    expect(synthflow.schema.strict.safeParse(action).error!.issues.map((i) => i.path.join('.'))).toEqual(['executed_actions.extract_info_1.return_value']);

    const id = clone(fixture('post-call-docs'));
    delete id.call.call_id;
    expect(synthflow.schema.strict.safeParse(id).error!.issues.map((i) => i.path.join('.'))).toEqual(['call.call_id']);
  });

  it('fails an unknown top-level key in strict mode and strips it in lenient mode', () => {
    const body = { ...fixture('post-call-docs'), surprise: 1 };
    const strictResult = synthflow.schema.strict.safeParse(body);
    expect(strictResult.success).toBe(false);
    expect(strictResult.error!.issues[0]!.code).toBe('unrecognized_keys');
    const lenientResult = synthflow.schema.lenient.safeParse(body);
    expect(lenientResult.success).toBe(true);
    expect(lenientResult.data).not.toHaveProperty('surprise');
  });

  it('lets unread keys of the call, lead and actions pass in strict mode', () => {
    const body = clone(fixture('post-call-docs'));
    body.call.new_field = 'x';
    body.lead.email = 'david@example.com';
    body.executed_actions.transfer_1 = { name: 'transfer_1', action_type: 'live_transfer', return_value: { status: 'failed', failed_reason: 'busy' } };
    expect(synthflow.schema.strict.safeParse(body).success).toBe(true);
  });
});

describe('synthflow normalization', () => {
  const expectedText =
    "bot: Hello, I am calling from Majestic Estates! I've seen you complete our form on the website about selling. Do you have a couple of minutes to finish the request? \n" +
    'human: Yes. I want to buy a car.\n' +
    "bot: Oh, that's exciting! But let's focus on your property for now. Are you planning to sell it or rent it out? \n" +
    'human: I want to buy a car by';

  it('normalizes the documented example into the exact Call', () => {
    const call = synthflow.normalize(synthflow.schema.strict.parse(fixture('post-call-docs')));
    expect(call).toEqual({
      id: CALL_ID,
      platform: 'synthflow',
      variant: 'synthflow',
      event: null,
      channel: 'phone',
      status: 'completed',
      customer_phone: '+1234334546',
      assistant_phone: null,
      assistant_id: '1711241656808x745681686585854500',
      duration: 32,
      extracted_variables: { ended_reason: 'completed', purchase: 'car' },
      input_variables: {},
      transcript: {
        turns: [
          { sender: 'bot', text: "Hello, I am calling from Majestic Estates! I've seen you complete our form on the website about selling. Do you have a couple of minutes to finish the request?", timestamp: null },
          { sender: 'human', text: 'Yes. I want to buy a car.', timestamp: null },
          { sender: 'bot', text: "Oh, that's exciting! But let's focus on your property for now. Are you planning to sell it or rent it out?", timestamp: null },
          { sender: 'human', text: 'I want to buy a car by', timestamp: null },
        ],
        text: expectedText,
      },
      recording_url: null,
      created_at: '2024-03-28T17:17:46.205134Z',
      finished_at: null,
      lead: null,
      campaign: null,
      transfers: [],
      attachments: [],
      conversation: null,
    });
    expect(call.extracted_variables).not.toHaveProperty('summary');
    expect(call.extracted_variables).not.toHaveProperty('status');
  });

  it('reads recording_url, prompt variables, collected variables (flat and nested) and skips transfer outcomes', () => {
    const body = clone(fixture('post-call-docs'));
    body.call.recording_url = 'https://recordings.example.com/1.wav';
    body.lead.prompt_variables = { name: 'David', visits: 2, vip: true, tags: ['a'] };
    body.collected_variables = { email: { value: 'd@example.com', collected: true }, budget: { value: null, collected: false } };
    body.call.collected_variables = { agent_1: { city: { value: 'Berlin', collected: true }, zip: { value: '10115', collected: false } } };
    body.executed_actions.transfer_1 = { name: 'transfer_1', action_type: 'live_transfer', return_value: { status: 'failed', failed_reason: 'busy' } };
    const call = synthflow.normalize(synthflow.schema.strict.parse(body));
    expect(call.recording_url).toBe('https://recordings.example.com/1.wav');
    expect(call.input_variables).toEqual({ name: 'David', tags: '["a"]', vip: true, visits: 2 });
    expect(call.extracted_variables).toEqual({ city: 'Berlin', email: 'd@example.com', ended_reason: 'completed', purchase: 'car' });
    expect(Object.keys(call.extracted_variables)).toEqual(['city', 'email', 'ended_reason', 'purchase']);
  });

  it('maps statuses conservatively', () => {
    const withStatus = (status: string, reason: string | null = null) => {
      const body = clone(fixture('post-call-docs'));
      body.call.status = status;
      body.call.end_call_reason = reason;
      return synthflow.normalize(synthflow.schema.strict.parse(body)).status;
    };
    expect(withStatus('completed', 'agent_goodbye')).toBe('completed');
    expect(withStatus('user-canceled', 'user_canceled')).toBe('ended_by_customer');
    expect(withStatus('completed', 'user_canceled')).toBe('ended_by_customer');
    expect(withStatus('failed')).toBe('failed');
    expect(withStatus('no-answer')).toBe('unanswered');
    expect(withStatus('something_new')).toBe('ended');
  });

  it('gives the same JSON, scrubbed or not, whatever the key order of the body', () => {
    const body = fixture('post-call-docs');
    body.lead.prompt_variables = { zeta: 1, alpha: 'a' };
    body.collected_variables = { email: { value: 'd@example.com', collected: true }, city: { value: 'Berlin', collected: true } };
    const reversed = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reversed) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)])) : v;
    const a = synthflow.normalize(synthflow.schema.strict.parse(body));
    const b = synthflow.normalize(synthflow.schema.strict.parse(reversed(body)));
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(scrubPayload(b))).toBe(JSON.stringify(scrubPayload(a)));
  });
});

describe('synthflow classify', () => {
  it('reads the bare post-call result as a call without event name', () => {
    expect(synthflow.classify(fixture('post-call-docs'))).toEqual({ kind: 'call', event: null });
    // A call object with a bad id is still the end-of-call body: the schema names the path.
    expect(synthflow.classify({ call: { call_id: 42 } })).toEqual({ kind: 'call', event: null });
  });

  it('reads the inbound webhook as the pre-call request', () => {
    expect(synthflow.classify(fixture('inbound-request-docs'))).toEqual({ kind: 'precall', event: 'call_inbound' });
  });

  it('reads any other body as unknown (no live or tool-call events are documented), to be quarantined', () => {
    expect(synthflow.classify({ event: 'call_started', call: { call_id: 'x' } })).toEqual({ kind: 'unknown', event: 'call_started', path: 'event' });
    expect(synthflow.classify({ event: 7 })).toEqual({ kind: 'unknown', event: null, path: 'event' });
    expect(synthflow.classify({ status: 'completed' })).toEqual({ kind: 'unknown', event: null, path: 'call.call_id' });
    expect(synthflow.classify({ call: 'x' })).toEqual({ kind: 'unknown', event: null, path: 'call.call_id' });
    expect(synthflow.unknownEvents).toBe('quarantine');
  });
});

describe('synthflow pre-call', () => {
  it('parses the documented inbound request', () => {
    const body = fixture('inbound-request-docs');
    expect(synthflow.precall!.parse(body)).toEqual({
      ok: true,
      request: {
        customer_phone: '+12137771234',
        assistant_phone: '+12137771235',
        assistant_id: 'optional_agent_id',
        call_id: null,
        timestamp: null,
        status: null,
        variables: {},
        body,
      },
    });
  });

  it('accepts a request without model_id and refuses a malformed one with its path', () => {
    const parsed = synthflow.precall!.parse({ event: 'call_inbound', call_inbound: { from_number: '+12137771234', to_number: '+12137771235' } });
    expect(parsed.ok && parsed.request.assistant_id).toBe(null);
    const bad = synthflow.precall!.parse({ event: 'call_inbound', call_inbound: { from_number: 12137771234 } });
    expect(bad).toEqual({ ok: false, issues: [expect.objectContaining({ path: 'call_inbound.from_number' })] });
  });

  it('answers in the documented shape, never an empty call_inbound', () => {
    const documented = fixture('inbound-response-docs');
    const answer = synthflow.precall!.answer({ customer_name: 'John Doe' }) as Record<string, any>;
    expect(Object.keys(answer)).toEqual(Object.keys(documented));
    expect(answer.call_inbound.custom_variables).toEqual(documented.call_inbound.custom_variables);
    expect(answer).toEqual({ call_inbound: { override_model_id: '', custom_variables: { customer_name: 'John Doe' } } });
    expect(synthflow.precall!.answer({})).toEqual({ call_inbound: { override_model_id: '', custom_variables: {} } });
    expect(synthflow.precall!.answer({ visits: 2, vip: true, none: null })).toEqual({ call_inbound: { override_model_id: '', custom_variables: { visits: '2', vip: 'true', none: 'null' } } });
  });
});
