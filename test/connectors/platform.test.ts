// platform.* step kinds against a local stub of the calling platform's API (classic and Famulor
// 2.0): the requests sent, the outputs, the sender's phone-number id found and cached, the SMS
// body limit, and how answers are classified (documented 4xx texts permanent, 429 retried after
// its retry_after, 5xx retried, a timeout), plus the client-side rate limiter.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PermanentError, TransientError } from '../../src/connectors/connector.js';
import { compileMappingSource, formatProblem } from '../../src/mapping/load-mappings.js';
import { createPlatformClient } from '../../src/connectors/platform/client.js';
import { platformEnv, RATE_WINDOWS } from '../../src/connectors/platform/config.js';
import { createPhoneNumberDirectory, PHONE_NUMBERS_TTL_MS } from '../../src/connectors/platform/phone-numbers.js';
import { RateLimiter } from '../../src/connectors/platform/rate-limiter.js';
import { fakePlatform, V1_ASSISTANT_ID, V1_CAMPAIGN_ID, V1_NUMBER_ID } from './support/platform/fake-platform.js';
import { closeTestConnectors, KINDS, runStep, stepContext, stepError } from './support/step-harness.js';
import { startVendorStub, type VendorStub } from './support/vendor-stub.js';

let stub: VendorStub;
beforeEach(async () => {
  stub = await startVendorStub(fakePlatform().route);
  vi.stubEnv('PLATFORM', 'autocalls');
  vi.stubEnv('PLATFORM_BASE_URL', stub.url);
  vi.stubEnv('PLATFORM_API_KEY', 'ac-test-key');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await closeTestConnectors();
  await stub.close();
});

const sms = { to: '+4915123456789', body: 'Thanks for your call! Your callback is booked.', from: '+4915550100' };

describe('platform.sms.send (classic API)', () => {
  it('finds the sender\'s numeric id in the phone-number listing, then sends {from: id, to, body} with the Bearer key', async () => {
    const out = await runStep('platform.sms.send', sms);
    expect(stub.calls()).toEqual(['GET /api/user/phone-numbers/all', 'POST /api/user/sms']);
    expect(stub.requests[1]!.headers.authorization).toBe('Bearer ac-test-key');
    expect(stub.requests[1]!.json).toEqual({ from: 11, to: '+4915123456789', body: sms.body });
    expect(out).toEqual({ id: 'SMS_67890', status: 'sent', to: '+4915123456789', from: '+4915550100', segments: 1 });
  });

  it('reads the listing once for several sends of one connector, and again after its TTL', async () => {
    await runStep('platform.sms.send', sms);
    await runStep('platform.sms.send', { ...sms, to: '+4915123456780' });
    expect(stub.calls().filter((c) => c.includes('phone-numbers'))).toHaveLength(1);

    let now = 1_000_000;
    const config = platformEnv.parse({ PLATFORM: 'famulor', PLATFORM_BASE_URL: stub.url, PLATFORM_API_KEY: 'k' });
    if (!config.ok) throw new Error(config.missing);
    const client = createPlatformClient(config.config);
    const directory = createPhoneNumberDirectory(client, () => now);
    const before = stub.requests.length;
    const [a, b] = await Promise.all([directory.smsSender(stepContext(), '+4915550100'), directory.smsSender(stepContext(), '+4915550100')]);
    expect(a).toEqual({ id: '11', phone_number: '+4915550100', sms_capable: true });
    expect(b).toEqual(a);
    expect(stub.requests.length - before).toBe(1); // asked together: one listing
    now += PHONE_NUMBERS_TTL_MS - 1;
    await directory.smsSender(stepContext(), '+4915550100');
    expect(stub.requests.length - before).toBe(1);
    now += 2;
    await directory.smsSender(stepContext(), '+4915550100');
    expect(stub.requests.length - before).toBe(2);
    client.close();
  });

  it('a sender the account lacks, or one that cannot send SMS, fails permanently with the documented text; nothing is sent', async () => {
    const missing = await stepError('platform.sms.send', { ...sms, from: '+4915559999' });
    expect(missing).toBeInstanceOf(PermanentError);
    expect(missing.message).toContain('From number not found');
    const notCapable = await stepError('platform.sms.send', { ...sms, from: '+442071234567' });
    expect(notCapable.message).toContain('Phone number is not SMS-capable');
    expect(stub.calls().filter((c) => c === 'POST /api/user/sms')).toEqual([]);
  });

  it.each([
    'Insufficient balance to send SMS',
    'Phone number is not SMS-capable',
    'From number not found',
    'Invalid phone number format',
  ])('a 400 "%s" is permanent and keeps the platform\'s words', async (message) => {
    await runStep('platform.sms.send', sms); // the listing is cached; the next answer is the send's
    stub.failNext({ status: 400, body: { message } });
    const error = await stepError('platform.sms.send', sms);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe(`autocalls.ai (send SMS) answered 400: ${message}`);
  });

  it('a body over the classic limit of 300 fails at run time naming the field, before anything is sent', async () => {
    const error = await stepError('platform.sms.send', { ...sms, body: 'x'.repeat(301) });
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe('platform.sms.send: with.body has 301 characters; autocalls.ai takes at most 300 per SMS');
    expect(stub.requests).toEqual([]);
    await expect(runStep('platform.sms.send', { ...sms, body: 'x'.repeat(300) })).resolves.toMatchObject({ status: 'sent' });
  });

  it('no answer within the timeout: the SMS may have gone out, so permanent (for an operator), not retried', async () => {
    await runStep('platform.sms.send', sms);
    stub.failNext({ delayMs: 1_000, body: {} });
    const error = await stepError('platform.sms.send', sms, { timeoutMs: 200 });
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/no answer within \d+ ms after the request was sent, so it may have gone out/);
  });

  it('a 500 "Failed to send SMS" (the platform says it did not send) is retried', async () => {
    await runStep('platform.sms.send', sms);
    stub.failNext({ status: 500, body: { message: 'Failed to send SMS', error: 'Twilio service temporarily unavailable' } });
    const error = await stepError('platform.sms.send', sms);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toBe('autocalls.ai (send SMS) answered 500: Failed to send SMS Twilio service temporarily unavailable');
  });
});

describe('rate limits', () => {
  it('a 429 with retry_after is transient with that delay, and holds back the next request instead of sending it', async () => {
    stub.failNext({ status: 429, body: { message: 'Too Many Attempts.', retry_after: 60 } });
    const error = await stepError('platform.lead.add', { campaign_id: 5, phone_number: '+4915123456789' });
    expect(error).toBeInstanceOf(TransientError);
    expect(error.retryAfterMs).toBe(60_000);
    expect(error.message).toBe('autocalls.ai (add lead) answered 429: Too Many Attempts.');
    const held = await stepError('platform.lead.add', { campaign_id: 5, phone_number: '+4915123456789' });
    expect(held).toBeInstanceOf(TransientError);
    expect(held.message).toMatch(/held back by the platform's rate limit/);
    expect(held.retryAfterMs).toBeGreaterThan(50_000);
    expect(stub.requests).toHaveLength(1);
  });

  it('a 429 with a Retry-After header and no body field uses the header', async () => {
    stub.failNext({ status: 429, headers: { 'retry-after': '7' }, body: { error: 'Rate limit exceeded', message: 'Too many requests. Please try again later.' } });
    const error = await stepError('platform.call.make', { assistant_id: 3, phone_number: '+4915123456789' });
    expect(error).toBeInstanceOf(TransientError);
    expect(error.retryAfterMs).toBe(7_000);
  });

  it('the limiter keeps to 20 requests in 10 s and 100 a minute, spreading the rest', () => {
    let now = 0;
    const limiter = new RateLimiter(RATE_WINDOWS, () => now);
    const waits = Array.from({ length: 21 }, () => limiter.reserve().waitMs);
    expect(waits.slice(0, 20)).toEqual(Array(20).fill(0));
    expect(waits[20]).toBe(10_000);
    // Past the bursts: within any minute no more than 100 start.
    const starts: number[] = [];
    for (let i = 0; i < 200; i++) {
      const { waitMs } = limiter.reserve();
      starts.push(now + waitMs);
      now += 100;
    }
    for (const t of starts) expect(starts.filter((s) => s >= t && s < t + 60_000).length).toBeLessThanOrEqual(100);
    for (const t of starts) expect(starts.filter((s) => s >= t && s < t + 10_000).length).toBeLessThanOrEqual(20);
  });
});

describe('leads and calls (classic API)', () => {
  it('platform.lead.add sends the documented fields, allow_dupplicate spelt as documented', async () => {
    const out = await runStep('platform.lead.add', { campaign_id: '5', phone_number: '+4915123456789', variables: { customer_name: 'Dana' } });
    expect(stub.calls()).toEqual(['POST /api/user/lead']);
    expect(stub.requests[0]!.json).toEqual({ phone_number: '+4915123456789', campaign_id: 5, variables: { customer_name: 'Dana' }, allow_dupplicate: false });
    expect(out).toEqual({ id: '100', status: 'created' });
  });

  it('a 503 is retried; a 422 keeps the field errors', async () => {
    stub.failNext({ status: 503, body: { message: 'Service Unavailable' } });
    expect(await stepError('platform.lead.add', { campaign_id: 5, phone_number: '+4915123456789' })).toBeInstanceOf(TransientError);
    stub.failNext({ status: 422, body: { message: 'The given data was invalid.', errors: { campaign_id: ['The selected campaign id is invalid.'] } } });
    const invalid = await stepError('platform.lead.add', { campaign_id: 5, phone_number: '+4915123456789' });
    expect(invalid).toBeInstanceOf(PermanentError);
    expect(invalid.message).toBe('autocalls.ai (add lead) answered 422: The given data was invalid. (campaign_id: The selected campaign id is invalid.)');
  });

  it('a lead step that gets no answer in time is retried (the platform can be asked again)', async () => {
    stub.failNext({ delayMs: 1_000, body: {} });
    const error = await stepError('platform.lead.update', { lead_id: 9, variables: { a: 1 } }, { timeoutMs: 200 });
    expect(error).toBeInstanceOf(TransientError);
  });

  it('platform.lead.update is PUT /api/leads/{id} with only the given fields; a UUID is refused on the classic API', async () => {
    expect(await runStep('platform.lead.update', { lead_id: 9, status: 'completed', variables: { outcome: 'booked' } })).toEqual({ id: '9', updated: true });
    expect(stub.calls()).toEqual(['PUT /api/leads/9']);
    expect(stub.requests[0]!.json).toEqual({ status: 'completed', variables: { outcome: 'booked' } });
    const error = await stepError('platform.lead.update', { lead_id: V1_CAMPAIGN_ID });
    expect(error.message).toBe(`platform.lead.update: with.lead_id must be a numeric id on the classic API (got "${V1_CAMPAIGN_ID}")`);
  });

  it('platform.lead.delete deletes; a lead already gone counts as deleted: false', async () => {
    expect(await runStep('platform.lead.delete', { lead_id: 9 })).toEqual({ id: '9', deleted: true });
    expect(await runStep('platform.lead.delete', { lead_id: 404 })).toEqual({ id: '404', deleted: false });
    expect(stub.calls()).toEqual(['DELETE /api/user/leads/9', 'DELETE /api/user/leads/404']);
  });

  it('platform.call.make starts the call with variables', async () => {
    const out = await runStep('platform.call.make', { assistant_id: 3, phone_number: '+4915123456789', variables: { customer_name: 'Dana' } });
    expect(stub.requests[0]!.json).toEqual({ phone_number: '+4915123456789', assistant_id: 3, variables: { customer_name: 'Dana' } });
    expect(out).toEqual({ call_id: '480337', status: 'initiated' });
  });
});

describe('Famulor 2.0 (PLATFORM=famulor2)', () => {
  beforeEach(() => {
    vi.stubEnv('PLATFORM', 'famulor2');
    vi.stubEnv('PLATFORM_API_KEY', 'fam_test_key');
  });

  it('sends SMS through /api/v1/sms/send with the sender\'s UUID', async () => {
    const out = await runStep('platform.sms.send', { to: '+4915123456789', body: 'y'.repeat(1000), from: '+4930123456' });
    expect(stub.calls()).toEqual(['GET /api/v1/phone-numbers', 'POST /api/v1/sms/send']);
    expect(stub.requests[1]!.headers.authorization).toBe('Bearer fam_test_key');
    expect(stub.requests[1]!.json).toEqual({ from_number_id: V1_NUMBER_ID, to: '+4915123456789', body: 'y'.repeat(1000) });
    expect(out).toMatchObject({ id: 'a1b2c3d4-0000-4000-8000-000000000001', status: 'queued' });
  });

  it('calls, adds, updates and removes leads on the v1 paths with UUIDs', async () => {
    await runStep('platform.call.make', { assistant_id: V1_ASSISTANT_ID, phone_number: '+4915123456789', variables: { name: 'Dana' } });
    await runStep('platform.lead.add', { campaign_id: V1_CAMPAIGN_ID, phone_number: '+4915123456789', variables: { topic: 'callback' } });
    await runStep('platform.lead.update', { campaign_id: V1_CAMPAIGN_ID, lead_id: V1_ASSISTANT_ID, variables: { topic: 'done' } });
    await runStep('platform.lead.delete', { campaign_id: V1_CAMPAIGN_ID, lead_id: V1_ASSISTANT_ID });
    expect(stub.calls()).toEqual([
      'POST /api/v1/calls',
      `POST /api/v1/campaigns/${V1_CAMPAIGN_ID}/leads`,
      `PATCH /api/v1/campaigns/${V1_CAMPAIGN_ID}/leads/${V1_ASSISTANT_ID}`,
      `DELETE /api/v1/campaigns/${V1_CAMPAIGN_ID}/leads/${V1_ASSISTANT_ID}`,
    ]);
    expect(stub.requests[0]!.json).toEqual({ assistant_id: V1_ASSISTANT_ID, to_number: '+4915123456789', lead: { name: 'Dana' } });
    expect(stub.requests[1]!.json).toEqual({ phone: '+4915123456789', custom_fields: { topic: 'callback' } });
    expect(stub.requests[2]!.json).toEqual({ custom_fields: { topic: 'done' } });
  });

  it('a numeric id is refused, and a key that is not fam_… leaves the connector unconfigured', async () => {
    expect((await stepError('platform.call.make', { assistant_id: 3, phone_number: '+4915123456789' })).message).toBe(
      'platform.call.make: with.assistant_id must be a UUID on Famulor 2.0 (got "3")',
    );
    vi.stubEnv('PLATFORM_API_KEY', 'ac-classic-key');
    expect((await stepError('platform.call.make', { assistant_id: V1_ASSISTANT_ID, phone_number: '+4915123456789' })).message).toBe(
      'Calling platform is not configured: set PLATFORM_API_KEY (a Famulor 2.0 workspace key, starting with fam_)',
    );
  });
});

describe('configuration checks', () => {
  const mapping = (body: string) =>
    `name: m\nsteps:\n  - id: sms\n    use: platform.sms.send\n    with: { to: "{{ call.customer_phone }}", from: "+4915550100", body: "${body}" }\n`;
  const problems = (yaml: string, env: NodeJS.ProcessEnv) => {
    const r = compileMappingSource(yaml, 'm.yaml', KINDS, env);
    return ('problems' in r ? r.problems : []).map(formatProblem);
  };

  it('check refuses a platform step without PLATFORM_API_KEY, and a fixed body over the limit', () => {
    expect(problems(mapping('hi'), { PLATFORM: 'autocalls' })).toEqual(['m.yaml:4:10 steps.0.use: step "sms" (platform.sms.send) needs PLATFORM_API_KEY']);
    expect(problems(mapping('hi'), { PLATFORM: 'autocalls', PLATFORM_API_KEY: 'k' })).toEqual([]);
    expect(problems(mapping('x'.repeat(301)), { PLATFORM: 'autocalls', PLATFORM_API_KEY: 'k' })).toEqual([
      'm.yaml:4:10 steps.0.use: step "sms" (platform.sms.send) needs a body of at most 300 characters (the platform\'s SMS limit), not 301',
    ]);
    // Over every platform's limit: the input schema refuses it too, at the field.
    expect(problems(mapping('x'.repeat(1601)), { PLATFORM: 'famulor2', PLATFORM_API_KEY: 'fam_k' })).toEqual([
      'm.yaml:5:73 steps.0.with.body: platform.sms.send: Too big: expected string to have <=1600 characters',
    ]);
  });

  it('missingConfig names PLATFORM_API_KEY, the sender, and a fixed body over the limit', () => {
    const step = KINDS.get('platform.sms.send')!;
    expect(step.missingConfig!({ PLATFORM: 'famulor' }, sms)).toBe('PLATFORM_API_KEY');
    expect(step.missingConfig!({ PLATFORM_API_KEY: 'k' }, sms)).toBe('PLATFORM (autocalls, famulor, otonistark or famulor2) or PLATFORM_BASE_URL');
    const env = { PLATFORM: 'famulor', PLATFORM_API_KEY: 'k' };
    expect(step.missingConfig!(env, { to: sms.to, body: 'hi' })).toBe('a sender: from in the step, or PLATFORM_SMS_FROM');
    expect(step.missingConfig!({ ...env, PLATFORM_SMS_FROM: '+4915550100' }, { to: sms.to, body: 'hi' })).toBeNull();
    expect(step.missingConfig!(env, { ...sms, body: 'x'.repeat(301) })).toBe("a body of at most 300 characters (the platform's SMS limit), not 301");
    expect(step.missingConfig!({ ...env, PLATFORM: 'famulor2', PLATFORM_API_KEY: 'fam_k' }, { ...sms, body: 'x'.repeat(301) })).toBeNull();
    // A templated body is checked once rendered.
    expect(step.missingConfig!(env, { ...sms, body: `${'x'.repeat(300)}{{ call.summary }}` })).toBeNull();
  });
});
