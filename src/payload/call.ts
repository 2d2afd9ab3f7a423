// The one normalized shape every part after payload/ works with. Field names follow the
// vendor payload (snake_case) so mapping expressions read like the documentation.
import type { CALL_STATUSES } from './schema.js';

export type CallStatus = (typeof CALL_STATUSES)[number];
export type Scalar = string | number | boolean | null;
/** The voice-AI platforms aftercall receives from; `autocalls` is the autocalls.ai family (autocalls.ai, Famulor, OtoniStark). */
export const PLATFORMS = ['autocalls', 'retell', 'vapi', 'elevenlabs', 'synthflow', 'bland'] as const;
export type Platform = (typeof PLATFORMS)[number];
/** The platforms with their own webhook route (`/webhooks/<platform>`). */
export type OtherPlatform = Exclude<Platform, 'autocalls'>;
/** The autocalls.ai family's three products; for any other platform, the platform itself. */
export const VARIANTS = ['autocalls', 'otonistark', 'famulor', 'retell', 'vapi', 'elevenlabs', 'synthflow', 'bland'] as const;
export type Variant = (typeof VARIANTS)[number];
/** A phone call, or a chat: the web widget or WhatsApp (the conversation-ended webhook). */
export const CHANNELS = ['phone', 'widget', 'whatsapp'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface TranscriptTurn {
  /** `system` marks a chat event, such as a human agent taking over. */
  sender: 'bot' | 'human' | 'system';
  text: string;
  /** Seconds since the epoch, when the sender gives one. */
  timestamp: number | null;
}

export interface Transcript {
  turns: TranscriptTurn[];
  /** Human-readable "AI: …\nCustomer: …" text. */
  text: string;
}

export interface Campaign {
  id: number | string;
  name: string;
  status: string | null;
  /** Always `HH:MM:SS`. */
  allowed_hours_start_time: string | null;
  allowed_hours_end_time: string | null;
  allowed_days: string[];
  max_calls_in_parallel: number | null;
  max_retries: number | null;
  retry_interval: number | null;
  created_at: string | null;
  updated_at: string | null;
}

export interface Lead {
  id: number | string;
  phone_number: string | null;
  variables: Record<string, Scalar>;
  status: string | null;
  call_tries: number | null;
  created_at: string | null;
  updated_at: string | null;
}

export interface Transfer {
  id: number | string;
  status: CallStatus;
  transfer_to: string | null;
  duration: number | null;
  carrier_cost: number | null;
  transcript: Transcript;
  recording_url: string | null;
  created_at: string | null;
  finished_at: string | null;
}

/** A file shared in a chat (most often on WhatsApp). */
export interface Attachment {
  type: 'image' | 'video' | 'audio' | 'document';
  url: string;
  filename: string | null;
}

/** What only a chat has. */
export interface ConversationDetails {
  /** The numeric id the dashboard shows (`call.id` is the conversation's UUID). */
  dashboard_id: number | null;
  message_count: number | null;
  customer_name: string | null;
  /** The WhatsApp sender's display name (its number is `call.assistant_phone`). */
  sender_name: string | null;
}

export interface Call {
  /** The call id; for a chat, its `conversation_id`. */
  id: number | string;
  /** Which platform placed the call. */
  platform: Platform;
  /** Which product's payload shape this came in (for another platform: the platform). */
  variant: Variant;
  /**
   * The envelope's event name (`call.completed`) when the newer envelope was used;
   * `conversation.ended` for every chat; null for a classic post-call webhook.
   */
  event: string | null;
  /** `phone` for a call; `widget` or `whatsapp` for a chat. */
  channel: Channel;
  status: CallStatus;
  customer_phone: string | null;
  /** The assistant's number; for WhatsApp, the sender number the customer wrote to. */
  assistant_phone: string | null;
  /** The assistant's UUID, when the sender gives one (chats, 2.0 events). */
  assistant_id: string | null;
  duration: number | null;
  extracted_variables: Record<string, Scalar>;
  input_variables: Record<string, Scalar>;
  transcript: Transcript;
  recording_url: string | null;
  /** ISO 8601, UTC. */
  created_at: string | null;
  finished_at: string | null;
  lead: Lead | null;
  /** Campaign, wherever the sender put it (inside `lead` or at the top level). */
  campaign: Campaign | null;
  transfers: Transfer[];
  attachments: Attachment[];
  /** Null for a phone call. */
  conversation: ConversationDetails | null;
}
