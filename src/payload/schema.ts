// zod schemas for every documented sender variant of the post-call webhook
// (shared/seeds 001 autocalls.ai, 002 OtoniStark, 003 Famulor) and the newer event envelope.
// One superset schema: the variants differ in which optional parts they send, not in names.
import { z } from 'zod';

export type SchemaMode = 'strict' | 'warn';

/** The ten statuses of seed 000, plus `no-answer` (the API's spelling of `unanswered`). */
export const CALL_STATUSES = [
  'initiated',
  'ringing',
  'busy',
  'in-progress',
  'ended',
  'completed',
  'ended_by_customer',
  'ended_by_assistant',
  'unanswered',
  'failed',
] as const;
export const RAW_CALL_STATUSES = [...CALL_STATUSES, 'no-answer'] as const;

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

// Keys that would reach Object.prototype if copied naively; never valid variable names anyway.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const e164 = z.string().regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 phone number like +14155550123');
/** ISO 8601 with seconds, optional fraction (autocalls sends microseconds), Z or an offset. */
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

/** A real calendar instant: Date.parse would roll 2025-02-30 over to March instead of failing. */
export function isIsoTimestamp(value: string): boolean {
  const m = ISO_TIMESTAMP.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const offsetOk = m[8] === 'Z' || (Number(m[9]) <= 23 && Number(m[10]) <= 59);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 59 && offsetOk;
}
const timestamp = z.string().refine(isIsoTimestamp, 'must be an ISO 8601 timestamp like 2025-01-15T10:30:00Z');
/** Campaign hours: `HH:MM` (autocalls, OtoniStark) or `HH:MM:SS` (Famulor). */
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'must be a time HH:MM or HH:MM:SS');
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID');
/** Classic call ids are integers; the newer API uses UUID strings. */
const callId = z.union([z.number().int().positive(), uuid]);
const recordId = z.union([z.number().int().nonnegative(), z.string().min(1).max(200)]);
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const variableKey = z
  .string()
  .max(200)
  .refine((k) => !FORBIDDEN_KEYS.has(k), 'is a reserved key name');
/** extracted_variables, input_variables and lead.variables are open records of scalars. */
const variables = z.record(variableKey, scalar);
// http(s) only: a `javascript:` URL must never reach a page or a fetch later.
const url = z
  .string()
  .max(4096)
  .refine((v) => /^https?:\/\/\S+$/i.test(v) && URL.canParse(v), 'must be an http(s) URL');
const count = z.number().int().nonnegative();

/** Builds the schema family; `warn` mode strips unknown keys instead of rejecting them. */
export function buildPayloadSchemas(mode: SchemaMode) {
  const object = mode === 'strict' ? z.strictObject : z.object;

  const transcriptTurn = object({
    text: z.string(),
    type: z.string().optional(),
    sender: z.enum(['bot', 'human']),
    timestamp: z.number().nullable().optional(),
  });

  const campaign = object({
    id: recordId,
    name: z.string(),
    status: z.string().nullish(),
    allowed_hours_start_time: clockTime.nullish(),
    allowed_hours_end_time: clockTime.nullish(),
    allowed_days: z.array(z.enum(WEEKDAYS)).nullish(),
    max_calls_in_parallel: count.nullish(),
    max_retries: count.nullish(),
    retry_interval: count.nullish(),
    created_at: timestamp.nullish(),
    updated_at: timestamp.nullish(),
  });

  const lead = object({
    id: recordId,
    phone_number: e164.nullish(),
    variables: variables.nullish(),
    status: z.string().nullish(),
    call_tries: count.nullish(),
    created_at: timestamp.nullish(),
    updated_at: timestamp.nullish(),
    campaign: campaign.nullish(),
  });

  const transfer = object({
    id: recordId,
    status: z.enum(RAW_CALL_STATUSES),
    transfer_to: e164.nullish(),
    duration: count.nullish(),
    carrier_cost: z.number().nonnegative().nullish(),
    transcript: z.array(transcriptTurn).nullish(),
    formatted_transcript: z.string().nullish(),
    recording_url: url.nullish(),
    created_at: timestamp.nullish(),
    finished_at: timestamp.nullish(),
  });

  // Documented-optional fields are `nullish`: real senders omit them or send null.
  const call = object({
    id: callId,
    customer_phone: e164.nullish(),
    assistant_phone: e164.nullish(),
    duration: count.nullish(),
    status: z.enum(RAW_CALL_STATUSES),
    extracted_variables: variables.nullish(),
    input_variables: variables.nullish(),
    transcript: z.union([z.array(transcriptTurn), z.string()]).nullish(),
    formatted_transcript: z.string().nullish(),
    recording_url: url.nullish(),
    created_at: timestamp.nullish(),
    finished_at: timestamp.nullish(),
    lead: lead.nullish(),
    campaign: campaign.nullish(),
    transfers: z.array(transfer).nullish(),
  });

  const envelope = object({
    event: z.string().regex(/^call\.[a-z_.]+$/, 'must be a call event such as "call.completed"'),
    data: call,
  });

  return { call, envelope, lead, campaign, transfer, transcriptTurn };
}

export const strictSchemas = buildPayloadSchemas('strict');
export const lenientSchemas = buildPayloadSchemas('warn');

export type RawCall = z.infer<typeof strictSchemas.call>;
export type RawEnvelope = z.infer<typeof strictSchemas.envelope>;
export type RawTurn = z.infer<typeof strictSchemas.transcriptTurn>;
export type RawCampaign = z.infer<typeof strictSchemas.campaign>;
export type RawLead = z.infer<typeof strictSchemas.lead>;
export type RawTransfer = z.infer<typeof strictSchemas.transfer>;

/** JSON Schema of the accepted payload (classic call or envelope), for documentation. */
export function payloadJsonSchema(): unknown {
  return z.toJSONSchema(z.union([strictSchemas.call, strictSchemas.envelope]), { io: 'input' });
}
