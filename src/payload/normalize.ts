// Raw (validated) payload → the one `Call` shape. Nothing downstream reads raw shapes.
import type { Call, Campaign, Lead, Scalar, Transcript, TranscriptTurn, Transfer, Variant } from './call.js';
import type { RawCall, RawCampaign, RawLead, RawTransfer, RawTurn } from './schema.js';

type Status = Call['status'];

export function normalizeCall(raw: RawCall, event: string | null = null): Call {
  return {
    id: raw.id,
    platform: 'autocalls',
    variant: detectVariant(raw),
    event,
    channel: 'phone',
    status: normalizeStatus(raw.status),
    customer_phone: raw.customer_phone ?? null,
    assistant_phone: raw.assistant_phone ?? null,
    assistant_id: null,
    duration: raw.duration ?? null,
    extracted_variables: copyVariables(raw.extracted_variables),
    input_variables: copyVariables(raw.input_variables),
    transcript: normalizeTranscript(raw.transcript, raw.formatted_transcript),
    recording_url: raw.recording_url ?? null,
    created_at: isoDate(raw.created_at),
    finished_at: isoDate(raw.finished_at),
    lead: raw.lead ? normalizeLead(raw.lead) : null,
    campaign: normalizeCampaign(raw.campaign ?? raw.lead?.campaign ?? null),
    transfers: (raw.transfers ?? []).map(normalizeTransfer),
    attachments: [],
    conversation: null,
  };
}

/**
 * The variants share field names; they differ in what they include. Famulor sends a string
 * transcript and a top-level campaign; only autocalls.ai sends `transfers` and
 * `lead.call_tries`; OtoniStark is recognised by its recording host.
 */
export function detectVariant(raw: RawCall): Variant {
  if (typeof raw.transcript === 'string' || raw.campaign) return 'famulor';
  if (raw.transfers || typeof raw.lead?.call_tries === 'number') return 'autocalls';
  if (raw.recording_url && /otonistark/i.test(hostOf(raw.recording_url))) return 'otonistark';
  if (raw.recording_url && /famulor/i.test(hostOf(raw.recording_url))) return 'famulor';
  return 'autocalls';
}

export function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

export function normalizeStatus(status: RawCall['status']): Status {
  return status === 'no-answer' ? 'unanswered' : status;
}

/**
 * A fresh plain object with its keys sorted: every other object of a Call is built here in a
 * fixed key order, so `JSON.stringify(call)` is canonical and content hashes ignore the order
 * a sender lists its variables in. (Keys were already checked against prototype names.)
 */
export function copyVariables(vars: Record<string, Scalar> | null | undefined): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  if (!vars) return out;
  for (const key of Object.keys(vars).sort()) out[key] = vars[key]!;
  return out;
}

/** Dates as ISO 8601 UTC strings; digits beyond milliseconds are kept when the sender gives them. */
const CANONICAL_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3,9}Z$/;

export function isoDate(value: string | null | undefined): string | null {
  if (!value) return null;
  // Already UTC with at least milliseconds (autocalls.ai's own format): nothing to convert.
  if (CANONICAL_UTC.test(value)) return value;
  const iso = new Date(value).toISOString();
  // Date keeps milliseconds only; an offset shifts hours and minutes, never the fraction.
  const fraction = /T\d{2}:\d{2}:\d{2}\.(\d{4,9})/.exec(value);
  return fraction ? `${iso.slice(0, 19)}.${fraction[1]}Z` : iso;
}

/** Campaign hours always as `HH:MM:SS`. */
function clockTime(value: string | null | undefined): string | null {
  if (!value) return null;
  return value.length === 5 ? `${value}:00` : value;
}

function normalizeCampaign(raw: RawCampaign | null): Campaign | null {
  if (!raw) return null;
  return {
    id: raw.id,
    name: raw.name,
    status: raw.status ?? null,
    allowed_hours_start_time: clockTime(raw.allowed_hours_start_time),
    allowed_hours_end_time: clockTime(raw.allowed_hours_end_time),
    allowed_days: raw.allowed_days ?? [],
    max_calls_in_parallel: raw.max_calls_in_parallel ?? null,
    max_retries: raw.max_retries ?? null,
    retry_interval: raw.retry_interval ?? null,
    created_at: isoDate(raw.created_at),
    updated_at: isoDate(raw.updated_at),
  };
}

function normalizeLead(raw: RawLead): Lead {
  return {
    id: raw.id,
    phone_number: raw.phone_number ?? null,
    variables: copyVariables(raw.variables),
    status: raw.status ?? null,
    call_tries: raw.call_tries ?? null,
    created_at: isoDate(raw.created_at),
    updated_at: isoDate(raw.updated_at),
  };
}

function normalizeTransfer(raw: RawTransfer): Transfer {
  return {
    id: raw.id,
    status: normalizeStatus(raw.status),
    transfer_to: raw.transfer_to ?? null,
    duration: raw.duration ?? null,
    carrier_cost: raw.carrier_cost ?? null,
    transcript: normalizeTranscript(raw.transcript, raw.formatted_transcript),
    recording_url: raw.recording_url ?? null,
    created_at: isoDate(raw.created_at),
    finished_at: isoDate(raw.finished_at),
  };
}

const BOT_LABELS = new Set(['ai', 'assistant', 'bot', 'agent']);
const HUMAN_LABELS = new Set(['customer', 'user', 'human', 'caller', 'client']);
export const LABELS: Record<TranscriptTurn['sender'], string> = { bot: 'AI', human: 'Customer', system: 'System' };

/** Who a transcript line's label (`Assistant`, `customer`, …) names; null when it is no speaker label. */
export function speakerOfLabel(label: string): TranscriptTurn['sender'] | null {
  const who = label.toLowerCase();
  return BOT_LABELS.has(who) ? 'bot' : HUMAN_LABELS.has(who) ? 'human' : null;
}

/** Turns as the human-readable text: one `AI: …` / `Customer: …` line each. */
export function turnsText(turns: readonly TranscriptTurn[]): string {
  return turns.map((t) => `${LABELS[t.sender]}: ${t.text}`).join('\n');
}

/** Transcript always as turns plus text, whether the sender gave an array or a string. */
export function normalizeTranscript(
  raw: RawTurn[] | string | null | undefined,
  formatted: string | null | undefined,
): Transcript {
  if (typeof raw === 'string') return { turns: parseTranscriptText(raw), text: raw };
  const turns: TranscriptTurn[] = (raw ?? []).map((t) => ({
    sender: t.sender,
    text: t.text,
    timestamp: t.timestamp ?? null,
  }));
  const text = formatted || turnsText(turns);
  return { turns, text };
}

/** "Assistant: …\nCustomer: …" → turns; unlabelled lines continue the previous turn. */
export function parseTranscriptText(text: string): TranscriptTurn[] {
  const turns: TranscriptTurn[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const label = /^\s*([A-Za-z]+)\s*:\s?(.*)$/.exec(line);
    const sender = speakerOfLabel(label?.[1] ?? '');
    if (sender && label) {
      turns.push({ sender, text: label[2] ?? '', timestamp: null });
    } else if (turns.length > 0) {
      const last = turns[turns.length - 1]!;
      last.text = `${last.text}\n${line}`;
    } else {
      turns.push({ sender: 'bot', text: line, timestamp: null });
    }
  }
  return turns;
}
