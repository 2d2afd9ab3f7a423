// Vapi: every Server URL message is `{message: {type, …}}`; the end-of-call event is
// `end-of-call-report` with `call`, `artifact` (transcript, messages, recording) and `analysis`
// (summary, structuredData, successEvaluation). Field names from @vapi-ai/server-sdk 2.0.0
// (VapiAI/server-sdk-typescript @7ec0a68, src/api/types/ServerMessage*.ts, Artifact.ts,
// Analysis.ts, Call.ts, AssistantOverrides.ts), message types, the assistant-request and its
// 7.5 s answer from docs.vapi.ai/server-url/events (VapiAI/docs @eabfa53), retries from
// Server.ts `backoffPlan` (none by default): test/fixtures/platforms/vapi/README.md.
import { z } from 'zod';
import type { Call, CallStatus, TranscriptTurn } from '../call.js';
import { isoDate, parseTranscriptText } from '../normalize.js';
import { timestamp, url, variableKey } from '../schema-primitives.js';
import type { PlatformPayload } from './platform-payload.js';
import { platformCall, precallParser } from './platform-call.js';
import { isoFromEpoch } from './platform-values.js';

const END_EVENT = 'end-of-call-report';
const PRECALL_EVENT = 'assistant-request';
/** The documented messages that expect an answer aftercall does not give (docs events.mdx). */
const REQUEST_EVENTS = new Set(['tool-calls', 'transfer-destination-request', 'knowledge-base-request']);
/** Documented informational messages (sent per assistant `serverMessages`): nothing to act on. */
const LIVE_EVENTS = new Set(['status-update', 'conversation-update', 'transcript', 'hang', 'speech-update', 'model-output', 'user-interrupted']);

const phone = z.string().max(64);
const openRecord = z.record(variableKey, z.unknown());
const numbered = z.looseObject({ number: phone.nullish() });

function buildSchema(lenient: boolean) {
  // Strict in what aftercall reads; every other key of `message`, `call`, `artifact` and
  // `analysis` passes in both modes: `call` alone has ~40 optional fields plus nested DTOs, Vapi
  // releases often, and a refused report is not resent (no retries by default). The SDK marks
  // `endedReason`, `artifact` and `analysis` required, yet the docs' own example has none of
  // them, so all three are optional here.
  const object = z.looseObject;
  const turn = object({
    // A free string in the SDK (system, tool_calls, … interleaved): only assistant/bot/user are read.
    role: z.string().max(100),
    message: z.string().nullish(),
    time: z.number().nonnegative().nullish(),
  });
  const structuredOutput = object({ name: z.string().max(200).nullish(), result: z.unknown() });
  const artifact = object({
    recordingUrl: url.nullish(),
    stereoRecordingUrl: url.nullish(),
    transcript: z.string().nullish(),
    messages: z.array(turn).nullish(),
    structuredOutputs: z.record(variableKey, structuredOutput).nullish(),
  });
  const analysis = object({
    summary: z.string().nullish(),
    structuredData: openRecord.nullish(),
    // A string whose form depends on the rubric (PassFail "true"/"false", NumericScale "1"…"10", …).
    successEvaluation: z.string().max(1000).nullish(),
  });
  const call = object({
    id: z.string().min(1).max(200),
    createdAt: timestamp.nullish(),
    startedAt: timestamp.nullish(),
    endedAt: timestamp.nullish(),
    endedReason: z.string().max(200).nullish(),
    assistantId: z.string().max(200).nullish(),
    customer: numbered.nullish(),
    assistantOverrides: object({ variableValues: openRecord.nullish() }).nullish(),
  });
  const message = object({
    type: z.literal(END_EVENT),
    endedReason: z.string().max(200).nullish(),
    startedAt: timestamp.nullish(),
    endedAt: timestamp.nullish(),
    phoneNumber: numbered.nullish(),
    customer: numbered.nullish(),
    call,
    artifact: artifact.nullish(),
    analysis: analysis.nullish(),
  });
  return (lenient ? z.object : z.strictObject)({ message });
}

const strict = buildSchema(false);
export type RawVapiEnvelope = z.infer<typeof strict>;
type RawVapiMessage = RawVapiEnvelope['message'];

/** `endedReason` (572 SDK values) onto CALL_STATUSES, as docs/platforms.md proposes. */
function status(reason: string | null | undefined): CallStatus {
  switch (reason) {
    case 'customer-ended-call':
      return 'ended_by_customer';
    case 'assistant-ended-call':
      return 'ended_by_assistant';
    // voicemail has no counterpart: nobody was reached, as for Retell's voicemail_reached.
    case 'customer-did-not-answer':
    case 'voicemail':
      return 'unanswered';
    case 'customer-busy':
      return 'busy';
  }
  // pipeline-error-*, call.*error* …; no reason at all (the docs example may lack it) is an ended call.
  if (reason && reason.includes('error')) return 'failed';
  return 'completed';
}

/** Epoch ms when it has the magnitude of one; the SDK does not give `time`'s unit (ms in the docs' ivr example). */
function epochSeconds(ms: number | null | undefined): number | null {
  return ms != null && ms >= 1e11 ? ms / 1000 : null;
}

function turns(message: RawVapiMessage): TranscriptTurn[] {
  const messages = message.artifact?.messages;
  if (!messages) {
    // Without messages only the text is left; the docs example writes it on ONE line, which a
    // line-based parse would read as a single bot turn, so a one-line text yields no turns.
    const text = message.artifact?.transcript ?? '';
    return text.trim().includes('\n') ? parseTranscriptText(text) : [];
  }
  return messages.flatMap((m): TranscriptTurn[] => {
    // `bot` is an UNCONFIRMED spelling the docs table allows; system, tool calls and others are left out.
    const sender = m.role === 'assistant' || m.role === 'bot' ? 'bot' : m.role === 'user' ? 'human' : null;
    if (!sender || m.message == null) return [];
    return [{ sender, text: m.message, timestamp: epochSeconds(m.time) }];
  });
}

function durationSeconds(startedAt: string | null, endedAt: string | null): number | null {
  if (!startedAt || !endedAt) return null;
  const ms = Date.parse(endedAt) - Date.parse(startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : null;
}

/** `artifact.structuredOutputs` is keyed by output id with `{name, result}`: by name, else by id. */
function structuredOutputs(outputs: Record<string, { name?: string | null; result?: unknown }> | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const id of Object.keys(outputs ?? {}).sort()) {
    const output = outputs![id]!;
    out[output.name || id] = output.result ?? null;
  }
  return out;
}

export function normalizeVapi(raw: RawVapiEnvelope): Call {
  const message = raw.message;
  const call = message.call;
  const analysis = message.analysis;
  const reason = message.endedReason ?? call.endedReason ?? null;
  // Only a PassFail rubric's "true"/"false" is a success flag; any other grade stays out of `status`.
  const evaluation = analysis?.successEvaluation;
  const startedAt = isoDate(message.startedAt ?? call.startedAt);
  const endedAt = isoDate(message.endedAt ?? call.endedAt);
  const artifact = message.artifact;
  return platformCall({
    id: call.id,
    platform: 'vapi',
    event: message.type,
    status: status(reason),
    customerPhone: message.customer?.number ?? call.customer?.number,
    assistantPhone: message.phoneNumber?.number,
    assistantId: call.assistantId ?? null,
    duration: durationSeconds(startedAt, endedAt),
    extracted: [analysis?.structuredData, structuredOutputs(artifact?.structuredOutputs)],
    verdicts: {
      summary: analysis?.summary,
      status: evaluation === 'true' || evaluation === 'false' ? evaluation === 'true' : null,
      ended_reason: reason,
    },
    input: [call.assistantOverrides?.variableValues],
    turns: turns(message),
    text: artifact?.transcript,
    recordingUrl: artifact?.recordingUrl ?? artifact?.stereoRecordingUrl ?? null,
    createdAt: startedAt ?? isoDate(call.createdAt),
    finishedAt: endedAt,
  });
}

const assistantRequestSchema = z.looseObject({
  message: z.looseObject({
    type: z.literal(PRECALL_EVENT),
    timestamp: z.number().nonnegative().nullish(),
    phoneNumber: numbered.nullish(),
    customer: numbered.nullish(),
    call: z
      .looseObject({
        id: z.string().max(200).nullish(),
        status: z.string().max(64).nullish(),
        assistantId: z.string().max(200).nullish(),
        customer: numbered.nullish(),
        assistantOverrides: z.looseObject({ variableValues: openRecord.nullish() }).nullish(),
      })
      .nullish(),
  }),
});

/** The message's `timestamp` unit is not documented (the fixture's is ms): read by magnitude. */
function isoFromStamp(value: number | null | undefined): string | null {
  if (value == null) return null;
  return isoFromEpoch(value, value >= 1e11 ? 'ms' : 's');
}

/** The mapping may name the assistant with this variable; it becomes the answer's `assistantId`. */
export const VAPI_ASSISTANT_ID_VARIABLE = 'assistantId';

export const vapi: PlatformPayload<RawVapiEnvelope> = {
  platform: 'vapi',
  label: 'Vapi',
  classify(body) {
    const message = body.message;
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return { kind: 'unknown', event: null, path: 'message' };
    const type = (message as Record<string, unknown>).type;
    if (typeof type !== 'string') return { kind: 'unknown', event: null, path: 'message.type' };
    if (type === END_EVENT) return { kind: 'call', event: type };
    if (type === PRECALL_EVENT) return { kind: 'precall', event: type };
    if (REQUEST_EVENTS.has(type)) return { kind: 'unanswerable', event: type, path: 'message.type' };
    if (LIVE_EVENTS.has(type)) return { kind: 'ignored', event: type };
    return { kind: 'unknown', event: type, path: 'message.type' };
  },
  schema: { strict, lenient: buildSchema(true) },
  normalize: normalizeVapi,
  // Vapi does not retry by default (Server.backoffPlan undefined), so a 4xx would only lose the
  // message: an undocumented type is answered 200, counted and logged (docs/platforms.md).
  unknownEvents: 'ignore',
  precall: {
    parse: precallParser(assistantRequestSchema, ({ message: m }) => ({
      customerPhone: m.customer?.number ?? m.call?.customer?.number,
      assistantPhone: m.phoneNumber?.number,
      // Sent because the number has no assistant: usually absent.
      assistantId: m.call?.assistantId ?? null,
      callId: m.call?.id || null,
      timestamp: isoFromStamp(m.timestamp),
      status: m.call?.status ?? null,
      variables: { ...(m.call?.assistantOverrides?.variableValues ?? {}) },
    })),
    // The answer is top level (not wrapped): `{assistantId, assistantOverrides: {variableValues}}`
    // (events.mdx, ServerMessageResponseAssistantRequest). Vapi needs an assistant named, which
    // only the mapping knows: a string `assistantId` variable is lifted to the top level.
    // Without it the answer carries only the overrides, and Vapi's handling of that is UNCONFIRMED.
    answer(variables) {
      const { [VAPI_ASSISTANT_ID_VARIABLE]: assistantId, ...rest } = variables;
      if (typeof assistantId === 'string' && assistantId) return { assistantId, assistantOverrides: { variableValues: rest } };
      return { assistantOverrides: { variableValues: variables } };
    },
  },
};
