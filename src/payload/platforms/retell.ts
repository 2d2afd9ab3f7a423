// Retell AI: `{event, call}` to the agent's webhook URL; `call_ended`, then `call_analyzed`
// with the same call plus `call_analysis`. Field names and enums from retell-sdk's
// PhoneCallResponse (RetellAI/retell-typescript-sdk src/resources/call.ts), events and
// retries from docs.retellai.com/features/webhook-overview: test/fixtures/platforms/retell/README.md.
import { z } from 'zod';
import type { Call, CallStatus, TranscriptTurn } from '../call.js';
import { scalar, url, variableKey } from '../schema-primitives.js';
import type { PlatformPayload } from './platform-payload.js';
import { platformCall, precallParser, stringVariables } from './platform-call.js';
import { callInboundSchema, isoFromEpoch } from './platform-values.js';

const END_EVENTS = ['call_ended', 'call_analyzed'] as const;
/** Subscribable (retell-sdk `webhook_events`) and the chat events of the same URL: nothing to act on. */
const LIVE_EVENTS = new Set(['call_started', 'transcript_updated', 'transfer_started', 'transfer_bridged', 'transfer_cancelled', 'transfer_ended', 'chat_started', 'chat_ended', 'chat_analyzed']);

const phone = z.string().max(64);
const openRecord = z.record(variableKey, z.unknown());

function buildSchema(lenient: boolean) {
  // Strict in what aftercall reads; the many other documented keys of Retell's call object
  // (latency, costs, telephony ids) pass through in both modes: a refusal is retried 3 times
  // and then lost, and Retell adds keys often.
  const object = z.looseObject;
  const word = object({ start: z.number().nonnegative().nullish() });
  const turn = object({
    role: z.enum(['agent', 'user', 'transfer_target']),
    content: z.string(),
    words: z.array(word).nullish(),
  });
  const analysis = object({
    call_summary: z.string().nullish(),
    call_successful: z.boolean().nullish(),
    user_sentiment: z.string().max(100).nullish(),
    in_voicemail: z.boolean().nullish(),
    custom_analysis_data: openRecord.nullish(),
  });
  const call = object({
    call_id: z.string().min(1).max(200),
    call_type: z.enum(['phone_call', 'web_call']).nullish(),
    agent_id: z.string().max(200).nullish(),
    call_status: z.enum(['registered', 'not_connected', 'ongoing', 'ended', 'error']),
    direction: z.enum(['inbound', 'outbound']).nullish(),
    from_number: phone.nullish(),
    to_number: phone.nullish(),
    start_timestamp: z.number().int().nonnegative().nullish(),
    end_timestamp: z.number().int().nonnegative().nullish(),
    duration_ms: z.number().int().nonnegative().nullish(),
    transcript: z.string().nullish(),
    transcript_object: z.array(turn).nullish(),
    recording_url: url.nullish(),
    disconnection_reason: z.string().max(100).nullish(),
    retell_llm_dynamic_variables: z.record(variableKey, scalar).nullish(),
    collected_dynamic_variables: openRecord.nullish(),
    call_analysis: analysis.nullish(),
  });
  const envelope = (lenient ? z.object : z.strictObject)({ event: z.enum(END_EVENTS), call });
  return envelope;
}

const strict = buildSchema(false);
export type RawRetellEnvelope = z.infer<typeof strict>;
type RawRetellCall = RawRetellEnvelope['call'];

function status(call: RawRetellCall): CallStatus {
  switch (call.call_status) {
    case 'registered':
      return 'initiated';
    case 'ongoing':
      return 'in-progress';
    case 'not_connected':
    case 'error':
      return 'failed';
    case 'ended':
      break;
  }
  const reason = call.disconnection_reason ?? '';
  if (reason === 'user_hangup') return 'ended_by_customer';
  if (reason === 'agent_hangup') return 'ended_by_assistant';
  // voicemail_reached has no counterpart: nobody was reached, as for no answer.
  if (reason === 'dial_no_answer' || reason === 'voicemail_reached') return 'unanswered';
  if (reason === 'dial_busy') return 'busy';
  if (reason === 'dial_failed' || reason.startsWith('error')) return 'failed';
  return 'completed';
}

function turns(call: RawRetellCall): TranscriptTurn[] {
  const startSeconds = call.start_timestamp != null ? call.start_timestamp / 1000 : null;
  return (call.transcript_object ?? []).flatMap((t): TranscriptTurn[] => {
    if (t.role === 'transfer_target') return [];
    // Word times are seconds from the call's start.
    const offset = t.words?.[0]?.start;
    return [{ sender: t.role === 'agent' ? 'bot' : 'human', text: t.content, timestamp: startSeconds !== null && offset != null ? startSeconds + offset : null }];
  });
}

export function normalizeRetell(raw: RawRetellEnvelope): Call {
  const call = raw.call;
  const inbound = call.direction === 'inbound';
  const analysis = call.call_analysis;
  return platformCall({
    id: call.call_id,
    platform: 'retell',
    event: raw.event,
    status: status(call),
    customerPhone: inbound ? call.from_number : call.to_number,
    assistantPhone: inbound ? call.to_number : call.from_number,
    assistantId: call.agent_id ?? null,
    duration: call.duration_ms != null ? call.duration_ms / 1000 : null,
    extracted: [call.collected_dynamic_variables, analysis?.custom_analysis_data],
    verdicts: {
      summary: analysis?.call_summary,
      status: analysis?.call_successful,
      sentiment: analysis?.user_sentiment,
      ended_reason: call.disconnection_reason,
    },
    input: [call.retell_llm_dynamic_variables],
    turns: turns(call),
    text: call.transcript,
    recordingUrl: call.recording_url ?? null,
    createdAt: isoFromEpoch(call.start_timestamp, 'ms'),
    finishedAt: isoFromEpoch(call.end_timestamp, 'ms'),
  });
}

const inboundSchema = callInboundSchema('agent_id');

export const retell: PlatformPayload<RawRetellEnvelope> = {
  platform: 'retell',
  label: 'Retell AI',
  classify(body) {
    const event = body.event;
    if (typeof event !== 'string') return { kind: 'unknown', event: null, path: 'event' };
    if ((END_EVENTS as readonly string[]).includes(event)) return { kind: 'call', event };
    if (LIVE_EVENTS.has(event)) return { kind: 'ignored', event };
    if (event === 'call_inbound') return { kind: 'precall', event };
    return { kind: 'unknown', event, path: 'event' };
  },
  schema: { strict, lenient: buildSchema(true) },
  normalize: normalizeRetell,
  // Retell retries a refusal up to 3 times: an unknown event is kept, replayable.
  unknownEvents: 'quarantine',
  // "Triggered in order, but not blocking" (webhook-overview): a call_ended retry can arrive after call_analyzed.
  supersededBy: { call_ended: ['call_analyzed'] },
  precall: {
    parse: precallParser(inboundSchema, ({ call_inbound: d }) => ({
      customerPhone: d.from_number,
      assistantPhone: d.to_number,
      assistantId: d.agent_id ?? null,
    })),
    // Retell's dynamic variables are strings (retell-sdk: `{ [key: string]: string }`).
    answer: (variables) => ({ call_inbound: { dynamic_variables: stringVariables(variables) } }),
  },
};
