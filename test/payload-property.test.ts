// Property tests for src/payload: generated valid payloads of every sender variant are accepted
// and normalize to the Call invariants; single mutations of a valid payload are rejected with
// an issue naming the mutated location.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Call, Variant } from '../src/payload/call.js';
import { parsePayload, type PayloadIssue } from '../src/payload/parse-payload.js';
import { RAW_CALL_STATUSES, WEEKDAYS } from '../src/payload/schema.js';

const NUM_RUNS = 200;

type Key = string | number;
type Path = Key[];
type Node = Record<Key, unknown>;
type Body = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Generators of valid payloads

const RECORD = { noNullPrototype: true } as const;

const phone = fc.stringMatching(/^\+[1-9]\d{6,14}$/);
const count = (max: number) => fc.nat({ max });
/** Nullable and, as a record field outside requiredKeys, sometimes absent. */
const nullable = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });

const MIN_MS = Date.UTC(2023, 0, 1);
const MAX_MS = Date.UTC(2027, 0, 1);

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** ISO 8601 as senders write it: seconds, milliseconds, microseconds (Z) or an offset. */
const timestamp = fc
  .record({
    ms: fc.integer({ min: MIN_MS, max: MAX_MS }),
    style: fc.constantFrom('seconds', 'millis', 'micros', 'offset'),
    micros: fc.nat({ max: 999 }),
    offsetMinutes: fc.constantFrom(-300, -180, 60, 120, 330, 600),
  })
  .map(({ ms, style, micros, offsetMinutes }) => {
    const iso = new Date(ms).toISOString();
    if (style === 'seconds') return `${iso.slice(0, 19)}Z`;
    if (style === 'millis') return iso;
    if (style === 'micros') return `${iso.slice(0, 23)}${pad(micros, 3)}Z`;
    const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
    const abs = Math.abs(offsetMinutes);
    return `${local}${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  });

/** Campaign hours, `HH:MM` (autocalls, OtoniStark) or `HH:MM:SS` (Famulor). */
const clockTime = fc
  .tuple(fc.nat({ max: 23 }), fc.nat({ max: 59 }), fc.option(fc.nat({ max: 59 }), { nil: undefined }))
  .map(([h, m, s]) => (s === undefined ? `${pad(h)}:${pad(m)}` : `${pad(h)}:${pad(m)}:${pad(s)}`));

const callId = fc.oneof(fc.integer({ min: 1, max: 2 ** 31 }), fc.uuid());
const recordId = fc.nat({ max: 10_000_000 });

/** Variable names as the docs define them: 3–16 chars, lowercase alphanumeric or underscore. */
const variableName = fc
  .stringMatching(/^[a-z][a-z0-9_]{2,15}$/)
  .filter((k) => k !== 'constructor' && k !== 'prototype');
const scalar = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
const variables = fc.dictionary(variableName, scalar, { maxKeys: 6, noNullPrototype: true });

const turnText = fc.stringMatching(/^[A-Za-z0-9 ,.?!'äöüßçã-]{0,60}$/);
const turn = fc.record(
  {
    text: turnText,
    type: fc.constant('transcript'),
    sender: fc.constantFrom('bot', 'human'),
    timestamp: nullable(fc.double({ min: 1.6e9, max: 1.9e9, noNaN: true })),
  },
  { ...RECORD, requiredKeys: ['text', 'sender'] },
);
const turns = fc.array(turn, { maxLength: 6 });

/** Famulor's plain-text transcript: one labelled line per turn. */
const stringTranscript = fc
  .array(fc.tuple(fc.constantFrom('Assistant', 'AI', 'Customer', 'User'), turnText), { minLength: 1, maxLength: 6 })
  .map((lines) => lines.map(([label, text]) => `${label}: ${text}`).join('\n'));

const campaign = fc.record(
  {
    id: recordId,
    name: fc.string({ minLength: 1, maxLength: 40 }),
    status: nullable(fc.constantFrom('active', 'paused', 'in-progress', 'completed')),
    allowed_hours_start_time: nullable(clockTime),
    allowed_hours_end_time: nullable(clockTime),
    allowed_days: nullable(fc.subarray([...WEEKDAYS])),
    max_calls_in_parallel: nullable(count(50)),
    max_retries: nullable(count(10)),
    retry_interval: nullable(count(1440)),
    created_at: nullable(timestamp),
    updated_at: nullable(timestamp),
  },
  { ...RECORD, requiredKeys: ['id', 'name'] },
);

const leadBase = {
  id: recordId,
  phone_number: nullable(phone),
  variables: nullable(variables),
  status: nullable(fc.constantFrom('pending', 'contacted', 'failed', 'completed')),
  created_at: nullable(timestamp),
  updated_at: nullable(timestamp),
};
const autocallsLead = fc.record(
  { ...leadBase, call_tries: nullable(count(10)), campaign: nullable(campaign) },
  { ...RECORD, requiredKeys: ['id'] },
);
const otonistarkLead = fc.record({ ...leadBase, campaign: nullable(campaign) }, { ...RECORD, requiredKeys: ['id'] });
const famulorLead = fc.record(leadBase, { ...RECORD, requiredKeys: ['id'] });

const recordingUrl = (host: string, ext: string) =>
  fc.nat({ max: 9_999_999 }).map((n) => `https://${host}/storage/recordings/call-${n}.${ext}`);

const transfer = fc.record(
  {
    id: recordId,
    status: fc.constantFrom(...RAW_CALL_STATUSES),
    transfer_to: nullable(phone),
    duration: nullable(count(7200)),
    carrier_cost: nullable(fc.double({ min: 0, max: 5, noNaN: true })),
    transcript: nullable(turns),
    formatted_transcript: nullable(fc.string({ maxLength: 80 })),
    recording_url: nullable(recordingUrl('app.autocalls.ai', 'mp4')),
    created_at: nullable(timestamp),
    finished_at: nullable(timestamp),
  },
  { ...RECORD, requiredKeys: ['id', 'status'] },
);

const common = {
  id: callId,
  customer_phone: nullable(phone),
  assistant_phone: nullable(phone),
  duration: nullable(count(7200)),
  status: fc.constantFrom(...RAW_CALL_STATUSES),
  extracted_variables: nullable(variables),
  input_variables: nullable(variables),
  created_at: nullable(timestamp),
  finished_at: nullable(timestamp),
};
const COMMON_REQUIRED = ['id', 'status'] as const;

/** autocalls.ai: array transcript, lead.campaign, lead.call_tries, transfers. */
const autocallsCall = fc.record(
  {
    ...common,
    transcript: nullable(turns),
    formatted_transcript: nullable(fc.string({ maxLength: 120 })),
    recording_url: nullable(recordingUrl('app.autocalls.ai', 'mp4')),
    lead: nullable(autocallsLead),
    transfers: nullable(fc.array(transfer, { maxLength: 3 })),
  },
  { ...RECORD, requiredKeys: [...COMMON_REQUIRED] },
);

/**
 * OtoniStark: like autocalls.ai without call_tries and transfers. Its only distinguishing mark is
 * the recording host, so the generator always includes a recording_url.
 */
const otonistarkCall = fc.record(
  {
    ...common,
    transcript: nullable(turns),
    formatted_transcript: nullable(fc.string({ maxLength: 120 })),
    recording_url: recordingUrl('call.otonistark.com.br', 'mp4'),
    lead: nullable(otonistarkLead),
  },
  { ...RECORD, requiredKeys: [...COMMON_REQUIRED, 'recording_url'] },
);

/** Famulor: string transcript, campaign at the top level, lead without campaign. */
const famulorCall = fc.record(
  {
    ...common,
    transcript: stringTranscript,
    recording_url: nullable(recordingUrl('recordings.famulor.de', 'mp3')),
    lead: nullable(famulorLead),
    campaign: nullable(campaign),
  },
  { ...RECORD, requiredKeys: [...COMMON_REQUIRED, 'transcript'] },
);

interface Generated {
  variant: Variant;
  /** The call object (inside the envelope when there is one). */
  raw: Body;
  event: string | null;
  /** What is POSTed. */
  body: Body;
}

const validPayload: fc.Arbitrary<Generated> = fc
  .tuple(
    fc.oneof(
      autocallsCall.map((raw) => ({ variant: 'autocalls' as const, raw: raw as Body })),
      otonistarkCall.map((raw) => ({ variant: 'otonistark' as const, raw: raw as Body })),
      famulorCall.map((raw) => ({ variant: 'famulor' as const, raw: raw as Body })),
    ),
    fc.option(fc.constantFrom('call.completed', 'call.analysis_completed'), { nil: null }),
  )
  .map(([{ variant, raw }, event]) => ({
    variant,
    raw,
    event,
    body: event === null ? raw : { event, data: raw },
  }));

// ---------------------------------------------------------------------------------------------
// Helpers

function formatPath(path: Path): string {
  return path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k), '');
}

function getAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of path) node = (node as Node | undefined)?.[key];
  return node;
}

function setAt(root: unknown, path: Path, value: unknown): void {
  const parent = getAt(root, path.slice(0, -1)) as Node;
  parent[path[path.length - 1]!] = value;
}

function isObject(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function accepted(body: unknown, mode: 'strict' | 'warn'): { call: Call; unknownKeys: string[] } {
  const result = parsePayload(body, mode);
  if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.issues)}`);
  return result;
}

function rejected(body: unknown, mode: 'strict' | 'warn'): PayloadIssue[] {
  const result = parsePayload(body, mode);
  if (result.ok) throw new Error('expected a rejection');
  return result.issues;
}

/** Expected normalization of a timestamp: UTC, and the sender's microseconds when sent with Z. */
function expectedIso(raw: string): string {
  if (/\.\d{6}Z$/.test(raw)) return raw;
  return new Date(raw).toISOString();
}

// Documented fields of every object level and the kind of value each takes.
type Kind = 'id' | 'string' | 'int' | 'number' | 'record' | 'object' | 'array' | 'transcript';
const CALL_FIELDS: Record<string, Kind> = {
  id: 'id',
  customer_phone: 'string',
  assistant_phone: 'string',
  duration: 'int',
  status: 'string',
  extracted_variables: 'record',
  input_variables: 'record',
  transcript: 'transcript',
  formatted_transcript: 'string',
  recording_url: 'string',
  created_at: 'string',
  finished_at: 'string',
  lead: 'object',
  campaign: 'object',
  transfers: 'array',
};
const LEAD_FIELDS: Record<string, Kind> = {
  id: 'id',
  phone_number: 'string',
  variables: 'record',
  status: 'string',
  call_tries: 'int',
  created_at: 'string',
  updated_at: 'string',
  campaign: 'object',
};
const CAMPAIGN_FIELDS: Record<string, Kind> = {
  id: 'id',
  name: 'string',
  status: 'string',
  allowed_hours_start_time: 'string',
  allowed_hours_end_time: 'string',
  allowed_days: 'array',
  max_calls_in_parallel: 'int',
  max_retries: 'int',
  retry_interval: 'int',
  created_at: 'string',
  updated_at: 'string',
};
const TRANSFER_FIELDS: Record<string, Kind> = {
  id: 'id',
  status: 'string',
  transfer_to: 'string',
  duration: 'int',
  carrier_cost: 'number',
  transcript: 'array',
  formatted_transcript: 'string',
  recording_url: 'string',
  created_at: 'string',
  finished_at: 'string',
};
const TURN_FIELDS: Record<string, Kind> = { text: 'string', type: 'string', sender: 'string', timestamp: 'number' };
const ENVELOPE_FIELDS: Record<string, Kind> = { event: 'string', data: 'object' };

interface Level {
  path: Path;
  fields: Record<string, Kind>;
  /** A turn of the top-level transcript (inside the union of turn array and string). */
  topLevelTurn: boolean;
}

/** Every documented object of the payload: call, lead, campaigns, transfers, turns, envelope. */
function objectLevels(g: Generated): Level[] {
  const base: Path = g.event === null ? [] : ['data'];
  const levels: Level[] = [];
  if (g.event !== null) levels.push({ path: [], fields: ENVELOPE_FIELDS, topLevelTurn: false });
  levels.push({ path: base, fields: CALL_FIELDS, topLevelTurn: false });
  const { raw } = g;
  if (isObject(raw.lead)) {
    levels.push({ path: [...base, 'lead'], fields: LEAD_FIELDS, topLevelTurn: false });
    if (isObject(raw.lead.campaign)) {
      levels.push({ path: [...base, 'lead', 'campaign'], fields: CAMPAIGN_FIELDS, topLevelTurn: false });
    }
  }
  if (isObject(raw.campaign)) levels.push({ path: [...base, 'campaign'], fields: CAMPAIGN_FIELDS, topLevelTurn: false });
  if (Array.isArray(raw.transcript)) {
    raw.transcript.forEach((_, i) =>
      levels.push({ path: [...base, 'transcript', i], fields: TURN_FIELDS, topLevelTurn: true }),
    );
  }
  if (Array.isArray(raw.transfers)) {
    raw.transfers.forEach((t: unknown, i) => {
      levels.push({ path: [...base, 'transfers', i], fields: TRANSFER_FIELDS, topLevelTurn: false });
      const transcript = (t as Node).transcript;
      if (Array.isArray(transcript)) {
        transcript.forEach((_, j) =>
          levels.push({ path: [...base, 'transfers', i, 'transcript', j], fields: TURN_FIELDS, topLevelTurn: false }),
        );
      }
    });
  }
  return levels;
}

const WRONG: Record<Kind, fc.Arbitrary<unknown>> = {
  id: fc.oneof(fc.boolean(), fc.constant({}), fc.constant([]), fc.double({ min: 0.1, max: 1e6, noInteger: true })),
  string: fc.oneof(fc.integer(), fc.boolean(), fc.constant({}), fc.constant([])),
  int: fc.oneof(fc.string(), fc.boolean(), fc.constant({}), fc.constant([]), fc.double({ min: 0.1, max: 1e6, noInteger: true })),
  number: fc.oneof(fc.string(), fc.boolean(), fc.constant({}), fc.constant([])),
  record: fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant([])),
  object: fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant([])),
  array: fc.oneof(fc.integer(), fc.boolean(), fc.constant({})),
  transcript: fc.oneof(fc.integer(), fc.boolean(), fc.constant({})),
};
/** Wrong values for a variable inside an open record: only scalars are allowed there. */
const WRONG_VARIABLE = fc.oneof(fc.constant({}), fc.constant([]), fc.constant({ nested: 1 }), fc.constant(['a']));

/** Where phones live. */
function phonePaths(g: Generated): Path[] {
  const base: Path = g.event === null ? [] : ['data'];
  const paths: Path[] = [
    [...base, 'customer_phone'],
    [...base, 'assistant_phone'],
  ];
  if (isObject(g.raw.lead)) paths.push([...base, 'lead', 'phone_number']);
  if (Array.isArray(g.raw.transfers)) g.raw.transfers.forEach((_, i) => paths.push([...base, 'transfers', i, 'transfer_to']));
  return paths;
}

/** Variable records present in the payload (the open objects whose values must be scalars). */
function variableRecordPaths(g: Generated): Path[] {
  const base: Path = g.event === null ? [] : ['data'];
  const paths: Path[] = [];
  if (isObject(g.raw.extracted_variables)) paths.push([...base, 'extracted_variables']);
  if (isObject(g.raw.input_variables)) paths.push([...base, 'input_variables']);
  if (isObject(g.raw.lead) && isObject(g.raw.lead.variables)) paths.push([...base, 'lead', 'variables']);
  return paths;
}

const E164 = /^\+[1-9]\d{1,14}$/;
const nonE164 = fc.oneof(
  fc.stringMatching(/^[1-9]\d{6,14}$/), // no plus
  fc.stringMatching(/^\+0\d{6,13}$/), // leading zero country code
  fc.stringMatching(/^\+[1-9]\d{15,20}$/), // too long
  fc.stringMatching(/^\+[1-9]\d{1,3}[ -]\d{3,6}[ -]?\d{0,4}$/), // separators
  fc.stringMatching(/^\(\d{3}\) \d{3}-\d{4}$/), // national US format
  fc.constantFrom('', '+', 'unknown', 'anonymous', '+1 (415) 555-0142'),
  fc.string({ maxLength: 20 }).filter((s) => !E164.test(s)),
);

// ---------------------------------------------------------------------------------------------
// Properties

describe('generated valid payloads', () => {
  it('are accepted in strict mode and normalize to the Call invariants', () => {
    fc.assert(
      fc.property(validPayload, (g) => {
        const { call, unknownKeys } = accepted(g.body, 'strict');
        expect(unknownKeys).toEqual([]);
        const { raw } = g;

        expect(call.variant).toBe(g.variant);
        expect(call.event).toBe(g.event);
        expect(call.id).toBe(raw.id);

        // Status: the API spelling no-answer never leaves payload/.
        expect(call.status).not.toBe('no-answer');
        expect(call.status).toBe(raw.status === 'no-answer' ? 'unanswered' : raw.status);
        const rawTransfers = (raw.transfers ?? []) as Node[];
        expect(call.transfers).toHaveLength(rawTransfers.length);
        call.transfers.forEach((t, i) => {
          expect(t.status).not.toBe('no-answer');
          expect(t.status).toBe(rawTransfers[i]!.status === 'no-answer' ? 'unanswered' : rawTransfers[i]!.status);
          expect(typeof t.transcript.text).toBe('string');
        });

        // Transcript: always turns plus a string text.
        expect(typeof call.transcript.text).toBe('string');
        if (typeof raw.transcript === 'string') {
          expect(call.transcript.text).toBe(raw.transcript);
          const lines = raw.transcript.split('\n');
          expect(call.transcript.turns.map((t) => t.sender)).toEqual(
            lines.map((l) => (/^(Customer|User):/.test(l) ? 'human' : 'bot')),
          );
          expect(call.transcript.turns.map((t) => t.text)).toEqual(lines.map((l) => l.slice(l.indexOf(':') + 2)));
        } else if (Array.isArray(raw.transcript)) {
          expect(call.transcript.turns.map((t) => [t.sender, t.text])).toEqual(
            (raw.transcript as Node[]).map((t) => [t.sender, t.text]),
          );
          if (raw.formatted_transcript) expect(call.transcript.text).toBe(raw.formatted_transcript);
        } else {
          expect(call.transcript.turns).toEqual([]);
        }

        // Campaign: wherever it was sent, it ends up in call.campaign with HH:MM:SS hours.
        const rawLead = isObject(raw.lead) ? raw.lead : null;
        const rawCampaign = (raw.campaign ?? rawLead?.campaign ?? null) as Node | null;
        if (rawCampaign === null) {
          expect(call.campaign).toBeNull();
        } else {
          expect(call.campaign?.id).toBe(rawCampaign.id);
          for (const key of ['allowed_hours_start_time', 'allowed_hours_end_time'] as const) {
            const sent = rawCampaign[key] as string | null | undefined;
            const got = call.campaign![key];
            if (sent == null) {
              expect(got).toBeNull();
            } else {
              expect(got).toHaveLength(8);
              expect(got).toMatch(/^\d{2}:\d{2}:\d{2}$/);
              expect(got!.startsWith(sent.slice(0, 5))).toBe(true);
              if (sent.length === 8) expect(got).toBe(sent);
            }
          }
        }
        if (rawLead) expect(call.lead).not.toHaveProperty('campaign');

        // Timestamps: ISO UTC, same instant, microseconds kept when sent with Z.
        const pairs: Array<[unknown, string | null | undefined]> = [
          [raw.created_at, call.created_at],
          [raw.finished_at, call.finished_at],
          [rawLead?.created_at, call.lead?.created_at],
          [rawLead?.updated_at, call.lead?.updated_at],
          [rawCampaign?.created_at, call.campaign?.created_at],
          [rawCampaign?.updated_at, call.campaign?.updated_at],
          ...rawTransfers.flatMap((t, i): Array<[unknown, string | null | undefined]> => [
            [t.created_at, call.transfers[i]!.created_at],
            [t.finished_at, call.transfers[i]!.finished_at],
          ]),
        ];
        for (const [sent, got] of pairs) {
          if (typeof sent !== 'string') {
            expect(got ?? null).toBeNull();
            continue;
          }
          expect(got).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.(\d{3}|\d{6})Z$/);
          expect(got).toBe(expectedIso(sent));
          expect(Date.parse(got!)).toBe(Date.parse(sent));
        }

        // Variables: copied as sent, empty object when absent.
        expect(call.extracted_variables).toEqual(raw.extracted_variables ?? {});
        expect(call.input_variables).toEqual(raw.input_variables ?? {});

        // Warn mode agrees on a valid payload.
        expect(accepted(g.body, 'warn')).toEqual({ ok: true, call, unknownKeys: [] });
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('mutations of a valid payload', () => {
  it('an unknown key at any documented object level is rejected in strict mode and reported in warn mode', () => {
    const unknownKey = fc.stringMatching(/^x_[a-z0-9_]{1,12}$/);
    const mutation = validPayload.chain((g) =>
      fc.record({ g: fc.constant(g), level: fc.constantFrom(...objectLevels(g)), key: unknownKey, value: scalar }),
    );
    fc.assert(
      fc.property(mutation, ({ g, level, key, value }) => {
        const body = structuredClone(g.body);
        setAt(body, [...level.path, key], value);
        const path = formatPath([...level.path, key]);
        expect(rejected(body, 'strict')).toEqual([{ path, message: 'unknown key' }]);
        const warned = accepted(body, 'warn');
        expect(warned.unknownKeys).toEqual([path]);
        expect(warned.call).toEqual(accepted(g.body, 'strict').call);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('a documented field set to a wrong type is rejected with an issue at that field', () => {
    const mutation = validPayload.chain((g) => {
      const targets: Array<{ path: Path; wrong: fc.Arbitrary<unknown> }> = [];
      for (const level of objectLevels(g)) {
        for (const [field, kind] of Object.entries(level.fields)) {
          targets.push({ path: [...level.path, field], wrong: WRONG[kind] });
        }
      }
      for (const record of variableRecordPaths(g)) {
        for (const name of Object.keys(getAt(g.body, record) as Node)) {
          targets.push({ path: [...record, name], wrong: WRONG_VARIABLE });
        }
      }
      return fc
        .constantFrom(...targets)
        .chain((target) => fc.record({ g: fc.constant(g), path: fc.constant(target.path), value: target.wrong }));
    });
    fc.assert(
      fc.property(mutation, ({ g, path, value }) => {
        const body = structuredClone(g.body);
        setAt(body, path, value);
        const expected = formatPath(path);
        expect(rejected(body, 'strict').map((i) => i.path)).toContain(expected);
        expect(rejected(body, 'warn').map((i) => i.path)).toContain(expected);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('a phone replaced by a non-E.164 string is rejected with an issue at that phone', () => {
    const mutation = validPayload.chain((g) =>
      fc.record({ g: fc.constant(g), path: fc.constantFrom(...phonePaths(g)), phone: nonE164 }),
    );
    fc.assert(
      fc.property(mutation, ({ g, path, phone }) => {
        const body = structuredClone(g.body);
        setAt(body, path, phone);
        expect(rejected(body, 'strict')).toEqual([
          { path: formatPath(path), message: 'must be an E.164 phone number like +14155550123' },
        ]);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
