// zod schemas for every documented sender variant of the post-call webhook
// (shared/seeds 001 autocalls.ai, 002 OtoniStark, 003 Famulor); the event envelope that wraps
// it, a chat and a 2.0 workspace call is read in parse-payload.ts.
// One superset schema: the variants differ in which optional parts they send, not in names.
import { z } from 'zod';
import { callId, clockTime, count, e164, RAW_CALL_STATUSES, recordId, timestamp, url, variables, WEEKDAYS } from './schema-primitives.js';

export { CALL_STATUSES, isIsoTimestamp, RAW_CALL_STATUSES, WEEKDAYS } from './schema-primitives.js';

export type SchemaMode = 'strict' | 'warn';

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

  return { call, lead, campaign, transfer, transcriptTurn };
}

export const strictSchemas = buildPayloadSchemas('strict');
export const lenientSchemas = buildPayloadSchemas('warn');

export type RawCall = z.infer<typeof strictSchemas.call>;
export type RawTurn = z.infer<typeof strictSchemas.transcriptTurn>;
export type RawCampaign = z.infer<typeof strictSchemas.campaign>;
export type RawLead = z.infer<typeof strictSchemas.lead>;
export type RawTransfer = z.infer<typeof strictSchemas.transfer>;

/** JSON Schema of the classic post-call payload, for documentation. */
export function payloadJsonSchema(): unknown {
  return z.toJSONSchema(strictSchemas.call, { io: 'input' });
}
