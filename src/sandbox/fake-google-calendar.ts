// A stand-in for Google's OAuth token endpoint and the Calendar API v3 events the connector uses,
// answering like them (shapes from the API reference and the SDK's Schema$Event): a token for a
// known refresh token or a signed service-account assertion, then list (privateExtendedProperty
// constraints, cancelled events left out), insert and patch, each needing a token it issued.
// Sources: src/sandbox/README.md.
import type { Route, StubReply } from './vendor-stub.js';

export interface FakeGoogleEvent {
  id: string;
  calendarId: string;
  status: string;
  data: Record<string, unknown>;
}

export interface FakeGoogleOptions {
  /** The refresh token the OAuth client holds (default "1//refresh-token"). */
  refreshToken?: string;
  /** Seconds an issued access token lasts (default 3599, as Google's). */
  expiresIn?: number;
}

const EVENTS = /^\/calendar\/v3\/calendars\/([^/]+)\/events(?:\/([^/]+))?$/;

function apiError(code: number, reason: string, message: string, status: string): StubReply {
  return { status: code, body: { error: { code, message, errors: [{ domain: 'global', reason, message }], status } } };
}

/** The claims of a JWT (no signature check: a stand-in). */
function jwtClaims(assertion: string): Record<string, unknown> | null {
  try {
    return JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export function fakeGoogleCalendar(options: FakeGoogleOptions = {}) {
  const refreshToken = options.refreshToken ?? '1//refresh-token';
  const events: FakeGoogleEvent[] = [];
  /** Every token issued, with what the grant said (a service account's iss, sub and scope). */
  const tokens: Array<{ token: string; grant: string; claims: Record<string, unknown> | null }> = [];
  const valid = new Set<string>();
  let nextId = 1;
  const view = (e: FakeGoogleEvent) => ({
    kind: 'calendar#event',
    etag: `"${nextId}"`,
    id: e.id,
    status: e.status,
    htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${e.id} ${e.calendarId}`).toString('base64url')}`,
    ...e.data,
  });

  const token = (form: Record<string, string> | null): StubReply => {
    if (form?.grant_type === 'refresh_token') {
      if (form.refresh_token !== refreshToken || !form.client_id || !form.client_secret) {
        return { status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } };
      }
    } else if (form?.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' || !jwtClaims(form.assertion ?? '')) {
      return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } };
    }
    const issued = `ya29.fake-${tokens.length + 1}`;
    tokens.push({ token: issued, grant: form.grant_type, claims: form.grant_type === 'refresh_token' ? null : jwtClaims(form.assertion!) });
    valid.add(issued);
    return { status: 200, body: { access_token: issued, expires_in: options.expiresIn ?? 3599, scope: 'https://www.googleapis.com/auth/calendar.events', token_type: 'Bearer' } };
  };

  const route: Route = (req) => {
    if (req.method === 'POST' && req.path === '/token') return token(req.form);
    const m = EVENTS.exec(req.path);
    if (!m) return undefined;
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    if (!bearer || !valid.has(bearer)) return apiError(401, 'authError', 'Invalid Credentials', 'UNAUTHENTICATED');
    const calendarId = decodeURIComponent(m[1]!);
    const body = (req.json ?? {}) as Record<string, unknown>;
    if (req.method === 'GET' && !m[2]) {
      const wanted = req.query.getAll('privateExtendedProperty').map((c) => [c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1)] as const);
      const items = events
        .filter((e) => e.calendarId === calendarId && (e.status !== 'cancelled' || req.query.get('showDeleted') === 'true'))
        .filter((e) => {
          const own = ((e.data.extendedProperties as { private?: Record<string, string> } | undefined)?.private ?? {});
          return wanted.every(([name, value]) => own[name] === value);
        })
        .map(view);
      return { status: 200, body: { kind: 'calendar#events', summary: calendarId, items } };
    }
    if (req.method === 'POST' && !m[2]) {
      if (!body.start || !body.end) return apiError(400, 'required', body.start ? 'Missing end time.' : 'Missing start time.', 'INVALID_ARGUMENT');
      const now = new Date().toISOString();
      const event: FakeGoogleEvent = { id: `evt${String(nextId++).padStart(4, '0')}`, calendarId, status: 'confirmed', data: { ...body, created: now, updated: now } };
      events.push(event);
      return { status: 200, body: view(event) };
    }
    if (req.method === 'PATCH' && m[2]) {
      const event = events.find((e) => e.calendarId === calendarId && e.id === decodeURIComponent(m[2]!));
      if (!event) return apiError(404, 'notFound', 'Not Found', 'NOT_FOUND');
      // A patch replaces the fields it names (arrays whole); extended properties are merged by key.
      const extended = body.extendedProperties as { private?: Record<string, string> } | undefined;
      const before = (event.data.extendedProperties as { private?: Record<string, string> } | undefined)?.private ?? {};
      event.data = { ...event.data, ...body, updated: new Date().toISOString() };
      if (extended) event.data.extendedProperties = { private: { ...before, ...extended.private } };
      return { status: 200, body: view(event) };
    }
    return apiError(405, 'methodNotAllowed', 'Method not allowed', 'INVALID_ARGUMENT');
  };

  return {
    route,
    events,
    tokens,
    /** Revokes every access token issued so far (the next API call answers 401). */
    revokeTokens: () => valid.clear(),
    /** Marks an event cancelled, as deleting it in Google Calendar does. */
    cancel: (id: string) => {
      const event = events.find((e) => e.id === id);
      if (event) event.status = 'cancelled';
    },
  };
}
