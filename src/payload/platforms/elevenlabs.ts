// ElevenLabs Agents: `{type, event_timestamp, data}` to the workspace's post-call webhook;
// `post_call_transcription` is the end-of-call event (`data` matches the GET Conversation
// response), `post_call_audio` (base64 MP3, sent separately) and `call_initiation_failure` are
// not acted on. Field names from @elevenlabs/elevenlabs-js 2.56.0 (src/api/types/
// ConversationHistory*CommonModel.ts, DataCollectionResultCommonModel.ts, EvaluationSuccessResult.ts,
// WebhookEventType.ts and src/serialization/types/* for the wire names), events, retries and the
// conversation initiation webhook from elevenlabs-docs (post-call-webhook.mdx,
// twilio-inbound-integration.mdx, dynamic-variables.mdx): test/fixtures/platforms/elevenlabs/README.md.
import { z } from 'zod';
import type { Call, Scalar, TranscriptTurn } from '../call.js';
import { scalar, variableKey } from '../schema-primitives.js';
import type { PlatformPayload } from './platform-payload.js';
import { platformCall, precallParser } from './platform-call.js';
import { isoFromEpoch } from './platform-values.js';

const END_EVENT = 'post_call_transcription';
/** Documented body `type`s of the same URL aftercall does not act on. */
const UNUSED_EVENTS = new Set(['post_call_audio', 'call_initiation_failure']);
/**
 * The conversation initiation client data webhook has no `type` of its own; this name (the
 * SDK's `ConversationInitiationClientDataWebhook`, the answer's `type`) stands for it.
 */
const PRECALL_EVENT = 'conversation_initiation_client_data';
const PRECALL_FIELDS = ['caller_id', 'called_number', 'call_sid'] as const;

const phone = z.string().max(64);

function buildSchema(lenient: boolean) {
  // Strict in what aftercall reads; every other key of `data` passes in both modes: the
  // migration notice says handlers must "gracefully handle additional fields", and ElevenLabs
  // does not retry a refusal by default (it only counts towards auto-disabling the webhook).
  const object = z.looseObject;
  const turn = object({
    role: z.enum(['agent', 'user']),
    // Optional in the SDK: tool-call turns may carry none.
    message: z.string().nullish(),
    time_in_call_secs: z.number().nonnegative().nullish(),
  });
  const phoneCall = object({
    type: z.string().max(100).nullish(),
    direction: z.enum(['inbound', 'outbound']).nullish(),
    agent_number: phone.nullish(),
    external_number: phone.nullish(),
  });
  const metadata = object({
    start_time_unix_secs: z.number().int().nonnegative(),
    call_duration_secs: z.number().nonnegative(),
    // Absent for web conversations.
    phone_call: phoneCall.nullish(),
  });
  const analysis = object({
    transcript_summary: z.string().nullish(),
    call_successful: z.enum(['success', 'failure', 'unknown']).nullish(),
    data_collection_results: z.record(variableKey, object({ value: z.unknown().optional() })).nullish(),
    evaluation_criteria_results: z.record(variableKey, object({ result: z.enum(['success', 'failure', 'unknown']) })).nullish(),
  });
  const initiation = object({
    // string, number, integer or boolean in the SDK; null is let through as "no value".
    dynamic_variables: z.record(variableKey, scalar).nullish(),
  });
  const data = object({
    agent_id: z.string().max(200).nullish(),
    conversation_id: z.string().min(1).max(200),
    // Only `done` is documented for this webhook; any other value fails the schema (kept in
    // quarantine) until its meaning is documented (docs/platforms.md, UNCONFIRMED).
    status: z.literal('done'),
    transcript: z.array(turn).nullish(),
    metadata,
    analysis: analysis.nullish(),
    conversation_initiation_client_data: initiation.nullish(),
  });
  return (lenient ? z.object : z.strictObject)({
    type: z.literal(END_EVENT),
    event_timestamp: z.number().int().nonnegative().nullish(),
    data,
  });
}

const strict = buildSchema(false);
export type RawElevenLabsEnvelope = z.infer<typeof strict>;
type RawElevenLabsData = RawElevenLabsEnvelope['data'];

function turns(data: RawElevenLabsData): TranscriptTurn[] {
  const start = data.metadata.start_time_unix_secs;
  return (data.transcript ?? []).flatMap((t): TranscriptTurn[] => {
    if (!t.message) return [];
    const offset = t.time_in_call_secs;
    return [{ sender: t.role === 'agent' ? 'bot' : 'human', text: t.message, timestamp: offset != null ? start + offset : null }];
  });
}

/** `{id: {value}}` → `{id: value}` (data collection), `{id: {result}}` → `{id: result}` (criteria). */
function flatten<K extends string>(results: Record<string, Partial<Record<K, unknown>>> | null | undefined, field: K): Record<string, unknown> | null {
  if (!results) return null;
  return Object.fromEntries(Object.entries(results).map(([id, r]) => [id, r[field]]));
}

export function normalizeElevenLabs(raw: RawElevenLabsEnvelope): Call {
  const data = raw.data;
  const meta = data.metadata;
  const analysis = data.analysis;
  // `unknown` is no verdict: absent, never false.
  const verdict = analysis?.call_successful;
  return platformCall({
    id: data.conversation_id,
    platform: 'elevenlabs',
    event: raw.type,
    status: 'completed',
    // `external_number` is the other party whatever the direction, `agent_number` ours.
    customerPhone: meta.phone_call?.external_number,
    assistantPhone: meta.phone_call?.agent_number,
    assistantId: data.agent_id ?? null,
    duration: meta.call_duration_secs,
    // Later records win on a shared key: criteria < data collection < summary/status.
    extracted: [flatten(analysis?.evaluation_criteria_results, 'result'), flatten(analysis?.data_collection_results, 'value')],
    verdicts: {
      summary: analysis?.transcript_summary,
      status: verdict === 'success' ? true : verdict === 'failure' ? false : null,
    },
    input: [data.conversation_initiation_client_data?.dynamic_variables],
    turns: turns(data),
    // No URL: audio comes only as base64 in `post_call_audio` or from the conversation audio API.
    recordingUrl: null,
    createdAt: isoFromEpoch(meta.start_time_unix_secs, 's'),
    finishedAt: isoFromEpoch(meta.start_time_unix_secs + meta.call_duration_secs, 's'),
  });
}

// The documented parameters of the conversation initiation request (Twilio inbound); others pass.
const precallSchema = z.looseObject({
  caller_id: phone.nullish(),
  agent_id: z.string().max(200).nullish(),
  called_number: phone.nullish(),
  call_sid: z.string().max(200).nullish(),
});

function isPrecall(body: Record<string, unknown>): boolean {
  return body.type === undefined && PRECALL_FIELDS.some((k) => typeof body[k] === 'string');
}

/** A dynamic variable's value as the SDK allows it: string, number or boolean. */
function dynamicValue(value: unknown): string | number | boolean {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  // null has no counterpart and the answer "must contain all dynamic variables defined for the
  // agent", so the key is kept with an empty string rather than dropped (not documented).
  if (value === null || value === undefined) return '';
  return JSON.stringify(value);
}

export const elevenlabs: PlatformPayload<RawElevenLabsEnvelope> = {
  platform: 'elevenlabs',
  label: 'ElevenLabs Agents',
  classify(body) {
    const type = body.type;
    if (type === undefined && isPrecall(body)) return { kind: 'precall', event: PRECALL_EVENT };
    if (typeof type !== 'string') return { kind: 'unknown', event: null, path: 'type' };
    if (type === END_EVENT) return { kind: 'call', event: type };
    if (UNUSED_EVENTS.has(type)) return { kind: 'ignored', event: type };
    // No request/response message is documented on this URL (server tools call their own
    // URLs with bodies the agent's author defines), so nothing is classed 'unanswerable'.
    return { kind: 'unknown', event: type, path: 'type' };
  },
  schema: { strict, lenient: buildSchema(true) },
  normalize: normalizeElevenLabs,
  // No retries by default, and refusals count towards auto-disabling the webhook: an
  // undocumented type is answered 200, counted and logged (docs/platforms.md).
  unknownEvents: 'ignore',
  precall: {
    parse: precallParser(precallSchema, (d) => ({
      customerPhone: d.caller_id,
      assistantPhone: d.called_number,
      assistantId: d.agent_id || null,
      callId: d.call_sid || null,
    })),
    answer: (variables) => {
      const dynamic: Record<string, Scalar> = {};
      for (const key of Object.keys(variables).sort()) dynamic[key] = dynamicValue(variables[key]);
      return { type: PRECALL_EVENT, dynamic_variables: dynamic };
    },
  },
};
