// Admin sessions without server state: a cookie `<expiry>.<hmac>` keyed by ADMIN_TOKEN
// (rotating the token ends every session), and a CSRF token derived from the same session.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { sameSecret } from '../bearer-auth.js';

export const SESSION_COOKIE = 'aftercall_admin';
export const LOGIN_CSRF_COOKIE = 'aftercall_login_csrf';
export const SESSION_MS = 8 * 60 * 60 * 1000;

export interface AdminSessions {
  /** Constant-time check of a token typed into the login form. */
  tokenMatches(candidate: string): boolean;
  issue(now: number): { cookie: string; expiresAt: number };
  /** The session's expiry when the cookie is valid and current, else null. */
  verify(cookie: string | undefined, now: number): number | null;
  csrfFor(expiresAt: number): string;
  csrfMatches(expiresAt: number, candidate: unknown): boolean;
}

export function createAdminSessions(adminToken: string): AdminSessions {
  const key = createHash('sha256').update(`aftercall-admin-session:${adminToken}`).digest();
  const sign = (purpose: string, expiresAt: number) => createHmac('sha256', key).update(`${purpose}:${expiresAt}`).digest('base64url');
  return {
    tokenMatches: (candidate) => sameSecret(candidate, adminToken),
    issue(now) {
      const expiresAt = now + SESSION_MS;
      return { cookie: `${expiresAt}.${sign('session', expiresAt)}`, expiresAt };
    },
    verify(cookie, now) {
      const match = /^(\d{13})\.([\w-]{43})$/.exec(cookie ?? '');
      if (!match) return null;
      const expiresAt = Number(match[1]);
      if (expiresAt <= now || !sameSecret(match[2], sign('session', expiresAt))) return null;
      return expiresAt;
    },
    csrfFor: (expiresAt) => sign('csrf', expiresAt),
    csrfMatches: (expiresAt, candidate) => typeof candidate === 'string' && sameSecret(candidate, sign('csrf', expiresAt)),
  };
}

export function randomToken(): string {
  return randomBytes(24).toString('base64url');
}

/** One cookie's value from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}
