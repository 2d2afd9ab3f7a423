// A platform's own webhook signature, checked on the raw body before anything is parsed.
// Every scheme compares in constant time and tries every configured secret (rotation) without
// an early exit, so timing says nothing about which secret or how much of a digest matched.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { OtherPlatform } from '../../payload/call.js';

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'mismatch' | 'stale' };

export interface SignatureInput {
  raw: Buffer;
  /** A request header by its lower-case name. */
  header(name: string): string | undefined;
  secrets: readonly string[];
  /** Milliseconds since the epoch. */
  now: number;
}

export interface SignatureScheme {
  platform: OtherPlatform;
  /** The environment variable holding the secrets, comma-separated. */
  env: string;
  /** The headers the scheme reads, for docs and the sandbox. */
  headers: readonly string[];
  verify(input: SignatureInput): SignatureCheck;
  /** A valid signature header set for a body, for tests, `aftercall send` and the bench. */
  sign(raw: Buffer | string, secret: string, now: number): Record<string, string>;
}

/**
 * True when `given` equals HMAC(secret, data) for some secret. `given` is the decoded digest;
 * a length that no digest of the algorithm has is no match (timingSafeEqual needs equal lengths).
 */
export function hmacMatches(algorithm: 'sha256' | 'sha512' | 'sha1', secrets: readonly string[], data: Buffer | string, given: Buffer): boolean {
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac(algorithm, secret).update(data).digest();
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}

/** A hex digest decoded, or null when it is no even-length hex. */
export function fromHex(value: string): Buffer | null {
  return /^(?:[0-9a-f]{2})+$/i.test(value) ? Buffer.from(value, 'hex') : null;
}
