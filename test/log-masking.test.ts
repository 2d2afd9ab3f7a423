// A PII-heavy delivery through the real service at LOG_LEVEL=debug, and then every captured
// log line searched for the call's phones, emails, transcript words and the webhook token.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from './support/fixtures.js';
import { logCapture, startTestService, TEST_TOKEN, type TestService } from './support/test-service.js';

const PHONES = ['+4915123456789', '+49 151 2345 6789', '0151 2345 6789', '015123456789', '+1 415 555 0142', '+14155550142', '(415) 555-0142'];
/** What must not appear of them: their digits in any grouping. */
const PHONE_DIGITS = ['15123456789', '2345 6789', '23456789', '4155550142', '555 0142', '555-0142'];
const EMAILS = ['jane.quimby@example.org', 'zorblax@example.com'];
const WORDS = ['Zorblax', 'Quimby', 'flugelhorn'];

let service: TestService | undefined;
let vendor: Server | undefined;
afterAll(async () => {
  await service?.cleanup();
  await new Promise((resolve) => (vendor ? vendor.close(resolve) : resolve(undefined)));
});

/** A vendor that answers with the request it got: first a 500, then a 422. */
async function echoVendor(): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  vendor = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push(body);
      res.writeHead(seen.length === 1 ? 500 : 422, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'rejected', request: JSON.parse(body) as unknown }));
    });
  });
  await new Promise<void>((resolve) => vendor!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`, seen };
}

function piiCall(id: number) {
  const call = fixture('seed-001-autocalls');
  call.id = id;
  call.customer_phone = '+4915123456789';
  call.formatted_transcript = 'AI: Hello Zorblax Quimby!\nCustomer: Call me on 0151 2345 6789, my flugelhorn is broken. Mail jane.quimby@example.org';
  (call.transcript as Array<{ text: string }>)[0]!.text = 'Hello Zorblax Quimby, is +1 415 555 0142 still your number?';
  Object.assign(call.extracted_variables as Record<string, unknown>, { email: 'jane.quimby@example.org', callback: '(415) 555-0142' });
  // SCHEMA_MODE=warn accepts unknown keys and logs their names: this one is an address.
  (call.lead as Record<string, unknown>)['zorblax@example.com'] = 'x';
  return call;
}

describe('no log line carries a phone, an email, a transcript word or a token', () => {
  /** Every line the service logged, as JSON text. */
  let text: string[] = [];

  beforeAll(async () => {
    const echo = await echoVendor();
    const mapping =
      'name: pii\nsteps:\n' +
      '  - id: note\n    use: log\n    with:\n      message: "lead {{ call.customer_phone }} {{ extracted.email }} (0151 2345 6789)"\n      level: debug\n' +
      '      fields: { phone: "{{ call.customer_phone }}", national: "0151 2345 6789", contact: { mail: "{{ extracted.email }}", cb: "{{ extracted.callback }}" } }\n' +
      `  - id: crm\n    use: http.request\n    with: { url: "${echo.url}/crm", body: { said: "{{ call.transcript.text }}", phone: "{{ call.customer_phone }}", mail: "{{ extracted.email }}", cb: "{{ extracted.callback }}" } }\n`;
    const { sink, lines } = logCapture();
    service = await startTestService({ 'pii.yaml': mapping }, { LOG_LEVEL: 'debug', SCHEMA_MODE: 'warn', RETRY_MAX_ATTEMPTS: '3' }, undefined, { logTo: sink });
    const s = service;

    const post = (path: string, id: number) =>
      fetch(s.baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(piiCall(id)) });
    // The route decodes query names as URLSearchParams does: `tok%65n` is `token`, and accepted.
    expect((await post(`/webhooks/post-call?tok%65n=${TEST_TOKEN}`, 70001)).status).toBe(202);
    // Given twice the token is ambiguous and refused, but both values are still masked.
    expect((await post(`/webhooks/post-call?token=x&token=${TEST_TOKEN}`, 70002)).status).toBe(401);
    expect((await post(`/webhooks/post-call/${TEST_TOKEN}?token=${TEST_TOKEN}&x=0151%202345%206789`, 70003)).status).toBe(202);

    const runs = await s.waitFor(() => s.store.listRuns(), (list) => list.length === 2 && list.every((r) => r.status === 'dead'), 20_000);
    expect(runs).toHaveLength(2);
    // The vendor did get (and echo) the call's data: what the logs must not repeat.
    expect(echo.seen.some((body) => body.includes('Zorblax') && body.includes('+4915123456789'))).toBe(true);
    text = lines.map((line) => JSON.stringify(line));
  }, 60_000);

  it('wrote the lines in question: warn-mode keys, log step fields, retried vendor errors, access lines', () => {
    expect(text.some((l) => l.includes('accepted a payload with unknown keys') && l.includes('[email]'))).toBe(true);
    expect(text.some((l) => l.includes('"step_fields"') && l.includes('•••• •••• ••89'))).toBe(true);
    expect(text.some((l) => l.includes('run will be retried'))).toBe(true);
    expect(text.some((l) => l.includes('tok%65n=[token]'))).toBe(true);
    expect(text.some((l) => l.includes('token=[token]&token=[token]'))).toBe(true);
  });

  it('no phone (E.164, international or national), email or webhook token in any line', () => {
    for (const line of text) {
      for (const secret of [...PHONES, ...PHONE_DIGITS, ...EMAILS, TEST_TOKEN]) expect(line, `log line ${line}`).not.toContain(secret);
    }
  });

  // Names and words cannot be recognised by a masker: vendor errors keep the vendor's answer
  // as the step's evidence, never in their message.
  it('no transcript word in any line, vendor errors that echo the request included', () => {
    for (const line of text) for (const word of WORDS) expect(line, `log line ${line}`).not.toContain(word);
  });
});
