// Content identity of a call: sha256 over canonical JSON (sorted keys) of the normalized call,
// so a resend that only differs in whitespace, key order or field spelling is a duplicate.
import { createHash } from 'node:crypto';
import type { Call } from './call.js';

export function contentHash(call: Call): string {
  return createHash('sha256').update(canonicalJson(call)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}
