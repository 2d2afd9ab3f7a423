// The call inside a Famulor 2.0 workspace `call.completed` event: the API's call resource (UUID
// ids, from/to numbers, duration_sec). No vendor page documents the webhook body; its fields are
// the ones the vendor's own integrations read: Activepieces' famulor piece
// (common/client.ts flattenCall, triggers' sampleData) and bekservice/n8n-famulor.
import { z } from 'zod';
import { lenientConversationSchemas, strictConversationSchemas } from './conversation-schema.js';
import { count, e164, RAW_CALL_STATUSES, scalar, timestamp, url, uuid, variableKey } from './schema-primitives.js';
import type { SchemaMode } from './schema.js';

/** Keys only the workspace call has: a call event's data with any of them is read as one. */
export const WORKSPACE_CALL_KEYS = [
  'assistant_id',
  'campaign_id',
  'phone_number_id',
  'lead_id',
  'direction',
  'from_number',
  'to_number',
  'started_at',
  'answered_at',
  'ended_at',
  'duration_sec',
  'summary',
  'sentiment',
  'success',
  'analysis',
  'updated_at',
] as const;

export function buildWorkspaceCallSchema(mode: SchemaMode) {
  const object = mode === 'strict' ? z.strictObject : z.object;
  const { chatTurn } = mode === 'strict' ? strictConversationSchemas : lenientConversationSchemas;
  return object({
    id: uuid,
    assistant_id: uuid.nullish(),
    campaign_id: uuid.nullish(),
    phone_number_id: uuid.nullish(),
    lead_id: uuid.nullish(),
    // n8n-famulor's polling events name inbound, outbound and web calls.
    direction: z.enum(['inbound', 'outbound', 'web']).nullish(),
    from_number: e164.nullish(),
    to_number: e164.nullish(),
    status: z.enum(RAW_CALL_STATUSES),
    started_at: timestamp.nullish(),
    answered_at: timestamp.nullish(),
    ended_at: timestamp.nullish(),
    duration_sec: count.nullish(),
    summary: z.string().nullish(),
    sentiment: z.string().max(200).nullish(),
    success: z.boolean().nullish(),
    analysis: z.record(variableKey, scalar).nullish(),
    recording_url: url.nullish(),
    // A string (`assistant: Hello\nuser: Hi`) or messages of {role, content}.
    transcript: z.union([z.string(), z.array(chatTurn)]).nullish(),
    created_at: timestamp.nullish(),
    updated_at: timestamp.nullish(),
  });
}

export const strictWorkspaceCall = buildWorkspaceCallSchema('strict');
export const lenientWorkspaceCall = buildWorkspaceCallSchema('warn');

export type RawWorkspaceCall = z.infer<typeof strictWorkspaceCall>;
