// twilio.sms.send with the real `twilio` SDK, its requests redirected to a local stub by
// TWILIO_BASE_URL: the exact form the SDK posts, senders, segments, E.164 checks, and errors.
// A send that got no answer may have gone out, so it is reported, never retried blindly.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PermanentError, TransientError } from '../../src/connectors/connector.js';
import { evidenceOf, storedEvidence } from '../../src/connectors/evidence.js';
import { formEncode } from '../../src/connectors/twilio/request-client.js';
import { MAX_ANSWER_BYTES } from '../../src/connectors/vendor-http.js';
import { smsSegments } from '../../src/connectors/twilio/segments.js';
import { fakeTwilio } from './support/fake-vendors.js';
import { closeTestConnectors, inputProblems, KINDS, runStep, stepContext, stepError } from './support/step-harness.js';
import { closedPortUrl, startVendorStub, type VendorStub } from './support/vendor-stub.js';

const SID = 'AC0123456789abcdef0123456789abcdef';
const SERVICE = 'MG0123456789abcdef0123456789abcdef';
let stub: VendorStub;
beforeEach(async () => {
  stub = await startVendorStub(fakeTwilio().route);
  vi.stubEnv('TWILIO_ACCOUNT_SID', SID);
  vi.stubEnv('TWILIO_AUTH_TOKEN', 'twilio-auth-token');
  vi.stubEnv('TWILIO_FROM', '+16505550199');
  vi.stubEnv('TWILIO_MESSAGING_SERVICE_SID', '');
  vi.stubEnv('TWILIO_BASE_URL', stub.url);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await closeTestConnectors();
  await stub.close();
});

const sms = { to: '+14155550142', body: 'Thanks Dana! Your demo is booked.' };

describe('twilio.sms.send', () => {
  it('posts To, From and Body form-encoded with Basic auth to the account\'s Messages resource', async () => {
    const out = (await runStep('twilio.sms.send', sms)) as Record<string, unknown>;
    expect(out).toEqual({ sid: expect.stringMatching(/^SM[0-9a-f]{32}$/), status: 'queued', segments: 1, to: '+14155550142' });
    expect(stub.requests).toHaveLength(1);
    const [req] = stub.requests;
    expect(`${req!.method} ${req!.path}`).toBe(`POST /2010-04-01/Accounts/${SID}/Messages.json`);
    expect(req!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req!.headers.authorization).toBe(`Basic ${Buffer.from(`${SID}:twilio-auth-token`).toString('base64')}`);
    expect(req!.form).toEqual({ To: '+14155550142', From: '+16505550199', Body: 'Thanks Dana! Your demo is booked.' });
  });

  it('sender: the step\'s from or messaging service, else TWILIO_MESSAGING_SERVICE_SID, else TWILIO_FROM', async () => {
    await runStep('twilio.sms.send', { ...sms, from: 'Whitfield' });
    await runStep('twilio.sms.send', { ...sms, messaging_service_sid: SERVICE, status_callback: 'https://hooks.example.com/sms-status' });
    vi.stubEnv('TWILIO_MESSAGING_SERVICE_SID', SERVICE);
    await runStep('twilio.sms.send', sms);
    vi.stubEnv('TWILIO_MESSAGING_SERVICE_SID', '');
    vi.stubEnv('TWILIO_FROM', '');
    const error = await stepError('twilio.sms.send', sms);
    expect(stub.requests.map((r) => r.form)).toEqual([
      { To: '+14155550142', From: 'Whitfield', Body: sms.body },
      { To: '+14155550142', MessagingServiceSid: SERVICE, Body: sms.body, StatusCallback: 'https://hooks.example.com/sms-status' },
      { To: '+14155550142', MessagingServiceSid: SERVICE, Body: sms.body },
    ]);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/^Twilio \(send SMS\): no sender/);
  });

  it('checks E.164 before anything is sent', () => {
    expect(inputProblems('twilio.sms.send', { to: '04155550142', body: 'x' })).toEqual(['to: must be an E.164 phone number like +14155550100']);
    expect(inputProblems('twilio.sms.send', { to: null, body: 'x' })).toHaveLength(1);
    expect(inputProblems('twilio.sms.send', { to: '+14155550142', body: 'x', from: '12345678901234567' })).toHaveLength(1);
  });

  it('warns when the body takes several (billed) segments', async () => {
    const ctx = stepContext();
    await runStep('twilio.sms.send', { ...sms, body: 'Olá Mariana! ✅ '.repeat(6) }, ctx);
    expect(ctx.logs.find((l) => l.msg === 'SMS body is sent (and billed) as several segments')).toMatchObject({ level: 40, segments: 2, encoding: 'UCS-2' });
  });

  it('counts segments: GSM-7 160/153, extension characters twice, anything else UCS-2 70/67', () => {
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', segments: 1 });
    expect(smsSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', segments: 2 });
    expect(smsSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', segments: 1 });
    expect(smsSegments('€'.repeat(81))).toEqual({ encoding: 'GSM-7', segments: 2 });
    expect(smsSegments('ã'.repeat(70))).toEqual({ encoding: 'UCS-2', segments: 1 });
    expect(smsSegments('ã'.repeat(71))).toEqual({ encoding: 'UCS-2', segments: 2 });
  });

  it('is never repeated blindly: safeToRepeat false, repeat never', () => {
    const step = KINDS.get('twilio.sms.send')!;
    expect(step.safeToRepeat).toBe(false);
    expect(step.defaultRepeat).toBe('never');
  });
});

describe('Twilio errors', () => {
  it('429 (20429): transient with Retry-After from the answer\'s headers', async () => {
    stub.failNext({ status: 429, headers: { 'retry-after': '5' }, body: { code: 20429, message: 'Too Many Requests', more_info: 'https://www.twilio.com/docs/errors/20429', status: 429 } });
    const error = await stepError('twilio.sms.send', sms);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.retryAfterMs).toBe(5000);
    expect(error.message).toBe('Twilio (send SMS) answered 429: 20429: Too Many Requests (https://www.twilio.com/docs/errors/20429)');
  });

  it('400 (21211 invalid number) and 401 (20003): permanent with Twilio\'s words', async () => {
    stub.failNext({ status: 400, body: { code: 21211, message: "The 'To' number +14155550142 is not a valid phone number.", more_info: 'https://www.twilio.com/docs/errors/21211', status: 400 } });
    const invalid = await stepError('twilio.sms.send', sms);
    expect(invalid).toBeInstanceOf(PermanentError);
    expect(invalid.message).toBe(
      "Twilio (send SMS) answered 400: 21211: The 'To' number +14155550142 is not a valid phone number. (https://www.twilio.com/docs/errors/21211)",
    );
    stub.failNext({ status: 401, body: { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 } });
    expect((await stepError('twilio.sms.send', sms)).message).toBe('Twilio (send SMS) answered 401: 20003: Authenticate (https://www.twilio.com/docs/errors/20003)');
  });

  it('a refused send keeps its evidence: method, URL, status and the answer, masked', async () => {
    stub.failNext({ status: 400, body: { code: 21211, message: "The 'To' number +14155550142 is not a valid phone number.", status: 400 } });
    const error = await stepError('twilio.sms.send', sms);
    expect(storedEvidence(evidenceOf(error)!)).toEqual({
      method: 'POST',
      url: `${stub.url}/2010-04-01/Accounts/${SID}/Messages.json`,
      status: 400,
      body: '{"code":21211,"message":"The \'To\' number +1••••••••42 is not a valid phone number.","status":400}',
      truncated: false,
    });
  });

  it('500: transient', async () => {
    stub.failNext({ status: 500, headers: { 'content-type': 'text/html' }, body: '<html>oops</html>' });
    const error = await stepError('twilio.sms.send', sms);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toBe('Twilio (send SMS) answered 500: [HTTP 500] Failed to execute request');
  });

  it('no answer within the timeout: the message may have gone out, so permanent (for an operator), not retried', async () => {
    stub.failNext({ status: 201, delayMs: 3_000, body: {} });
    const started = Date.now();
    const error = await stepError('twilio.sms.send', sms, { timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/^Twilio \(send SMS\): .* after the request was sent, so the message may have gone out; check Twilio's message log/);
    expect(stub.requests).toHaveLength(1);
  });

  it('an answer cut off halfway, or larger than any Twilio answer: the message may have gone out', async () => {
    // Headers and half a body, then the connection closes.
    const cutting = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json', 'content-length': '400' });
        res.write('{"sid": "SM');
        setTimeout(() => res.socket?.destroy(), 20);
      });
    });
    await new Promise<void>((resolve) => cutting.listen(0, '127.0.0.1', resolve));
    try {
      vi.stubEnv('TWILIO_BASE_URL', `http://127.0.0.1:${(cutting.address() as AddressInfo).port}`);
      const cut = await stepError('twilio.sms.send', sms);
      expect(cut).toBeInstanceOf(PermanentError);
      expect(cut.message).toMatch(/^Twilio \(send SMS\): ECONNRESET after the request was sent, so the message may have gone out/);
    } finally {
      cutting.close();
    }
    vi.stubEnv('TWILIO_BASE_URL', stub.url);
    stub.failNext({ status: 201, body: 'x'.repeat(MAX_ANSWER_BYTES + 1) });
    const huge = await stepError('twilio.sms.send', sms);
    expect(huge).toBeInstanceOf(PermanentError);
    expect(huge.message).toMatch(/^Twilio \(send SMS\): ECONNABORTED after the request was sent, so the message may have gone out/);
  });

  it('connection refused (nothing sent): transient', async () => {
    vi.stubEnv('TWILIO_BASE_URL', await closedPortUrl());
    const error = await stepError('twilio.sms.send', sms);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toBe('Twilio (send SMS) failed: ECONNREFUSED');
  });

  it('a shutdown before sending stops the step; nothing is sent', async () => {
    const abort = new AbortController();
    abort.abort();
    await expect(runStep('twilio.sms.send', sms, { signal: abort.signal })).rejects.toThrow('aborted: the service is shutting down');
    expect(stub.requests).toHaveLength(0);
  });

  it('configuration: names what is missing and checks the SIDs', () => {
    const step = KINDS.get('twilio.sms.send')!;
    expect(step.missingConfig!()).toBeNull();
    vi.stubEnv('TWILIO_AUTH_TOKEN', '');
    vi.stubEnv('TWILIO_ACCOUNT_SID', '');
    expect(step.missingConfig!()).toBe('TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN');
    vi.stubEnv('TWILIO_ACCOUNT_SID', 'SK0123');
    vi.stubEnv('TWILIO_AUTH_TOKEN', 'x');
    expect(step.missingConfig!()).toBe('TWILIO_ACCOUNT_SID (must be an account SID: AC and 32 hex digits)');
  });
});

describe('Twilio transport', () => {
  it('form-encodes as the SDK does: lists repeated, null empty, each part percent-encoded', () => {
    expect(formEncode({ To: '+1 415', MediaUrl: ['https://a.example/1.png', 'https://a.example/2.png'], From: null, Skipped: undefined, SmartEncoded: true })).toBe(
      'To=%2B1%20415&MediaUrl=https%3A%2F%2Fa.example%2F1.png&MediaUrl=https%3A%2F%2Fa.example%2F2.png&From=&SmartEncoded=true',
    );
  });

  it('sends through node:http; behind HTTP_PROXY through the SDK\'s own client (its agent is the one that tunnels)', async () => {
    await runStep('twilio.sms.send', sms);
    vi.stubEnv('HTTP_PROXY', 'http://127.0.0.1:9'); // the SDK's proxy agent serves https targets; the stub is http
    const out = (await runStep('twilio.sms.send', sms)) as Record<string, unknown>;
    expect(out).toMatchObject({ status: 'queued', to: sms.to });
    // Both carry the SDK's User-Agent; only axios asks for compressed answers.
    expect(stub.requests.map((r) => [r.headers['user-agent']?.split('/')[0], r.headers['accept-encoding']])).toEqual([
      ['twilio-node', undefined],
      ['twilio-node', expect.stringContaining('gzip')],
    ]);
    expect(stub.requests[1]!.form).toEqual(stub.requests[0]!.form);
  });
});
