// The other platforms aftercall receives from, by name: each one's payload module. A platform
// added here gets its route (`POST /webhooks/<platform>`), its signature check (when its
// scheme is in src/ingest/signatures/index.ts) and its place in `replay`/`test` detection.
import type { OtherPlatform } from '../call.js';
import type { PlatformPayload } from './platform-payload.js';
import { bland } from './bland.js';
import { elevenlabs } from './elevenlabs.js';
import { retell } from './retell.js';
import { synthflow } from './synthflow.js';
import { vapi } from './vapi.js';

export const PLATFORM_PAYLOADS: Record<OtherPlatform, PlatformPayload<unknown>> = {
  bland,
  retell,
  synthflow,
  vapi,
  elevenlabs,
};

export function platformPayload(platform: OtherPlatform): PlatformPayload<unknown> {
  const payload = PLATFORM_PAYLOADS[platform];
  if (!payload) throw new Error(`no receiver for platform ${platform}`);
  return payload;
}

export const RECEIVED_PLATFORMS = Object.keys(PLATFORM_PAYLOADS) as OtherPlatform[];

/**
 * The platform a recorded body came from, read from its shape, for `replay`, `test` and the
 * quarantine's replays (a live delivery's platform is its route's). Null: the autocalls.ai
 * family's shapes, which parsePayload tells apart itself.
 */
export function detectPlatform(body: unknown): OtherPlatform | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const b = body as Record<string, unknown>;
  const obj = (v: unknown): Record<string, unknown> | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
  const call = obj(b.call);
  // Both send `{event: "call_inbound", call_inbound}`: Synthflow's names a `model_id`, Retell's an `agent_id`.
  const inbound = b.event === 'call_inbound' ? obj(b.call_inbound) : null;
  if (inbound) return 'model_id' in inbound ? 'synthflow' : 'retell';
  // Retell `{event, call: {call_id}}` (autocalls' envelopes name the id `id`).
  if (typeof b.event === 'string' && typeof call?.call_id === 'string') return 'retell';
  // Vapi: everything in `{message: {type}}`.
  if (typeof obj(b.message)?.type === 'string') return 'vapi';
  // ElevenLabs: `{type, event_timestamp, data}`, or the bare conversation-initiation request.
  if (typeof b.type === 'string' && 'event_timestamp' in b) return 'elevenlabs';
  if (!('type' in b) && typeof b.caller_id === 'string' && 'called_number' in b) return 'elevenlabs';
  // Synthflow: a bare result with the call inside and the lead beside it.
  if (!('event' in b) && typeof call?.call_id === 'string' && ('lead' in b || 'executed_actions' in b)) return 'synthflow';
  // Bland: the bare call object.
  if (typeof b.call_id === 'string' && ('call_length' in b || 'concatenated_transcript' in b || 'transcripts' in b)) return 'bland';
  return null;
}
