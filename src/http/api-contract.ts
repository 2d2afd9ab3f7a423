// The JSON shapes of /api, written once: the OpenAPI document (openapi.ts) is generated from
// these schemas, and the API tests parse real responses with them, so neither can drift.
//
// Convention: snake_case names and ISO 8601 UTC timestamps (`2026-01-15T10:32:25.000Z`), the
// same as the webhook replies, the error bodies and the normalized call every run carries;
// numbers of milliseconds are durations only. Objects are strict: a field added to a response
// and not here fails the tests.
import { z } from 'zod';
import { RUN_STATUSES } from '../store/run-status.js';
import { PLATFORMS, VARIANTS } from '../payload/call.js';

export const apiSchemas = z.registry<{ id: string; description?: string }>();

const timestamp = z.iso.datetime({ offset: false }).describe('ISO 8601, UTC');

export const errorSchema = z
  .object({
    status: z.literal('error'),
    code: z.string().describe('a code of docs/errors.md'),
    message: z.string(),
    request_id: z.string().describe('the x-request-id header of this answer; log lines carry it'),
  })
  .catchall(z.unknown())
  .describe('Every error answer; some codes add fields (`errors`, `receipt_id`, `detail`).');
apiSchemas.add(errorSchema, { id: 'Error' });

export const scoreSchema = z
  .object({
    value: z.number(),
    band: z.string().nullable(),
    fired: z.array(z.object({ source: z.string(), add: z.number().optional(), set: z.number().optional() }).strict()),
  })
  .strict();
apiSchemas.add(scoreSchema, { id: 'Score' });

export const runSummarySchema = z
  .object({
    id: z.number().int(),
    sender: z.string(),
    call_id: z.string(),
    revision: z.number().int(),
    mapping_name: z.string(),
    mapping_hash: z.string().describe("the mapping file's content hash when planned, or `operator-retry`"),
    status: z.enum(RUN_STATUSES),
    is_test: z.boolean(),
    attempts: z.number().int().describe('failed attempts so far'),
    next_run_at: timestamp.nullable(),
    last_error: z.string().nullable(),
    score: scoreSchema.nullable(),
    customer_phone: z.string().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
    finished_at: timestamp.nullable(),
  })
  .strict();
apiSchemas.add(runSummarySchema, { id: 'RunSummary' });

export const evidenceSchema = z
  .object({
    method: z.string(),
    url: z.string().describe('credentials and secret-looking query values masked'),
    status: z.number().int().nullable().describe('null: no answer came'),
    body: z.string().nullable().describe("the start of the vendor's answer, masked"),
    truncated: z.boolean(),
  })
  .strict();
apiSchemas.add(evidenceSchema, { id: 'StepEvidence' });

export const stepSchema = z
  .object({
    step_id: z.string(),
    status: z.enum(['started', 'succeeded', 'skipped', 'failed', 'done-before']),
    input: z.unknown().describe('the rendered input, as the mapping built it'),
    input_hash: z.string().nullable(),
    output: z.unknown(),
    error: z.string().nullable(),
    attempts: z.number().int(),
    started_at: timestamp.nullable().describe('null for a step that never started (skipped)'),
    finished_at: timestamp.nullable(),
    evidence: evidenceSchema.nullable().describe("a failed step's last vendor request and answer"),
  })
  .strict();
apiSchemas.add(stepSchema, { id: 'Step' });

const json = z.record(z.string(), z.unknown());
export const callSchema = z
  .object({
    id: z.union([z.number(), z.string()]),
    platform: z.enum(PLATFORMS),
    variant: z.enum(VARIANTS),
    event: z.string().nullable(),
    channel: z.enum(['phone', 'widget', 'whatsapp']),
    status: z.string(),
    customer_phone: z.string().nullable(),
    assistant_phone: z.string().nullable(),
    assistant_id: z.string().nullable(),
    duration: z.number().nullable(),
    extracted_variables: json,
    input_variables: json,
    transcript: z.object({ turns: z.array(json), text: z.string() }).strict(),
    recording_url: z.string().nullable(),
    created_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    lead: json.nullable(),
    campaign: json.nullable(),
    transfers: z.array(json),
    attachments: z.array(z.object({ type: z.string(), url: z.string(), filename: z.string().nullable() }).strict()),
    conversation: z
      .object({ dashboard_id: z.number().nullable(), message_count: z.number().nullable(), customer_name: z.string().nullable(), sender_name: z.string().nullable() })
      .strict()
      .nullable()
      .describe('A chat\'s own details; null for a phone call.'),
  })
  .strict()
  .describe('The normalized call (docs/ARCHITECTURE.md, Payloads): one shape for every sender.');
apiSchemas.add(callSchema, { id: 'Call' });

export const runDetailSchema = runSummarySchema.extend({ call: callSchema, steps: z.array(stepSchema) }).strict();
apiSchemas.add(runDetailSchema, { id: 'RunDetail' });

export const runListSchema = z
  .object({
    runs: z.array(runSummarySchema),
    next_before: z.number().int().nullable().describe('pass as `before` for the next (older) page; null on the last'),
    next_after: z.number().int().nullable().describe('pass as `after` for the page just newer than this one; null on the newest'),
  })
  .strict();
apiSchemas.add(runListSchema, { id: 'RunList' });

export const runReplySchema = z.object({ run: runDetailSchema }).strict();
apiSchemas.add(runReplySchema, { id: 'RunReply' });

export const requeuedSchema = z.object({ status: z.literal('requeued'), run_id: z.number().int(), request_id: z.string() }).strict();
apiSchemas.add(requeuedSchema, { id: 'Requeued' });

export const quarantinedSchema = z
  .object({
    id: z.number().int(),
    request_id: z.string().describe('the request id the rejected delivery was answered with'),
    received_at: timestamp,
    sender: z.string(),
    reason: z.string().nullable(),
    errors: z.array(z.object({ path: z.string(), message: z.string() }).strict()),
    size_bytes: z.number().int().nullable().describe('null once retention purged the body'),
    replayed_at: timestamp.nullable(),
  })
  .strict();
apiSchemas.add(quarantinedSchema, { id: 'QuarantinedDelivery' });

export const quarantineListSchema = z.object({ quarantine: z.array(quarantinedSchema) }).strict();
apiSchemas.add(quarantineListSchema, { id: 'QuarantineList' });

export const replayedSchema = z
  .object({
    status: z.enum(['accepted', 'duplicate']),
    call_id: z.union([z.number(), z.string()]),
    revision: z.number().int(),
    request_id: z.string(),
  })
  .strict();
apiSchemas.add(replayedSchema, { id: 'Replayed' });

export type RunSummaryJson = z.infer<typeof runSummarySchema>;
export type RunDetailJson = z.infer<typeof runDetailSchema>;
export type QuarantinedJson = z.infer<typeof quarantinedSchema>;
