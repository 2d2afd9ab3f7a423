// The normalized Call and the pre-call request every platform module builds from the facts its
// payload gives. One builder each, because the Call's key order is part of its content hash
// (content-hash.ts hashes plain JSON) and must not drift between platforms.
import type { z } from 'zod';
import type { Call, CallStatus, OtherPlatform, TranscriptTurn } from '../call.js';
import { turnsText } from '../normalize.js';
import { payloadIssues } from '../payload-issues.js';
import type { InboundRequest } from '../../ingest/inbound/inbound-request.js';
import type { PlatformPayload } from './platform-payload.js';
import { absentAutocallsParts, phoneOrNull, scalarVariables } from './platform-values.js';

type OpenRecord = Record<string, unknown> | null | undefined;

/** A platform's own verdicts on the call, under the names mappings read; null is none given. */
export interface CallVerdicts {
  summary?: string | null;
  status?: boolean | null;
  sentiment?: string | null;
  ended_reason?: string | null;
}

export interface PlatformCallFacts {
  id: Call['id'];
  platform: OtherPlatform;
  event: string | null;
  status: CallStatus;
  customerPhone: string | null | undefined;
  assistantPhone: string | null | undefined;
  assistantId: Call['assistant_id'];
  duration: number | null;
  /** Open records, a later one winning on a shared key; the verdicts win over all. */
  extracted: readonly OpenRecord[];
  verdicts: CallVerdicts;
  input: readonly OpenRecord[];
  turns: TranscriptTurn[];
  /** The platform's own transcript text; the turns' text when empty or absent. */
  text?: string | null;
  recordingUrl: string | null;
  createdAt: string | null;
  finishedAt: string | null;
}

function verdictRecord(verdicts: CallVerdicts): Record<string, unknown> {
  return Object.fromEntries(Object.entries(verdicts).filter(([, value]) => value != null));
}

export function platformCall(facts: PlatformCallFacts): Call {
  return {
    id: facts.id,
    platform: facts.platform,
    variant: facts.platform,
    event: facts.event,
    channel: 'phone',
    status: facts.status,
    customer_phone: phoneOrNull(facts.customerPhone),
    assistant_phone: phoneOrNull(facts.assistantPhone),
    assistant_id: facts.assistantId,
    duration: facts.duration,
    extracted_variables: scalarVariables(...facts.extracted, verdictRecord(facts.verdicts)),
    input_variables: scalarVariables(...facts.input),
    transcript: { turns: facts.turns, text: facts.text || turnsText(facts.turns) },
    recording_url: facts.recordingUrl,
    created_at: facts.createdAt,
    finished_at: facts.finishedAt,
    ...absentAutocallsParts(),
  };
}

type PrecallParse = NonNullable<PlatformPayload['precall']>['parse'];

export interface PrecallFacts {
  customerPhone: string | null | undefined;
  assistantPhone: string | null | undefined;
  assistantId: string | null;
  callId?: string | null;
  timestamp?: string | null;
  status?: string | null;
  variables?: Record<string, unknown>;
}

/** A pre-call body checked against the platform's schema and read as the inbound mechanism's request. */
export function precallParser<Schema extends z.ZodType<unknown>>(schema: Schema, read: (data: z.output<Schema>) => PrecallFacts): PrecallParse {
  return (body) => {
    const parsed = schema.safeParse(body);
    if (!parsed.success) return { ok: false, issues: payloadIssues(parsed.error) };
    const facts = read(parsed.data);
    const request: InboundRequest = {
      customer_phone: phoneOrNull(facts.customerPhone),
      assistant_phone: phoneOrNull(facts.assistantPhone),
      assistant_id: facts.assistantId,
      call_id: facts.callId ?? null,
      timestamp: facts.timestamp ?? null,
      status: facts.status ?? null,
      variables: facts.variables ?? {},
      body,
    };
    return { ok: true, request };
  };
}

/** Variables as strings, for platforms whose dynamic variables are strings: other values as their JSON text. */
export function stringVariables(variables: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}
