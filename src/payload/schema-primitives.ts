// The value types every payload schema shares: phones, timestamps, ids, URLs, variable records.
import { z } from 'zod';

/** The ten statuses of seed 000, plus `no-answer` (the API's spelling of `unanswered`). */
export const CALL_STATUSES = [
  'initiated',
  'ringing',
  'busy',
  'in-progress',
  'ended',
  'completed',
  'ended_by_customer',
  'ended_by_assistant',
  'unanswered',
  'failed',
] as const;
export const RAW_CALL_STATUSES = [...CALL_STATUSES, 'no-answer'] as const;

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

// Keys that would reach Object.prototype if copied naively; never valid variable names anyway.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export const e164 = z.string().regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 phone number like +14155550123');
/** ISO 8601 with seconds, optional fraction (autocalls sends microseconds), Z or an offset. */
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

/** A real calendar instant: Date.parse would roll 2025-02-30 over to March instead of failing. */
export function isIsoTimestamp(value: string): boolean {
  const m = ISO_TIMESTAMP.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const offsetOk = m[8] === 'Z' || (Number(m[9]) <= 23 && Number(m[10]) <= 59);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 59 && offsetOk;
}
export const timestamp = z.string().refine(isIsoTimestamp, 'must be an ISO 8601 timestamp like 2025-01-15T10:30:00Z');
/** Campaign hours: `HH:MM` (autocalls, OtoniStark) or `HH:MM:SS` (Famulor). */
export const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'must be a time HH:MM or HH:MM:SS');
export const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID');
/** Classic call ids are integers; the newer API uses UUID strings. */
export const callId = z.union([z.number().int().positive(), uuid]);
export const recordId = z.union([z.number().int().nonnegative(), z.string().min(1).max(200)]);
export const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const variableKey = z
  .string()
  .max(200)
  .refine((k) => !FORBIDDEN_KEYS.has(k), 'is a reserved key name');
/** extracted_variables, input_variables and lead.variables are open records of scalars. */
export const variables = z.record(variableKey, scalar);
// http(s) only: a `javascript:` URL must never reach a page or a fetch later.
export const url = z
  .string()
  .max(4096)
  .refine((v) => /^https?:\/\/\S+$/i.test(v) && URL.canParse(v), 'must be an http(s) URL');
export const count = z.number().int().nonnegative();
