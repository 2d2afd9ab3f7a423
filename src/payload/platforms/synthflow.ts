// Synthflow: the agent's post-call webhook receives the bare call result (no envelope, no event
// name): `status`, `error_message`, `lead`, `call`, `executed_actions`. Synthflow publishes no SDK
// or schema; the payload is documented by example only: docs.synthflow.ai/reference/webhook
// (complete example, our fixture), docs.synthflow.ai/post-call-webhook and /webhooks (`analysis`,
// `custom_end_call_reason`, `collected_variables`), docs.synthflow.ai/changelog/2026/2/4
// (`collected_variables`), /changelog/2026/6/16 (`user-canceled`), /transfer-outcome-states,
// /inbound-webhook (the pre-call `call_inbound` request). Read 2026-12-02:
// test/fixtures/platforms/synthflow/README.md, docs/platforms.md "### Synthflow".
import { z } from 'zod';
import type { Call, CallStatus, TranscriptTurn } from '../call.js';
import { isoDate, parseTranscriptText } from '../normalize.js';
import { CALL_STATUSES, timestamp, url, variableKey } from '../schema-primitives.js';
import type { PlatformPayload } from './platform-payload.js';
import { platformCall, precallParser, stringVariables } from './platform-call.js';
import { callInboundSchema } from './platform-values.js';

const phone = z.string().max(64);
const openRecord = z.record(variableKey, z.unknown());
/** Status and reason words: Synthflow's value tables were not retrievable (UNCONFIRMED), so any short word. */
const word = z.string().max(100);
const EXTRACT_ACTION = 'extract_info_action_type';

/** One `collected_variables` entry (changelog 2026/2/4): `{value, collected}`. */
const collectedEntry = z.looseObject({ value: z.unknown(), collected: z.boolean() });
/**
 * The two changelogs disagree: one writes `collected_variables.<name>`, the other nests the
 * names under the agent id (`collected_variables.<agent id>.<name>`). Both are accepted and flattened.
 */
const collectedVariables = z.record(variableKey, z.union([collectedEntry, z.record(variableKey, collectedEntry)]));

function buildSchema(lenient: boolean) {
  // Strict in what aftercall reads; the other keys of `lead`, `call` and an action pass in both
  // modes (the objects are documented by example only, and the newer example adds keys).
  const object = z.looseObject;
  const action = object({
    name: z.string().max(200).nullish(),
    action_type: z.string().max(200).nullish(),
    // Transfer and custom actions put other outcomes here (transfer-outcome-states): only an
    // extraction's return value is read, and it must be an object of extracted fields.
    return_value: z.unknown().optional(),
  }).superRefine((a, ctx) => {
    if (a.action_type !== EXTRACT_ACTION || a.return_value == null) return;
    if (typeof a.return_value !== 'object' || Array.isArray(a.return_value)) {
      ctx.addIssue({ code: 'custom', path: ['return_value'], message: 'an extract_info action must return an object' });
    }
  });
  const lead = object({
    phone_number: phone.nullish(),
    prompt_variables: openRecord.nullish(),
  });
  const call = object({
    call_id: z.string().min(1).max(200),
    status: word.nullish(),
    end_call_reason: word.nullish(),
    model_id: z.string().max(200).nullish(),
    duration: z.number().nonnegative().nullish(),
    start_time: timestamp.nullish(),
    transcript: z.string().nullish(),
    recording_url: url.nullish(),
    // Where the newer pages put `collected_variables` could not be read (truncated): here or at the top level.
    collected_variables: collectedVariables.nullish(),
  });
  // The body is the result itself, so it is the envelope: strict refuses a top-level key no
  // example documents. `analysis` (quality criteria, not a summary) and `custom_end_call_reason`
  // are documented by the newer pages and not read.
  return (lenient ? z.object : z.strictObject)({
    status: word.nullish(),
    error_message: z.string().max(1000).nullish(),
    lead: lead.nullish(),
    call,
    executed_actions: z.record(z.string().max(200), action).nullish(),
    collected_variables: collectedVariables.nullish(),
    analysis: openRecord.nullish(),
    custom_end_call_reason: z.string().max(1000).nullish(),
  });
}

const strict = buildSchema(false);
export type RawSynthflowResult = z.infer<typeof strict>;
type CollectedVariables = z.infer<typeof collectedVariables>;
type CollectedEntry = z.infer<typeof collectedEntry>;

function isEntry(value: CollectedEntry | Record<string, CollectedEntry>): value is CollectedEntry {
  return typeof value.collected === 'boolean';
}

function status(raw: RawSynthflowResult): CallStatus {
  const value = raw.call.status ?? raw.status ?? '';
  const reason = raw.call.end_call_reason ?? '';
  // The one documented non-completed value: a caller hanging up within the first second
  // (`user-canceled` status, `user_canceled` reason, changelog 2026/6/16).
  if (value === 'user-canceled' || reason === 'user_canceled') return 'ended_by_customer';
  if (value === 'completed') return 'completed';
  // The value table is UNCONFIRMED: a status spelled like one of ours is taken as that status,
  // `no-answer` as unanswered (the API spelling autocalls uses); anything else is a call that
  // ended with an outcome we cannot read, never a guessed success or failure.
  if (value === 'no-answer' || value === 'no_answer') return 'unanswered';
  if ((CALL_STATUSES as readonly string[]).includes(value)) return value as CallStatus;
  return 'ended';
}

/** `{value, collected}` entries, flat or nested under an agent id, as name → value where collected. */
function collectedValues(record: CollectedVariables | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(record ?? {})) {
    if (isEntry(entry)) {
      if (entry.collected) out[key] = entry.value;
      continue;
    }
    for (const [name, inner] of Object.entries(entry)) {
      if (inner.collected) out[name] = inner.value;
    }
  }
  return out;
}

/** The extracted fields of every `extract_info_action_type` action, merged in key order of the actions. */
function extractions(actions: RawSynthflowResult['executed_actions']): Array<Record<string, unknown>> {
  return Object.keys(actions ?? {})
    .sort()
    .flatMap((key) => {
      const a = actions![key]!;
      return a.action_type === EXTRACT_ACTION && a.return_value != null ? [a.return_value as Record<string, unknown>] : [];
    });
}

function turns(transcript: string): TranscriptTurn[] {
  // `bot:` / `human:` lines (the documented example); Synthflow gives no turn times.
  return parseTranscriptText(transcript).map((t) => ({ ...t, text: t.text.trim() }));
}

export function normalizeSynthflow(raw: RawSynthflowResult): Call {
  const call = raw.call;
  const text = (call.transcript ?? '').trim();
  return platformCall({
    id: call.call_id,
    platform: 'synthflow',
    event: null,
    status: status(raw),
    customerPhone: raw.lead?.phone_number,
    // The assistant's number is in no example (UNCONFIRMED): null rather than a guessed key.
    assistantPhone: null,
    assistantId: call.model_id ?? null,
    // Seconds in both examples (32, 113); the unit is not stated (UNCONFIRMED).
    duration: call.duration ?? null,
    extracted: [...extractions(raw.executed_actions), collectedValues(raw.collected_variables), collectedValues(call.collected_variables)],
    // No summary and no success flag are documented (`analysis` holds per-criterion quality
    // grades): `summary` and `status` stay absent. The reason is kept as for Vapi.
    verdicts: { ended_reason: call.end_call_reason },
    input: [raw.lead?.prompt_variables],
    turns: turns(text),
    text,
    recordingUrl: call.recording_url ?? null,
    createdAt: isoDate(call.start_time),
    // No end time is sent; start + duration would rest on the unconfirmed unit, so none.
    finishedAt: null,
  });
}

const inboundSchema = callInboundSchema('model_id');

export const synthflow: PlatformPayload<RawSynthflowResult> = {
  platform: 'synthflow',
  label: 'Synthflow',
  classify(body) {
    // The post-call body has no event name; the only documented event on a Synthflow URL is the
    // inbound webhook's `call_inbound`. No live events and no tool-call messages are documented
    // for this URL (custom actions call the user's own endpoints), so nothing is `ignored` or
    // `unanswerable`: any other named event is unknown.
    if ('event' in body) {
      if (body.event === 'call_inbound') return { kind: 'precall', event: 'call_inbound' };
      return { kind: 'unknown', event: typeof body.event === 'string' ? body.event : null, path: 'event' };
    }
    const call = body.call;
    if (call && typeof call === 'object' && !Array.isArray(call) && 'call_id' in call) return { kind: 'call', event: null };
    return { kind: 'unknown', event: null, path: 'call.call_id' };
  },
  schema: { strict, lenient: buildSchema(true) },
  normalize: normalizeSynthflow,
  // Retries are not documented (UNCONFIRMED; deliveries are only visible in the Webhook logs):
  // an unknown body is kept, replayable, rather than counted and dropped.
  unknownEvents: 'quarantine',
  precall: {
    parse: precallParser(inboundSchema, ({ call_inbound: d }) => ({
      customerPhone: d.from_number,
      assistantPhone: d.to_number,
      // The agent Synthflow would use (optional in the docs). No call id, time or status is sent.
      assistantId: d.model_id || null,
    })),
    // Never an empty `call_inbound`: Synthflow disconnects the call on `{}`. `override_model_id: ""`
    // keeps the receiving agent. The documented values are strings; other scalars are sent as
    // their JSON text (value types UNCONFIRMED), as for Retell.
    answer: (variables) => ({
      call_inbound: {
        override_model_id: '',
        custom_variables: stringVariables(variables),
      },
    }),
  },
};
