// The one normalized shape every part after payload/ works with. Field names follow the
// vendor payload (snake_case) so mapping expressions read like the documentation.
import type { CALL_STATUSES } from './schema.js';

export type CallStatus = (typeof CALL_STATUSES)[number];
export type Scalar = string | number | boolean | null;
export type Variant = 'autocalls' | 'otonistark' | 'famulor';

export interface TranscriptTurn {
  sender: 'bot' | 'human';
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

export interface Call {
  id: number | string;
  /** Which product's payload shape this came in. */
  variant: Variant;
  /** The envelope's event name (`call.completed`) when the newer envelope was used. */
  event: string | null;
  status: CallStatus;
  customer_phone: string | null;
  assistant_phone: string | null;
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
}
