// The shape of a mapping file (mappings/*.yaml), as zod; the editor's JSON Schema comes from it.
import { z } from 'zod';
import { CHANNELS, PLATFORMS, VARIANTS } from '../payload/call.js';
import { RAW_CALL_STATUSES } from '../payload/schema.js';
import { scoreSchema } from '../scoring/score.js';
import { inboundSectionSchema } from './inbound-section.js';
import { variablesSchema } from './variables.js';

const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as Array<z.output<T>>);

export const matchSchema = z
  .strictObject({
    status: oneOrMany(z.enum(RAW_CALL_STATUSES))
      .describe('Call statuses this mapping handles (no-answer is read as unanswered).')
      .optional(),
    platform: oneOrMany(z.enum(PLATFORMS))
      .describe('Platforms that placed the call: autocalls (autocalls.ai, Famulor, OtoniStark), retell, vapi, elevenlabs, synthflow, bland.')
      .optional(),
    variant: oneOrMany(z.enum(VARIANTS)).describe('Sender variants: autocalls, otonistark, famulor; for another platform its name.').optional(),
    channel: oneOrMany(z.enum(CHANNELS))
      .describe('phone for calls; widget or whatsapp for chats (the conversation-ended webhook).')
      .optional(),
    event: oneOrMany(z.string().regex(/^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)+$/, 'must be an event name such as call.completed, conversation.ended or call_analyzed'))
      .describe("Event names: conversation.ended for every chat; call.* for calls in the 2.0 event envelope (a classic post-call webhook has none); another platform's own (Retell call_ended, call_analyzed).")
      .optional(),
    assistant_phone: oneOrMany(z.string().regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 phone number'))
      .describe("The assistant's phone numbers (E.164).")
      .optional(),
    campaign: oneOrMany(z.union([z.string().min(1), z.number().int()]))
      .describe('Campaign names or ids.')
      .optional(),
  })
  .describe('All given keys must match; an empty match takes every call.');

export const stepSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lowercase letters, digits and underscores, starting with a letter')
    .describe('Unique within the mapping; later steps read this step as steps.<id>.'),
  use: z.string().describe('The step kind, e.g. http.request.'),
  description: z.string().optional(),
  when: z.string().min(1).optional().describe('JSONata condition; the step is skipped when it is false.'),
  repeat: z
    .enum(['on-change', 'never', 'always'])
    .optional()
    .describe('What a new revision of the call does with this step (default depends on the step kind).'),
  with: z.record(z.string(), z.unknown()).default({}).describe('The step input; strings may hold {{ expressions }}.'),
  retry: z
    .strictObject({
      max_attempts: z.number().int().min(1).max(100).optional().describe('Overrides RETRY_MAX_ATTEMPTS for failures of this step.'),
      base_delay_ms: z.number().int().min(1).optional().describe('Overrides RETRY_BASE_DELAY_MS.'),
      max_delay_ms: z.number().int().min(1).optional().describe('Overrides RETRY_MAX_DELAY_MS.'),
    })
    .optional()
    .describe('Retry limits for this step.'),
});

export const mappingFileSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lowercase letters, digits, "-" and "_"')
    .describe('Unique name of this use case.'),
  description: z.string().optional(),
  enabled: z.boolean().default(true),
  match: matchSchema.default({}),
  variables: variablesSchema.optional(),
  score: scoreSchema.optional().describe('Lead scoring; the result is `score.value` and `score.band` in later expressions.'),
  steps: z.array(stepSchema).min(1, 'needs at least one step'),
  inbound: inboundSectionSchema.optional(),
});

export type MappingFile = z.output<typeof mappingFileSchema>;
export type MappingStepFile = z.output<typeof stepSchema>;
