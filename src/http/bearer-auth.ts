// `Authorization: Bearer …` as the webhook, /metrics and the admin API read it, and the
// constant-time comparison of a given secret with the expected one (also the admin login token,
// session cookie and CSRF token, src/http/admin/session.ts).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function bearerToken(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Compared as SHA-256 digests: equal lengths for timingSafeEqual, nothing learnt from timing. */
export function sameSecret(given: string | undefined, expected: string): boolean {
  return given !== undefined && given !== '' && timingSafeEqual(digest(given), digest(expected));
}
