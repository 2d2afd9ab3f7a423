// Scrubbed fixtures: no phone, email, name or spoken word of the real call is left, the same
// value gets the same fake throughout, and everything else (structure, ids, statuses, times,
// numbers, booleans) is unchanged, so the result still passes the payload schema.
import { describe, expect, it } from 'vitest';
import { parsePayload } from '../src/payload/parse-payload.js';
import { scrubPayload } from '../src/payload/scrub-payload.js';
import { fixture, fixtureNames } from './support/fixtures.js';

type Json = Record<string, unknown>;

/** The payload with every string replaced by a marker: what scrubbing must not change. */
function skeleton(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return /^(?:id|type|sender|event|status)$|_id$|_at$|_url$|_time$/.test(key) ? value : '<string>';
  if (Array.isArray(value)) return value.map((v) => skeleton(v, key === 'allowed_days' ? 'status' : ''));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, skeleton(v, k)]));
  return value;
}

/** A real call with a few more personal details than the fixture has. */
function salesCall(): Json {
  const call = fixture('sales-qualification');
  (call.input_variables as Json).email = 'Dana.Whitfield@whitfield-roofing.com';
  (call.input_variables as Json).first_name = 'Dana';
  (call.extracted_variables as Json).summary = 'Dana wants a demo; call back on +1 415 555 0142 or mail dana.whitfield@whitfield-roofing.com';
  return call;
}

describe('scrubPayload', () => {
  it.each(fixtureNames())('%s: still passes the payload schema, with its structure, ids, statuses, times and numbers', (name) => {
    const original = fixture(name);
    const scrubbed = scrubPayload(original);
    const parsed = parsePayload(scrubbed, 'strict');
    expect(parsed.ok ? [] : parsed.issues).toEqual([]);
    expect(skeleton(scrubbed)).toEqual(skeleton(original));
  });

  it('leaves no phone, email, name or transcript word of the call, and uses each fake consistently', () => {
    const original = salesCall();
    const scrubbed = scrubPayload(original) as Json;
    const text = JSON.stringify({ ...scrubbed, assistant_phone: undefined });
    for (const gone of ['4155550142', '415 555 0142', 'Dana', 'dana', 'Whitfield', 'whitfield-roofing', 'spreadsheet', 'eighteen', 'Sarah', '16505550199']) {
      expect(text, gone).not.toContain(gone);
    }
    const input = scrubbed.input_variables as Json;
    const lead = scrubbed.lead as Json;
    // One customer, one fake phone, wherever it appears.
    expect(scrubbed.customer_phone).toMatch(/^\+1555010\d{4}$/);
    expect(lead.phone_number).toBe(scrubbed.customer_phone);
    // The team's own line stays, so a mapping's `match: { assistant_phone }` still matches.
    expect(scrubbed.assistant_phone).toBe(original.assistant_phone);
    expect(input.email).toBe('user1@example.com');
    // The same name gets the same fake in the call and the lead, word by word.
    expect(input.customer_name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
    expect((lead.variables as Json).customer_name).toBe(input.customer_name);
    expect(input.first_name).toBe(String(input.customer_name).split(' ')[0]);
    // The company named after its owner loses the name, keeps the rest.
    expect(input.company).toBe(`${String(input.customer_name).split(' ')[1]} Roofing`);
    // The summary is lorem, with the call's phone and email as their fakes.
    const summary = String((scrubbed.extracted_variables as Json).summary);
    expect(summary).toContain(String(scrubbed.customer_phone));
    expect(summary).toContain('user1@example.com');
    // Same turns, same senders and times, texts of the same length; the formatted copy matches them.
    const turns = scrubbed.transcript as Json[];
    const before = original.transcript as Json[];
    expect(turns.map((t) => [t.sender, t.timestamp, String(t.text).length])).toEqual(before.map((t) => [t.sender, t.timestamp, String(t.text).length]));
    expect(scrubbed.formatted_transcript).toBe(turns.map((t) => `${t.sender === 'bot' ? 'AI' : 'Customer'}: ${String(t.text)}`).join('\n'));
    // What carries no person stays.
    expect((scrubbed.extracted_variables as Json).budget).toBe(18000);
    expect((scrubbed.extracted_variables as Json).decision_maker).toBe(true);
    expect(scrubbed.recording_url).toBe(original.recording_url);
    expect((lead.campaign as Json).name).toBe((original.lead as Json & { campaign: Json }).campaign.name);
  });

  it('keeps the speaker labels of a string transcript (Famulor) and scrubs the envelope form', () => {
    const famulor = fixture('seed-003-famulor');
    const scrubbed = scrubPayload(famulor) as Json;
    const labels = (t: unknown) => String(t).split('\n').map((line) => /^(\w+):/.exec(line)?.[1] ?? null);
    expect(labels(scrubbed.transcript)).toEqual(labels(famulor.transcript));
    expect(scrubbed.transcript).not.toEqual(famulor.transcript);

    const envelope = fixture('envelope-uuid');
    const out = scrubPayload(envelope) as { event: string; data: Json };
    expect(out.event).toBe(envelope.event);
    expect(out.data.id).toBe((envelope.data as Json).id);
    if ((envelope.data as Json).customer_phone) expect(out.data.customer_phone).toMatch(/^\+1555010\d{4}$/);
  });

  it('is deterministic: the same payload scrubs to the same fixture', () => {
    expect(scrubPayload(salesCall())).toEqual(scrubPayload(salesCall()));
  });
});
