// Bland AI: the send-call request's `webhook` URL receives, when the call ends, the bare Call
// Details object (no envelope, no event name). Field names, units and value lists from
// docs.bland.ai/api-v1/get/calls-id (Call Details) and docs.bland.ai/platform/agent-quickstart;
// re-sending from docs.bland.ai/api-v1/post/postcall-webhooks-create. Read 2026-12-02:
// test/fixtures/platforms/bland/README.md, docs/platforms.md "### Bland".
import { z } from 'zod';
import type { Call, CallStatus, TranscriptTurn } from '../call.js';
import { isoDate, parseTranscriptText } from '../normalize.js';
import { timestamp, url, variableKey } from '../schema-primitives.js';
import type { PlatformPayload } from './platform-payload.js';
import { platformCall } from './platform-call.js';

const phone = z.string().max(64);
const openRecord = z.record(variableKey, z.unknown());
/** Free-text status words: the docs' own example (`queue_status: "completed"`) is not in its value list (`complete`). */
const word = z.string().max(100);

/**
 * The variables Bland fills in itself (the Call Details example's `variables`): the call's own
 * data again, not extraction. Everything else in `variables` (dynamic_data, custom-tool values,
 * `input`) is kept.
 */
const SYSTEM_VARIABLES = new Set(['now', 'now_utc', 'short_from', 'short_to', 'from', 'to', 'call_id', 'phone_number', 'city', 'country', 'state', 'zip']);

function buildSchema(lenient: boolean) {
  const turn = z.looseObject({
    // The field list gives no type for a turn's id (number in the fixture): UNCONFIRMED, so either.
    id: z.union([z.number(), z.string().max(200)]).nullish(),
    created_at: timestamp.nullish(),
    text: z.string(),
    user: z.enum(['user', 'assistant', 'robot', 'agent-action']),
  });
  // The body is the call object itself, so it is the envelope: strict mode refuses a key the
  // Call Details page does not document, lenient mode strips it. Keys aftercall does not read
  // are listed as unknown so that every documented key passes.
  const call = (lenient ? z.object : z.strictObject)({
    // The field list says "number", the example a uuid string: either.
    call_id: z.union([z.string().min(1).max(200), z.number().int().nonnegative()]),
    c_id: z.unknown().optional(),
    call_length: z.number().nonnegative().nullish(),
    batch_id: z.unknown().optional(),
    to: phone.nullish(),
    from: phone.nullish(),
    inbound: z.boolean().nullish(),
    request_data: openRecord.nullish(),
    completed: z.boolean().nullish(),
    created_at: timestamp.nullish(),
    started_at: timestamp.nullish(),
    end_at: timestamp.nullish(),
    queue_status: word.nullish(),
    status: word.nullish(),
    endpoint_url: z.unknown().optional(),
    max_duration: z.unknown().optional(),
    error_message: z.string().nullish(),
    variables: openRecord.nullish(),
    answered_by: word.nullish(),
    record: z.unknown().optional(),
    recording_url: url.nullish(),
    metadata: openRecord.nullish(),
    summary: z.string().nullish(),
    price: z.unknown().optional(),
    local_dialing: z.unknown().optional(),
    call_ended_by: word.nullish(),
    pathway_logs: z.unknown().optional(),
    analysis_schema: z.unknown().optional(),
    analysis: openRecord.nullish(),
    concatenated_transcript: z.string().nullish(),
    transcripts: z.array(turn).nullish(),
  });
  return call;
}

const strict = buildSchema(false);
export type RawBlandCall = z.infer<typeof strict>;

/** Queue states before the call ran (`new`…`allocated`) or while it runs (`started`). */
const QUEUED = new Set(['new', 'queued', 'allocated']);
/** `complete_error` is left out: "Error occurred after the call was completed. Ex. A post-call webhook failed." */
const FAILED_QUEUE = new Set(['pre_queue_error', 'queue_error', 'call_error']);

function status(call: RawBlandCall): CallStatus {
  const answeredBy = call.answered_by ?? '';
  // voicemail has no counterpart: nobody was reached, as for no answer (as for Retell).
  if (answeredBy === 'no-answer' || answeredBy === 'voicemail') return 'unanswered';
  const queue = call.queue_status ?? '';
  if (FAILED_QUEUE.has(queue)) return 'failed';
  if (call.call_ended_by === 'USER') return 'ended_by_customer';
  if (call.call_ended_by === 'ASSISTANT') return 'ended_by_assistant';
  if (call.completed === true) return 'completed';
  // Not completed and no one ended it: where the queue says it is; otherwise neither a success
  // nor a failure is claimed (`ended`), unless Bland gave an error message.
  if (QUEUED.has(queue)) return 'initiated';
  if (queue === 'started') return 'in-progress';
  if (call.error_message) return 'failed';
  return 'ended';
}

function epochSeconds(value: string | null | undefined): number | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms / 1000;
}

function turns(call: RawBlandCall): TranscriptTurn[] {
  if (!call.transcripts?.length) return call.concatenated_transcript ? parseTranscriptText(call.concatenated_transcript) : [];
  return call.transcripts.flatMap((t): TranscriptTurn[] => {
    // `robot` and `agent-action` are neither party (docs/platforms.md: other roles are left out).
    if (t.user !== 'assistant' && t.user !== 'user') return [];
    return [{ sender: t.user === 'assistant' ? 'bot' : 'human', text: t.text, timestamp: epochSeconds(t.created_at) }];
  });
}

function customVariables(variables: Record<string, unknown> | null | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(variables ?? {}).filter(([key]) => !SYSTEM_VARIABLES.has(key)));
}


export function normalizeBland(call: RawBlandCall): Call {
  const inbound = call.inbound === true;
  return platformCall({
    id: call.call_id,
    platform: 'bland',
    event: null,
    status: status(call),
    // `to` "received the call", `from` "made the call"; `inbound` absent is the send-call (outbound) case.
    customerPhone: inbound ? call.from : call.to,
    assistantPhone: inbound ? call.to : call.from,
    assistantId: null,
    // `call_length` is minutes; rounded to milliseconds so 0.1 min is 6 s, not 6.000000000000001.
    duration: call.call_length != null ? Math.round(call.call_length * 60_000) / 1000 : null,
    // `variables.input` and other nested values are kept as JSON text, keys sorted.
    extracted: [customVariables(call.variables), call.analysis],
    // No success flag is documented: `status` stays absent rather than guessed from `completed`.
    verdicts: { summary: call.summary },
    input: [call.request_data, call.metadata],
    turns: turns(call),
    text: call.concatenated_transcript,
    recordingUrl: call.recording_url ?? null,
    createdAt: isoDate(call.started_at ?? call.created_at),
    // `end_at` is the max-duration cut-off, not the end; no end time is documented.
    finishedAt: null,
  });
}

export const bland: PlatformPayload<RawBlandCall> = {
  platform: 'bland',
  label: 'Bland AI',
  classify(body) {
    // No event name: the post-call body is the call object. `webhook_events` (live events on
    // the same URL) are not researched, so a body naming an event is unknown, not ignored.
    if (typeof body.event === 'string') return { kind: 'unknown', event: body.event, path: 'event' };
    // A call id of the wrong type is the schema's to name, with its path.
    if ('call_id' in body) return { kind: 'call', event: null };
    return { kind: 'unknown', event: null, path: 'call_id' };
  },
  schema: { strict, lenient: buildSchema(true) },
  normalize: normalizeBland,
  // Retries are not documented (UNCONFIRMED) and re-sending is a manual API call: an unknown body
  // is kept, replayable, rather than counted and dropped.
  unknownEvents: 'quarantine',
  // No pre-call variables request on this URL (README point 4).
};
