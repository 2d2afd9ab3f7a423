// Payload validation and normalization (src/payload) against the vendor fixtures in
// test/fixtures: every fixture is accepted in strict mode, every documented variant normalizes
// to the one Call shape, and every kind of malformed payload is rejected with its exact path.
import { describe, expect, it } from 'vitest';
import type { Call } from '../src/payload/call.js';
import { parseInboundRequest } from '../src/ingest/inbound/inbound-request.js';
import { contentHash } from '../src/payload/content-hash.js';
import { parsePayload, type PayloadIssue } from '../src/payload/parse-payload.js';
import { platformPayload } from '../src/payload/platforms/index.js';
import { CALL_STATUSES } from '../src/payload/schema.js';
import { isDocumentedSample } from '../src/payload/test-request.js';
import { fixture, fixtureNames, fixtureText } from './support/fixtures.js';

type Mode = 'strict' | 'warn';
type Path = ReadonlyArray<string | number>;
type Node = Record<string | number, unknown>;

function accept(body: unknown, mode: Mode = 'strict'): { call: Call; unknownKeys: string[] } {
  const result = parsePayload(body, mode);
  if (!result.ok) throw new Error(`expected the payload to be accepted, got ${JSON.stringify(result.issues)}`);
  return result;
}

function reject(body: unknown, mode: Mode = 'strict'): PayloadIssue[] {
  const result = parsePayload(body, mode);
  if (result.ok) throw new Error(`expected the payload to be rejected, got ${JSON.stringify(result.call)}`);
  return result.issues;
}

function callOf(name: string): Call {
  return accept(fixture(name)).call;
}

function setAt(root: unknown, path: Path, value: unknown): void {
  let node = root as Node;
  for (const key of path.slice(0, -1)) node = node[key] as Node;
  node[path[path.length - 1]!] = value;
}

function deleteAt(root: unknown, path: Path): void {
  let node = root as Node;
  for (const key of path.slice(0, -1)) node = node[key] as Node;
  delete node[path[path.length - 1]!];
}

/** The same JSON with every object's keys in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .reverse()
      .map((k) => [k, reverseKeys((value as Node)[k])]),
  );
}

const SEEDS = [
  'seed-000-post-call-actions.json',
  'seed-001-autocalls.json',
  'seed-002-otonistark.json',
  'seed-003-famulor.json',
];
const NEW_FIXTURES = [
  'appointment-booking.json',
  'envelope-uuid.json',
  'failed-call.json',
  'make-test-request.json',
  'non-campaign-inbound.json',
  'sales-qualification.json',
  'support-triage.json',
  'unanswered-call.json',
  'with-transfers.json',
];
/** Fixtures that are not the vendors' documented samples. */
const REAL_CALL_FIXTURES = NEW_FIXTURES.filter((f) => f !== 'make-test-request.json');

describe('fixtures', () => {
  it('contains the four seeds and the nine realistic fixtures', () => {
    // Other fixtures may be added; these must stay.
    expect(fixtureNames()).toEqual(expect.arrayContaining([...SEEDS, ...NEW_FIXTURES]));
    expect(fixtureNames().length).toBeGreaterThanOrEqual(13);
  });

  it.each(fixtureNames())('accepts %s in strict mode with no unknown keys', (name) => {
    const { call, unknownKeys } = accept(fixture(name), 'strict');
    expect(unknownKeys).toEqual([]);
    expect(call.status).not.toBe('no-answer');
    expect(typeof call.transcript.text).toBe('string');
  });

  it.each(REAL_CALL_FIXTURES)('%s does not carry a documented sample id or phone', (name) => {
    const text = fixtureText(name);
    expect(text).not.toMatch(/\b12345\b/);
    expect(text).not.toMatch(/\b480336\b/);
    expect(text).not.toContain('+1234567890');
    expect(text).not.toContain('+4915123456789');
  });

  it('make-test-request.json is the seed-000 documented sample, byte for byte', () => {
    expect(fixtureText('make-test-request')).toBe(fixtureText('seed-000-post-call-actions'));
  });
});

describe('variant detection', () => {
  const expected: Record<string, Call['variant']> = {
    'seed-000-post-call-actions.json': 'autocalls',
    'seed-001-autocalls.json': 'autocalls',
    'seed-002-otonistark.json': 'otonistark',
    'seed-003-famulor.json': 'famulor',
    'appointment-booking.json': 'otonistark',
    'envelope-uuid.json': 'autocalls',
    'failed-call.json': 'autocalls',
    'make-test-request.json': 'autocalls',
    'non-campaign-inbound.json': 'autocalls',
    'sales-qualification.json': 'autocalls',
    'support-triage.json': 'famulor',
    'unanswered-call.json': 'autocalls',
    'with-transfers.json': 'autocalls',
  };

  it('has an expectation for every seed and realistic fixture', () => {
    expect(Object.keys(expected).sort()).toEqual([...SEEDS, ...NEW_FIXTURES].sort());
  });

  it.each(Object.entries(expected))('%s is detected as %s', (name, variant) => {
    expect(callOf(name).variant).toBe(variant);
  });

  it('detects Famulor by a top-level campaign even with an array transcript', () => {
    const body = fixture('seed-001-autocalls');
    const lead = body.lead as Node;
    body.campaign = lead.campaign;
    delete lead.campaign;
    delete lead.call_tries;
    delete body.transfers;
    expect(accept(body).call.variant).toBe('famulor');
  });
});

describe('transcript normalization', () => {
  it('keeps the turns of an array transcript and uses formatted_transcript as text', () => {
    const call = callOf('seed-001-autocalls');
    expect(call.transcript.turns).toHaveLength(4);
    expect(call.transcript.turns[0]).toEqual({
      sender: 'bot',
      text: 'Hello! This is Sarah from Autocalls. How are you today?',
      timestamp: 1756812511.315143,
    });
    expect(call.transcript.turns.map((t) => t.sender)).toEqual(['bot', 'human', 'bot', 'human']);
    expect(call.transcript.text).toBe(
      "AI: Hello! This is Sarah from Autocalls. How are you today?\nCustomer: Hi, I'm doing well, thanks for calling.\nAI: I'm calling to tell you about our new product features.\nCustomer: That sounds interesting, tell me more.",
    );
  });

  it('builds the text from the turns when formatted_transcript is absent', () => {
    const body = fixture('seed-001-autocalls');
    const formatted = body.formatted_transcript;
    delete body.formatted_transcript;
    const call = accept(body).call;
    expect(call.transcript.text).toBe(formatted);
    expect(call.transcript.turns).toHaveLength(4);
  });

  it('splits a Famulor string transcript into turns and keeps the string as text', () => {
    const call = callOf('seed-003-famulor');
    expect(call.transcript.turns).toEqual([
      { sender: 'bot', text: 'Hello Mr. Mustermann! I am calling from Famulor...', timestamp: null },
      { sender: 'human', text: 'Hello, yes I’m listening...', timestamp: null },
    ]);
    expect(call.transcript.text).toBe(
      'Assistant: Hello Mr. Mustermann! I am calling from Famulor...\nCustomer: Hello, yes I’m listening...',
    );
  });

  it('splits the support-triage string transcript into five alternating turns', () => {
    const call = callOf('support-triage');
    expect(call.transcript.turns.map((t) => t.sender)).toEqual(['bot', 'human', 'bot', 'human', 'bot']);
    expect(call.transcript.turns[1]).toEqual({
      sender: 'human',
      text: 'Ja, seit gestern Abend geht das Internet gar nicht mehr.',
      timestamp: null,
    });
  });

  it('appends unlabelled lines of a string transcript to the previous turn', () => {
    const body = fixture('support-triage');
    body.transcript = 'AI: Hello\nhow can I help?\nUser: My router\nkeeps blinking\nAgent: Noted.';
    expect(accept(body).call.transcript.turns).toEqual([
      { sender: 'bot', text: 'Hello\nhow can I help?', timestamp: null },
      { sender: 'human', text: 'My router\nkeeps blinking', timestamp: null },
      { sender: 'bot', text: 'Noted.', timestamp: null },
    ]);
  });

  it('gives an empty transcript for an empty array, and for null transcript and formatted_transcript', () => {
    expect(callOf('unanswered-call').transcript).toEqual({ turns: [], text: '' });
    expect(callOf('failed-call').transcript).toEqual({ turns: [], text: '' });
  });

  it('normalizes transfer transcripts: null → empty, array → turns with formatted text', () => {
    const [busy, completed] = callOf('with-transfers').transfers;
    expect(busy!.transcript).toEqual({ turns: [], text: '' });
    expect(completed!.transcript.turns).toEqual([
      { sender: 'human', text: 'Accounts, this is Tom speaking.', timestamp: 1741705450.118732 },
      { sender: 'human', text: 'Hi Tom, I was double charged for February.', timestamp: 1741705454.630085 },
    ]);
    expect(completed!.transcript.text).toBe(
      'Customer: Accounts, this is Tom speaking.\nCustomer: Hi Tom, I was double charged for February.',
    );
  });
});

describe('campaign normalization', () => {
  it('moves lead.campaign to call.campaign with HH:MM hours as HH:MM:SS', () => {
    const call = callOf('seed-001-autocalls');
    expect(call.campaign).toEqual({
      id: 456,
      name: 'Product Demo Campaign',
      status: 'active',
      allowed_hours_start_time: '09:00:00',
      allowed_hours_end_time: '17:00:00',
      allowed_days: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'],
      max_calls_in_parallel: 5,
      max_retries: 3,
      retry_interval: 60,
      created_at: '2025-01-15T08:00:00.000000Z',
      updated_at: '2025-01-15T08:00:00.000000Z',
    });
    expect(call.lead).not.toHaveProperty('campaign');
    expect(call.lead?.call_tries).toBe(2);
  });

  it('moves the sales-qualification lead.campaign with 08:30/17:30 → 08:30:00/17:30:00', () => {
    const call = callOf('sales-qualification');
    expect(call.campaign?.id).toBe(1187);
    expect(call.campaign?.allowed_hours_start_time).toBe('08:30:00');
    expect(call.campaign?.allowed_hours_end_time).toBe('17:30:00');
  });

  it('takes the Famulor top-level campaign, HH:MM:SS hours unchanged', () => {
    const call = callOf('seed-003-famulor');
    expect(call.campaign?.id).toBe(2324);
    expect(call.campaign?.name).toBe('New Customer Acquisition Q1 2024');
    expect(call.campaign?.allowed_hours_start_time).toBe('09:00:00');
    expect(call.campaign?.allowed_hours_end_time).toBe('18:00:00');
    expect(call.lead?.id).toBe(12345);
    expect(call.lead?.call_tries).toBeNull();
    const triage = callOf('support-triage');
    expect(triage.campaign?.allowed_hours_start_time).toBe('07:30:00');
    expect(triage.campaign?.allowed_hours_end_time).toBe('20:00:00');
  });

  it('has no lead, campaign or recording for a non-campaign inbound call', () => {
    const call = callOf('non-campaign-inbound');
    expect(call.lead).toBeNull();
    expect(call.campaign).toBeNull();
    expect(call.recording_url).toBeNull();
    expect(call.transfers).toEqual([]);
    expect(call.status).toBe('ended_by_customer');
    expect(call.input_variables).toEqual({});
  });

  it('normalizes a campaign with only id and name to nulls and no days', () => {
    const body = fixture('support-triage');
    body.campaign = { id: 9, name: 'Bare campaign' };
    expect(accept(body).call.campaign).toEqual({
      id: 9,
      name: 'Bare campaign',
      status: null,
      allowed_hours_start_time: null,
      allowed_hours_end_time: null,
      allowed_days: [],
      max_calls_in_parallel: null,
      max_retries: null,
      retry_interval: null,
      created_at: null,
      updated_at: null,
    });
  });
});

describe('timestamp normalization', () => {
  it('keeps microseconds sent with Z', () => {
    const call = callOf('sales-qualification');
    expect(call.created_at).toBe('2025-03-04T16:02:11.482913Z');
    expect(call.finished_at).toBe('2025-03-04T16:07:23.901244Z');
    expect(call.lead?.created_at).toBe('2025-03-03T21:14:08.000000Z');
    expect(call.campaign?.updated_at).toBe('2025-03-01T10:00:00.000000Z');
    expect(callOf('seed-001-autocalls').transfers[0]!.finished_at).toBe('2025-01-15T10:32:25.000000Z');
    expect(callOf('with-transfers').transfers[1]!.created_at).toBe('2025-03-11T15:04:07.318840Z');
  });

  it('turns second-precision Famulor timestamps into ISO UTC with milliseconds', () => {
    const call = callOf('seed-003-famulor');
    expect(call.created_at).toBe('2024-01-15T10:30:00.000Z');
    expect(call.finished_at).toBe('2024-01-15T10:33:00.000Z');
    expect(call.lead?.created_at).toBe('2024-01-14T09:00:00.000Z');
    expect(call.campaign?.created_at).toBe('2024-01-01T08:00:00.000Z');
    expect(callOf('support-triage').campaign?.updated_at).toBe('2025-03-01T06:45:10.000Z');
  });

  it('converts offsets to UTC', () => {
    const body = fixture('support-triage');
    body.created_at = '2025-03-07T09:15:40+01:00';
    body.finished_at = '2025-03-07T05:19:36.250-03:00';
    const call = accept(body).call;
    expect(call.created_at).toBe('2025-03-07T08:15:40.000Z');
    expect(call.finished_at).toBe('2025-03-07T08:19:36.250Z');
  });

  it('gives null for absent and null timestamps', () => {
    const body = fixture('sales-qualification');
    delete body.created_at;
    body.finished_at = null;
    const call = accept(body).call;
    expect(call.created_at).toBeNull();
    expect(call.finished_at).toBeNull();
  });
});

describe('status', () => {
  it('normalizes the API spelling no-answer to unanswered (unanswered-call fixture)', () => {
    const call = callOf('unanswered-call');
    expect(call.status).toBe('unanswered');
    expect(call.duration).toBe(0);
    expect(call.customer_phone).toBeNull();
    expect(call.assistant_phone).toBe('+16505550199');
    expect(call.extracted_variables).toEqual({});
    expect(call.recording_url).toBeNull();
    expect(call.lead?.call_tries).toBe(3);
  });

  it('normalizes no-answer on a transfer too', () => {
    const body = fixture('with-transfers');
    setAt(body, ['transfers', 0, 'status'], 'no-answer');
    const call = accept(body).call;
    expect(call.transfers.map((t) => t.status)).toEqual(['unanswered', 'completed']);
  });

  it('keeps a failed call with null transcript, formatted_transcript and extracted_variables', () => {
    const call = callOf('failed-call');
    expect(call.status).toBe('failed');
    expect(call.extracted_variables).toEqual({});
    expect(call.input_variables).toEqual({ customer_name: 'Harriet Cole', company: 'Cole & Daughters Bakery' });
    expect(call.duration).toBe(0);
  });

  it.each([...CALL_STATUSES])('accepts the documented status %s unchanged', (status) => {
    const body = fixture('non-campaign-inbound');
    body.status = status;
    expect(accept(body).call.status).toBe(status);
  });
});

describe('other normalized fields', () => {
  it('maps the sales-qualification fixture field by field', () => {
    const call = callOf('sales-qualification');
    expect(call.id).toBe(918273);
    expect(call.event).toBeNull();
    expect(call.customer_phone).toBe('+14155550142');
    expect(call.duration).toBe(312);
    expect(call.extracted_variables).toEqual({
      status: true,
      summary: 'Qualified: wants a demo for 25 seats',
      budget: 18000,
      decision_maker: true,
      timeline: 'within 6 weeks',
      pain_points: 'Missed after-hours calls, manual lead follow-up in spreadsheets',
      lead_quality: 'high',
    });
    expect(call.lead).toEqual({
      id: 55102,
      phone_number: '+14155550142',
      variables: {
        customer_name: 'Dana Whitfield',
        company: 'Whitfield Roofing',
        source: 'pricing_guide_download',
        employees: 25,
      },
      status: 'contacted',
      call_tries: 1,
      created_at: '2025-03-03T21:14:08.000000Z',
      updated_at: '2025-03-04T16:07:23.000000Z',
    });
    expect(call.transfers).toEqual([]);
  });

  it('maps the OtoniStark appointment fixture without call_tries', () => {
    const call = callOf('appointment-booking');
    expect(call.extracted_variables.appointment_date).toBe('2025-03-12T14:30:00-03:00');
    expect(call.extracted_variables.service_type).toBe('avaliação ortodôntica');
    expect(call.extracted_variables.contact_method).toBe('whatsapp');
    expect(call.lead?.call_tries).toBeNull();
    expect(call.campaign?.allowed_days).toHaveLength(6);
  });

  it('maps the Famulor support-triage variables with their types', () => {
    const vars = callOf('support-triage').extracted_variables;
    expect(vars.urgency_level).toBe(8);
    expect(vars.resolved).toBe(false);
    expect(vars.issue_type).toBe('connectivity');
  });

  it('maps both transfers', () => {
    const call = callOf('with-transfers');
    expect(call.transfers).toHaveLength(2);
    expect(call.transfers[0]).toMatchObject({
      id: 934562,
      status: 'busy',
      transfer_to: '+442038085510',
      duration: 0,
      carrier_cost: 0,
      recording_url: null,
    });
    expect(call.transfers[1]).toMatchObject({
      id: 934563,
      status: 'completed',
      carrier_cost: 0.0412,
      recording_url: 'https://app.autocalls.ai/storage/recordings/transfer-934563.mp4',
      finished_at: '2025-03-11T15:09:59.557214Z',
    });
  });
});

describe('envelope', () => {
  it('keeps the event and accepts a UUID call id', () => {
    const call = callOf('envelope-uuid');
    expect(call.event).toBe('call.completed');
    expect(call.id).toBe('7d3f9a1c-52e4-4b8f-9c06-1e2a3b4c5d6e');
    expect(call.variant).toBe('autocalls');
    expect(call.campaign?.id).toBe(1455);
    expect(call.extracted_variables.seats).toBe(12);
  });

  it('accepts an envelope around a classic integer-id call', () => {
    const call = accept({ event: 'call.completed', data: fixture('sales-qualification') }).call;
    expect(call.event).toBe('call.completed');
    expect(call.id).toBe(918273);
  });

  it('rejects a non-call event name at path event', () => {
    const body = fixture('envelope-uuid');
    body.event = 'completed';
    expect(reject(body).map((i) => i.path)).toEqual(['event']);
  });

  it('reports data.-prefixed paths for issues inside the envelope', () => {
    const body = fixture('envelope-uuid');
    setAt(body, ['data', 'lead', 'campaign', 'x_extra'], 1);
    expect(reject(body)).toEqual([{ path: 'data.lead.campaign.x_extra', message: 'unknown key' }]);
    const warned = accept(body, 'warn');
    expect(warned.unknownKeys).toEqual(['data.lead.campaign.x_extra']);
    expect(warned.call.event).toBe('call.completed');
  });

  it('rejects an unknown key next to event and data', () => {
    const body = fixture('envelope-uuid');
    body.delivered_at = '2025-03-12T23:23:17Z';
    expect(reject(body)).toEqual([{ path: 'delivered_at', message: 'unknown key' }]);
  });

  it('treats a classic payload with only an event key as a classic call with an unknown key', () => {
    const body = fixture('sales-qualification');
    body.event = 'call.completed';
    expect(reject(body)).toEqual([{ path: 'event', message: 'unknown key' }]);
  });
});

describe('documented-optional fields', () => {
  const EMPTY_DEFAULTS = {
    customer_phone: null,
    assistant_phone: null,
    duration: null,
    extracted_variables: {},
    input_variables: {},
    transcript: { turns: [], text: '' },
    recording_url: null,
    created_at: null,
    finished_at: null,
    lead: null,
    campaign: null,
    transfers: [],
  };
  const OPTIONAL_FIELDS = Object.keys(EMPTY_DEFAULTS).concat(['formatted_transcript']);
  /** What a phone call has and a classic payload never sends. */
  const PHONE_CALL = { channel: 'phone', assistant_id: null, attachments: [], conversation: null };

  it('accepts every documented field except id and status absent — real senders differ from the docs and omit them', () => {
    const call = accept({ id: 918400, status: 'busy' }).call;
    expect(call).toEqual({ id: 918400, platform: 'autocalls', variant: 'autocalls', event: null, status: 'busy', ...EMPTY_DEFAULTS, ...PHONE_CALL });
  });

  it('accepts every documented field except id and status as null — real senders differ from the docs and send null', () => {
    const body: Node = { id: 918401, status: 'busy' };
    for (const field of OPTIONAL_FIELDS) body[field] = null;
    const call = accept(body).call;
    expect(call).toEqual({ id: 918401, platform: 'autocalls', variant: 'autocalls', event: null, status: 'busy', ...EMPTY_DEFAULTS, ...PHONE_CALL });
  });

  it('accepts a lead with only an id and transfers with only id and status — real senders differ from the docs', () => {
    const call = accept({
      id: 918402,
      status: 'completed',
      lead: { id: 3 },
      transfers: [{ id: 4, status: 'failed' }],
    }).call;
    expect(call.lead).toEqual({
      id: 3,
      phone_number: null,
      variables: {},
      status: null,
      call_tries: null,
      created_at: null,
      updated_at: null,
    });
    expect(call.transfers).toEqual([
      {
        id: 4,
        status: 'failed',
        transfer_to: null,
        duration: null,
        carrier_cost: null,
        transcript: { turns: [], text: '' },
        recording_url: null,
        created_at: null,
        finished_at: null,
      },
    ]);
  });

  it('accepts transcript turns without type and timestamp', () => {
    const body = fixture('non-campaign-inbound');
    body.transcript = [{ text: 'Hello?', sender: 'human' }];
    delete body.formatted_transcript;
    expect(accept(body).call.transcript).toEqual({
      turns: [{ sender: 'human', text: 'Hello?', timestamp: null }],
      text: 'Customer: Hello?',
    });
  });

  it('accepts null phones everywhere', () => {
    const body = fixture('with-transfers');
    body.customer_phone = null;
    body.assistant_phone = null;
    setAt(body, ['lead', 'phone_number'], null);
    setAt(body, ['transfers', 0, 'transfer_to'], null);
    const call = accept(body).call;
    expect(call.customer_phone).toBeNull();
    expect(call.assistant_phone).toBeNull();
    expect(call.lead?.phone_number).toBeNull();
    expect(call.transfers[0]!.transfer_to).toBeNull();
    expect(call.transfers[1]!.transfer_to).toBe('+442038085520');
  });
});

describe('unknown keys', () => {
  const cases: Array<[string, string, Path, string]> = [
    ['top level', 'sales-qualification', [], 'x_extra'],
    ['lead', 'sales-qualification', ['lead'], 'lead.x_extra'],
    ['lead.campaign', 'sales-qualification', ['lead', 'campaign'], 'lead.campaign.x_extra'],
    ['top-level campaign', 'support-triage', ['campaign'], 'campaign.x_extra'],
    ['transfers[0]', 'with-transfers', ['transfers', 0], 'transfers[0].x_extra'],
    ['a transcript turn', 'sales-qualification', ['transcript', 1], 'transcript[1].x_extra'],
    ['a transfer transcript turn', 'with-transfers', ['transfers', 1, 'transcript', 0], 'transfers[1].transcript[0].x_extra'],
  ];

  it.each(cases)('strict mode rejects an unknown key in %s with its exact path', (_, name, at, path) => {
    const body = fixture(name);
    setAt(body, [...at, 'x_extra'], 'surprise');
    expect(reject(body, 'strict')).toEqual([{ path, message: 'unknown key' }]);
  });

  it.each(cases)('warn mode accepts an unknown key in %s and reports its path', (_, name, at, path) => {
    const body = fixture(name);
    setAt(body, [...at, 'x_extra'], 'surprise');
    const { call, unknownKeys } = accept(body, 'warn');
    expect(unknownKeys).toEqual([path]);
    expect(call).toEqual(callOf(name));
  });

  it('warn mode reports every unknown key', () => {
    const body = fixture('with-transfers');
    body.x_top = 1;
    setAt(body, ['lead', 'x_lead'], 2);
    setAt(body, ['transfers', 1, 'x_transfer'], 3);
    expect(accept(body, 'warn').unknownKeys.sort()).toEqual(['lead.x_lead', 'transfers[1].x_transfer', 'x_top']);
  });

  it('warn mode still rejects when an unknown key comes with a real error', () => {
    const body = fixture('sales-qualification');
    body.x_extra = 1;
    body.duration = 'long';
    const issues = reject(body, 'warn');
    expect(issues.map((i) => i.path).sort()).toEqual(['duration', 'x_extra']);
  });

  it('accepts any well-formed key inside the open variable records', () => {
    const body = fixture('sales-qualification');
    setAt(body, ['extracted_variables', 'competitor'], 'CallRail');
    setAt(body, ['lead', 'variables', 'utm_campaign'], 'spring');
    const call = accept(body).call;
    expect(call.extracted_variables.competitor).toBe('CallRail');
    expect(call.lead?.variables.utm_campaign).toBe('spring');
  });
});

describe('wrong types', () => {
  const cases: Array<[Path, unknown, string]> = [
    [['id'], '934561', 'id'],
    [['duration'], '402', 'duration'],
    [['duration'], -1, 'duration'],
    [['duration'], 12.5, 'duration'],
    [['customer_phone'], 442079460318, 'customer_phone'],
    [['extracted_variables'], 'billing', 'extracted_variables'],
    [['extracted_variables'], ['billing'], 'extracted_variables'],
    [['extracted_variables', 'issue_type'], { name: 'billing' }, 'extracted_variables.issue_type'],
    [['input_variables', 'customer_name'], ['Priya'], 'input_variables.customer_name'],
    [['transcript'], 42, 'transcript'],
    [['formatted_transcript'], ['AI: hi'], 'formatted_transcript'],
    [['recording_url'], 'call-934561.mp4', 'recording_url'],
    [['lead'], 'Priya Shah', 'lead'],
    [['lead', 'id'], true, 'lead.id'],
    [['lead', 'call_tries'], '1', 'lead.call_tries'],
    [['lead', 'variables', 'source'], { a: 1 }, 'lead.variables.source'],
    [['lead', 'campaign', 'name'], 1402, 'lead.campaign.name'],
    [['lead', 'campaign', 'allowed_days'], 'monday', 'lead.campaign.allowed_days'],
    [['lead', 'campaign', 'allowed_days', 1], 'Tue', 'lead.campaign.allowed_days[1]'],
    [['lead', 'campaign', 'max_retries'], 2.5, 'lead.campaign.max_retries'],
    [['lead', 'campaign', 'retry_interval'], '45', 'lead.campaign.retry_interval'],
    [['transfers'], { id: 1 }, 'transfers'],
    [['transfers', 1, 'carrier_cost'], '0.0412', 'transfers[1].carrier_cost'],
    [['transfers', 1, 'carrier_cost'], -0.01, 'transfers[1].carrier_cost'],
    [['transfers', 1, 'transcript'], 'Customer: hi', 'transfers[1].transcript'],
    [['transfers', 1, 'transcript', 0, 'sender'], 'agent', 'transfers[1].transcript[0].sender'],
    [['transfers', 1, 'transcript', 0, 'timestamp'], '1741705450', 'transfers[1].transcript[0].timestamp'],
  ];

  it.each(cases)('rejects %j = %j at its exact path', (at, value, path) => {
    const body = fixture('with-transfers');
    setAt(body, at, value);
    expect(reject(body).map((i) => i.path)).toEqual([path]);
    expect(reject(body, 'warn').map((i) => i.path)).toEqual([path]);
  });

  it('rejects a wrong type in a top-level transcript turn', () => {
    const body = fixture('with-transfers');
    setAt(body, ['transcript', 0, 'sender'], 'agent');
    expect(reject(body)).toHaveLength(1);
  });

  // `transcript` is a union (turn array | string): the issue must come from the array branch.
  it('names the field for a wrong type in a top-level transcript turn', () => {
    const body = fixture('with-transfers');
    setAt(body, ['transcript', 0, 'sender'], 'agent');
    expect(reject(body).map((i) => i.path)).toEqual(['transcript[0].sender']);
    setAt(body, ['transcript', 0, 'sender'], 'bot');
    setAt(body, ['transcript', 1, 'timestamp'], 'x');
    expect(reject(body).map((i) => i.path)).toEqual(['transcript[1].timestamp']);
  });
});

describe('phones, timestamps, hours, status, ids', () => {
  const BAD_PHONES = ['4155550142', '+1 415 555 0142', '(415) 555-0142', '+0415550142', '+1234567890123456', '', '+49-30-1234567', '+'];
  const PHONE_PATHS: Array<[Path, string]> = [
    [['customer_phone'], 'customer_phone'],
    [['assistant_phone'], 'assistant_phone'],
    [['lead', 'phone_number'], 'lead.phone_number'],
    [['transfers', 0, 'transfer_to'], 'transfers[0].transfer_to'],
  ];

  it.each(PHONE_PATHS.flatMap(([at, path]) => BAD_PHONES.map((phone) => [at, path, phone] as const)))(
    'rejects %j = %j (non-E.164 %j)',
    (at, path, phone) => {
      const body = fixture('with-transfers');
      setAt(body, at, phone);
      expect(reject(body)).toEqual([{ path, message: 'must be an E.164 phone number like +14155550123' }]);
    },
  );

  it.each([
    '2025-03-11 15:03:27',
    '2025-03-11T15:03Z',
    '2025-03-11T15:03:27',
    '2025-13-11T15:03:27Z',
    '2025-03-11T15:03:27.Z',
    '11/03/2025 15:03',
    '2025-03-11T15:03:27+0100',
    '',
  ])('rejects the timestamp %j', (value) => {
    for (const [at, path] of [
      [['created_at'], 'created_at'],
      [['lead', 'campaign', 'updated_at'], 'lead.campaign.updated_at'],
      [['transfers', 1, 'finished_at'], 'transfers[1].finished_at'],
    ] as const) {
      const body = fixture('with-transfers');
      setAt(body, at, value);
      expect(reject(body)).toEqual([{ path, message: 'must be an ISO 8601 timestamp like 2025-01-15T10:30:00Z' }]);
    }
  });

  it('rejects a numeric epoch timestamp', () => {
    const body = fixture('with-transfers');
    body.finished_at = 1741705809;
    expect(reject(body).map((i) => i.path)).toEqual(['finished_at']);
  });

  it('rejects the impossible calendar date 2025-02-30 (Date.parse would roll it over to March)', () => {
    const body = fixture('with-transfers');
    body.created_at = '2025-02-30T10:00:00Z';
    expect(reject(body).map((i) => i.path)).toEqual(['created_at']);
    body.created_at = '2024-02-29T10:00:00Z'; // a leap day is real
    expect(parsePayload(body, 'strict').ok).toBe(true);
  });

  it('keeps digits beyond milliseconds when the timestamp has an offset', () => {
    const body = fixture('with-transfers');
    body.created_at = '2025-01-15T10:30:59.123456+02:00';
    const parsed = parsePayload(body, 'strict');
    expect(parsed.ok && parsed.call.created_at).toBe('2025-01-15T08:30:59.123456Z');
  });

  it.each(['javascript:alert(1)', 'ftp://files.example.com/a.mp3', 'data:audio/mp3;base64,AAAA', 'https://'])(
    'rejects the recording URL %j (http and https only)',
    (value) => {
      const body = fixture('with-transfers');
      body.recording_url = value;
      expect(reject(body)).toEqual([{ path: 'recording_url', message: 'must be an http(s) URL' }]);
    },
  );

  it.each(['9:00', '24:00', '09:60', '09:00:60', '0900', '09.00', '9am'])(
    'rejects the campaign hour %j',
    (value) => {
      const body = fixture('with-transfers');
      setAt(body, ['lead', 'campaign', 'allowed_hours_start_time'], value);
      expect(reject(body)).toEqual([
        { path: 'lead.campaign.allowed_hours_start_time', message: 'must be a time HH:MM or HH:MM:SS' },
      ]);
    },
  );

  it.each(['done', 'Completed', 'no_answer', 'answered', 'COMPLETED', ''])('rejects the status %j', (status) => {
    const body = fixture('with-transfers');
    body.status = status;
    expect(reject(body).map((i) => i.path)).toEqual(['status']);
    const transfer = fixture('with-transfers');
    setAt(transfer, ['transfers', 0, 'status'], status);
    expect(reject(transfer).map((i) => i.path)).toEqual(['transfers[0].status']);
  });

  it.each([934561.5, 0, -934561, Number.MAX_SAFE_INTEGER + 2])('rejects the call id %j', (id) => {
    const body = fixture('with-transfers');
    body.id = id;
    expect(reject(body).map((i) => i.path)).toEqual(['id']);
  });

  it.each([
    'call_934561',
    '934561',
    '7d3f9a1c-52e4-4b8f-9c06-1e2a3b4c5d6',
    '7d3f9a1c52e44b8f9c061e2a3b4c5d6e',
    '7d3f9a1c-52e4-4b8f-9c06-1e2a3b4c5d6g',
  ])('rejects the non-UUID string call id %j', (id) => {
    const body = fixture('envelope-uuid');
    setAt(body, ['data', 'id'], id);
    expect(reject(body)).toEqual([{ path: 'data.id', message: 'must be a UUID' }]);
  });

  it('accepts an upper-case UUID call id', () => {
    const body = fixture('envelope-uuid');
    setAt(body, ['data', 'id'], '7D3F9A1C-52E4-4B8F-9C06-1E2A3B4C5D6E');
    expect(accept(body).call.id).toBe('7D3F9A1C-52E4-4B8F-9C06-1E2A3B4C5D6E');
  });
});

describe('reserved keys and nesting', () => {
  const polluted = () => ({}) as Record<string, unknown>;

  it.each(['strict', 'warn'] as const)('%s mode rejects __proto__ in extracted_variables without polluting', (mode) => {
    const text = fixtureText('sales-qualification').replace(
      '"extracted_variables": {',
      '"extracted_variables": {\n    "__proto__": { "polluted": "yes" },',
    );
    const body: unknown = JSON.parse(text);
    expect(Object.keys((body as Node).extracted_variables as Node)).toContain('__proto__');
    expect(reject(body, mode)).toEqual([{ path: 'extracted_variables.__proto__', message: 'reserved key name' }]);
    expect(polluted().polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  });

  it.each(['strict', 'warn'] as const)('%s mode rejects constructor in extracted_variables without polluting', (mode) => {
    const body = fixture('sales-qualification');
    setAt(body, ['extracted_variables', 'constructor'], { prototype: { polluted: 'yes' } });
    expect(reject(body, mode)).toEqual([{ path: 'extracted_variables.constructor', message: 'reserved key name' }]);
    expect(polluted().polluted).toBeUndefined();
  });

  it('rejects a scalar constructor or prototype variable too', () => {
    const body = fixture('sales-qualification');
    setAt(body, ['extracted_variables', 'constructor'], 'x');
    setAt(body, ['lead', 'variables', 'prototype'], 1);
    expect(reject(body)).toEqual([
      { path: 'extracted_variables.constructor', message: 'reserved key name' },
      { path: 'lead.variables.prototype', message: 'reserved key name' },
    ]);
  });

  it('rejects __proto__ at the top level', () => {
    const body: unknown = JSON.parse('{"id": 918500, "status": "completed", "__proto__": {"polluted": "yes"}}');
    expect(reject(body)).toEqual([{ path: '__proto__', message: 'reserved key name' }]);
    expect(polluted().polluted).toBeUndefined();
  });

  it('finds a reserved key spelled with a \\u escape when given the source text', () => {
    const text = fixtureText('sales-qualification').replace(
      '"extracted_variables": {',
      '"extracted_variables": {\n    "\\u005f_proto__": { "polluted": "yes" },',
    );
    const result = parsePayload(JSON.parse(text), 'strict', { sourceText: text });
    expect(result.ok ? [] : result.issues).toEqual([{ path: 'extracted_variables.__proto__', message: 'reserved key name' }]);
    expect(polluted().polluted).toBeUndefined();
  });

  it('finds a plain reserved key when given the source text', () => {
    const text = '{"id": 918500, "status": "completed", "constructor": {"prototype": 1}}';
    const result = parsePayload(JSON.parse(text), 'warn', { sourceText: text });
    expect(result.ok ? [] : result.issues).toEqual([{ path: 'constructor', message: 'reserved key name' }]);
  });

  function nested(levels: number): Node {
    const root: Node = {};
    let node = root;
    for (let i = 0; i < levels; i++) {
      const child: Node = {};
      node.a = child;
      node = child;
    }
    return root;
  }

  it('rejects nesting deeper than 32 levels before schema validation', () => {
    const body = fixture('sales-qualification');
    body.input_variables = nested(32);
    expect(reject(body)).toEqual([
      { path: `input_variables${'.a'.repeat(32)}`, message: 'nested deeper than 32 levels' },
    ]);
    body.input_variables = nested(500);
    expect(reject(body)[0]!.message).toBe('nested deeper than 32 levels');
  });

  it('leaves nesting within the limit to the schema', () => {
    const body = fixture('sales-qualification');
    body.input_variables = nested(31);
    expect(reject(body)).toEqual([
      { path: 'input_variables.a', message: 'expected string or number or boolean or null' },
    ]);
  });

  it('rejects deep nesting inside arrays', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 40; i++) deep = [deep];
    const body = fixture('sales-qualification');
    body.transcript = deep;
    expect(reject(body)[0]).toEqual({ path: `transcript${'[0]'.repeat(32)}`, message: 'nested deeper than 32 levels' });
  });
});

describe('whole body', () => {
  it.each([
    ['an array', [fixture('sales-qualification')]],
    ['an empty array', []],
    ['null', null],
    ['a string', JSON.stringify(fixture('sales-qualification'))],
    ['a number', 918273],
    ['a boolean', true],
    ['undefined', undefined],
  ])('rejects %s as the body', (_, body) => {
    expect(reject(body)).toEqual([{ path: '', message: 'payload must be a JSON object' }]);
    expect(reject(body, 'warn')).toEqual([{ path: '', message: 'payload must be a JSON object' }]);
  });

  it('rejects an empty object with the two required fields', () => {
    expect(
      reject({})
        .map((i) => i.path)
        .sort(),
    ).toEqual(['id', 'status']);
  });
});

describe('contentHash', () => {
  it.each(fixtureNames())('%s: identical for reordered keys and different whitespace', (name) => {
    const text = fixtureText(name);
    const compact = JSON.stringify(JSON.parse(text));
    const reordered = JSON.stringify(reverseKeys(JSON.parse(text)), null, 7);
    expect(reordered).not.toBe(text);
    const hash = contentHash(accept(JSON.parse(text)).call);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHash(accept(JSON.parse(compact)).call)).toBe(hash);
    expect(contentHash(accept(JSON.parse(reordered)).call)).toBe(hash);
  });

  it('the make-test-request fixture hashes like seed 000', () => {
    expect(contentHash(callOf('make-test-request'))).toBe(contentHash(callOf('seed-000-post-call-actions')));
  });

  it('changes when an extracted variable changes, is added or is removed', () => {
    const base = contentHash(callOf('sales-qualification'));
    const changed = fixture('sales-qualification');
    setAt(changed, ['extracted_variables', 'budget'], 18500);
    const added = fixture('sales-qualification');
    setAt(added, ['extracted_variables', 'competitor'], 'none');
    const removed = fixture('sales-qualification');
    deleteAt(removed, ['extracted_variables', 'timeline']);
    const retyped = fixture('sales-qualification');
    setAt(retyped, ['extracted_variables', 'budget'], '18000');
    const hashes = [base, ...[changed, added, removed, retyped].map((b) => contentHash(accept(b).call))];
    expect(new Set(hashes).size).toBe(5);
  });

  it('differs between distinct fixtures', () => {
    const names = [...SEEDS, ...NEW_FIXTURES];
    const hashes = names.map((n) => contentHash(callOf(n)));
    // seed-000 and make-test-request are the same payload; all others are distinct.
    expect(new Set(hashes).size).toBe(names.length - 1);
  });
});

describe('isDocumentedSample', () => {
  it.each(['make-test-request.json', ...SEEDS])('is true for the documented sample %s', (name) => {
    expect(isDocumentedSample(callOf(name))).toBe(true);
  });

  it.each(REAL_CALL_FIXTURES)('is false for %s', (name) => {
    expect(isDocumentedSample(callOf(name))).toBe(false);
  });

  it('needs both the sample id and the sample phone', () => {
    const otherPhone = fixture('make-test-request');
    otherPhone.customer_phone = '+14155550142';
    expect(isDocumentedSample(accept(otherPhone).call)).toBe(false);
    const otherId = fixture('make-test-request');
    otherId.id = 12346;
    expect(isDocumentedSample(accept(otherId).call)).toBe(false);
    const famulorPhoneOnAutocallsId = fixture('make-test-request');
    famulorPhoneOnAutocallsId.customer_phone = '+4915123456789';
    expect(isDocumentedSample(accept(famulorPhoneOnAutocallsId).call)).toBe(false);
  });
});

describe('failing paths of the other requests', () => {
  it('the inbound-call request and a platform pre-call request name paths and unions as post-call bodies do', () => {
    expect(parseInboundRequest({ customer_phone: 5, assistant_id: {} })).toEqual({
      ok: false,
      issues: [
        { path: 'customer_phone', message: 'Invalid input: expected string, received number' },
        { path: 'assistant_id', message: 'expected string or number' },
      ],
    });
    expect(parseInboundRequest([1])).toEqual({ ok: false, issues: [{ path: '', message: 'the body must be a JSON object' }] });
    expect(platformPayload('retell').precall!.parse({ event: 'call_inbound', call_inbound: { from_number: 5 } })).toEqual({
      ok: false,
      issues: [{ path: 'call_inbound.from_number', message: 'Invalid input: expected string, received number' }],
    });
  });
});
