// Admin sessions: a cookie `<expiry>.<session id>.<hmac>` keyed by ADMIN_TOKEN (rotating the
// token ends every session), whose id must also be recorded in the store: logging out deletes
// it there, so the cookie stops working on every instance even if it was copied. A CSRF token
// is derived from the session id.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Store } from '../../store/store.js';
import { sameSecret } from '../bearer-auth.js';

export const SESSION_COOKIE = 'aftercall_admin';
export const LOGIN_CSRF_COOKIE = 'aftercall_login_csrf';
export const SESSION_MS = 8 * 60 * 60 * 1000;

export interface AdminSession {
  id: string;
  expiresAt: number;
}

export interface AdminSessions {
  /** Constant-time check of a token typed into the login form. */
  tokenMatches(candidate: string): boolean;
  /** A new session, recorded in the store. */
  start(now: number): Promise<{ cookie: string; expiresAt: number }>;
  /** The session when the cookie is signed, current and not ended, else null. */
  verify(cookie: string | undefined, now: number): Promise<AdminSession | null>;
  /** Signed and current, without asking the store (the rate limiter's "is this an operator"). */
  signed(cookie: string | undefined, now: number): AdminSession | null;
  /** Ends the cookie's session (when it is one). */
  end(cookie: string | undefined, now: number): Promise<void>;
  csrfFor(session: AdminSession): string;
  csrfMatches(session: AdminSession, candidate: unknown): boolean;
}

const COOKIE = /^(\d{13})\.([\w-]{32})\.([\w-]{43})$/;

export function createAdminSessions(adminToken: string, store: Pick<Store, 'startAdminSession' | 'adminSessionActive' | 'endAdminSession'>): AdminSessions {
  const key = createHash('sha256').update(`aftercall-admin-session:${adminToken}`).digest();
  const sign = (purpose: string, value: string) => createHmac('sha256', key).update(`${purpose}:${value}`).digest('base64url');
  const signed = (cookie: string | undefined, now: number): AdminSession | null => {
    const match = COOKIE.exec(cookie ?? '');
    if (!match) return null;
    const [, expiry, id] = match as unknown as [string, string, string, string];
    const expiresAt = Number(expiry);
    if (expiresAt <= now || !sameSecret(match[3], sign('session', `${expiry}.${id}`))) return null;
    return { id, expiresAt };
  };
  return {
    tokenMatches: (candidate) => sameSecret(candidate, adminToken),
    async start(now) {
      const expiresAt = now + SESSION_MS;
      const id = randomBytes(24).toString('base64url');
      await store.startAdminSession(id, expiresAt, now);
      return { cookie: `${expiresAt}.${id}.${sign('session', `${expiresAt}.${id}`)}`, expiresAt };
    },
    signed,
    async verify(cookie, now) {
      const session = signed(cookie, now);
      return session && (await store.adminSessionActive(session.id, now)) ? session : null;
    },
    async end(cookie, now) {
      const session = signed(cookie, now);
      if (session) await store.endAdminSession(session.id);
    },
    csrfFor: (session) => sign('csrf', session.id),
    csrfMatches: (session, candidate) => typeof candidate === 'string' && sameSecret(candidate, sign('csrf', session.id)),
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
