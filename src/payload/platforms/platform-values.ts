// Value conversions every platform's normalization shares: epoch times, phones, variables.
import { z } from 'zod';
import type { Call, Scalar } from '../call.js';
import { canonicalJson } from '../content-hash.js';
import { copyVariables } from '../normalize.js';

/** Milliseconds or seconds since the epoch as ISO 8601 UTC; null when absent. */
export function isoFromEpoch(value: number | null | undefined, unit: 'ms' | 's'): string | null {
  if (value === null || value === undefined) return null;
  return new Date(unit === 'ms' ? value : value * 1000).toISOString();
}

/** A phone as sent, trimmed; empty is none. No country is guessed for a number that is not E.164. */
export function phoneOrNull(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

/**
 * A platform's open record as the scalars mappings see: scalars kept, anything nested kept
 * as its JSON text with keys sorted (a mapping can still `$eval` it; a resend in another key
 * order hashes the same), keys sorted like every other record.
 */
export function scalarVariables(...records: Array<Record<string, unknown> | null | undefined>): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const record of records) {
    if (!record) continue;
    for (const [key, value] of Object.entries(record)) {
      out[key] = value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : canonicalJson(value);
    }
  }
  return copyVariables(out);
}

/** The parts of a Call only the autocalls.ai family sends (lead, campaign, transfers) and chats have, fresh each time. */
export function absentAutocallsParts(): Pick<Call, 'lead' | 'campaign' | 'transfers' | 'attachments' | 'conversation'> {
  return { lead: null, campaign: null, transfers: [], attachments: [], conversation: null };
}

/**
 * The `call_inbound` pre-call request Retell and Synthflow both send: the caller's and the
 * called number, and the agent's id under the platform's own name (`agent_id`, `model_id`).
 */
export function callInboundSchema<Key extends string>(agentKey: Key) {
  const phone = z.string().max(64);
  return z.looseObject({
    event: z.literal('call_inbound'),
    call_inbound: z.looseObject({ from_number: phone.nullish(), to_number: phone.nullish() }).extend({
      [agentKey]: z.string().max(200).nullish(),
    } as Record<Key, z.ZodOptional<z.ZodNullable<z.ZodString>>>),
  });
}
