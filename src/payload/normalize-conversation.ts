// The newer payload shapes → the one `Call`: a chat that ended (widget, WhatsApp) and the call
// of a Famulor 2.0 workspace event. One mapping can serve calls and chats: the chat's
// transcript becomes turns + text like a call's, its sender number the assistant's phone.
import type { Call, Scalar, Transcript, TranscriptTurn, Variant } from './call.js';
import type { RawChatTurn, RawConversation } from './conversation-schema.js';
import { copyVariables, hostOf, isoDate, normalizeStatus, parseTranscriptText, turnsText } from './normalize.js';
import type { RawWorkspaceCall } from './workspace-call-schema.js';

export const CONVERSATION_ENDED = 'conversation.ended';

const SENDERS: Record<RawChatTurn['role'], TranscriptTurn['sender']> = { user: 'human', assistant: 'bot', system: 'system' };

export function normalizeConversation(raw: RawConversation, event: string = CONVERSATION_ENDED): Call {
  const attachments = (raw.attachments ?? []).map((a) => ({ type: a.type, url: a.url, filename: a.filename ?? null }));
  return {
    id: raw.conversation_id,
    platform: 'autocalls',
    variant: variantOfUrls(attachments.map((a) => a.url)),
    event,
    channel: raw.type,
    status: 'ended',
    customer_phone: raw.customer_phone ?? null,
    assistant_phone: raw.sender?.phone_number ?? null,
    assistant_id: raw.assistant_id ?? null,
    duration: durationSeconds(raw.created_at, raw.ended_at),
    extracted_variables: copyVariables(raw.extracted_variables),
    input_variables: copyVariables(raw.input_variables),
    transcript: chatTranscript(raw.transcript, raw.formatted_transcript),
    recording_url: null,
    created_at: isoDate(raw.created_at),
    finished_at: isoDate(raw.ended_at),
    lead: null,
    campaign: null,
    transfers: [],
    attachments,
    conversation: {
      dashboard_id: raw.id ?? null,
      message_count: raw.message_count ?? null,
      customer_name: raw.customer_name ?? null,
      sender_name: raw.sender?.display_name ?? null,
    },
  };
}

/**
 * A 2.0 workspace call. Its summary, sentiment and success (and the `analysis` record) become
 * extracted variables, where a classic call's assistant puts its summary, so `extracted.summary`
 * reads the same in both.
 */
export function normalizeWorkspaceCall(raw: RawWorkspaceCall, event: string): Call {
  const inbound = raw.direction === 'inbound';
  const extracted: Record<string, Scalar> = { ...raw.analysis };
  for (const key of ['summary', 'sentiment', 'success'] as const) {
    if (raw[key] !== undefined) extracted[key] = raw[key];
  }
  return {
    id: raw.id,
    platform: 'autocalls',
    variant: 'famulor',
    event,
    channel: 'phone',
    status: normalizeStatus(raw.status),
    customer_phone: (inbound ? raw.from_number : raw.to_number) ?? null,
    assistant_phone: (inbound ? raw.to_number : raw.from_number) ?? null,
    assistant_id: raw.assistant_id ?? null,
    duration: raw.duration_sec ?? null,
    extracted_variables: copyVariables(extracted),
    input_variables: {},
    transcript: typeof raw.transcript === 'string' ? { turns: parseTranscriptText(raw.transcript), text: raw.transcript } : chatTranscript(raw.transcript, null),
    recording_url: raw.recording_url ?? null,
    created_at: isoDate(raw.started_at ?? raw.created_at),
    finished_at: isoDate(raw.ended_at),
    lead: null,
    campaign: null,
    transfers: [],
    attachments: [],
    conversation: null,
  };
}

/** Turns with their time in epoch seconds: `timestamp_unix` when given, else the ISO time. */
function chatTranscript(raw: RawChatTurn[] | null | undefined, formatted: string | null | undefined): Transcript {
  const turns: TranscriptTurn[] = (raw ?? []).map((t) => ({
    sender: SENDERS[t.role],
    text: t.content,
    timestamp: t.timestamp_unix ?? (t.timestamp ? Date.parse(t.timestamp) / 1000 : null),
  }));
  const text = formatted || turnsText(turns);
  return { turns, text };
}

function durationSeconds(start: string | null | undefined, end: string | null | undefined): number | null {
  if (!start || !end) return null;
  const seconds = Math.round((Date.parse(end) - Date.parse(start)) / 1000);
  return seconds >= 0 ? seconds : null;
}

/** The product, when a file's host names it; the shapes are the same product's otherwise. */
function variantOfUrls(urls: string[]): Variant {
  const hosts = urls.map(hostOf).join(' ');
  if (/otonistark/i.test(hosts)) return 'otonistark';
  if (/famulor/i.test(hosts)) return 'famulor';
  return 'autocalls';
}
