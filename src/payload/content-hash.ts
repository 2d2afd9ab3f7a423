// Content identity of a call: sha256 over the JSON of the normalized call, so a resend that
// only differs in whitespace, key order or field spelling is a duplicate. Normalization
// builds every object in a fixed key order (open records sorted), so plain JSON.stringify is
// canonical here, and the same string is what the store keeps.
import { createHash } from 'node:crypto';
import type { Call } from './call.js';

export function serializeCall(call: Call): { json: string; hash: string } {
  const json = JSON.stringify(call);
  return { json, hash: createHash('sha256').update(json).digest('hex') };
}

export function contentHash(call: Call): string {
  return serializeCall(call).hash;
}

/** JSON with object keys sorted, for values whose key order is not fixed (rendered step inputs). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}
