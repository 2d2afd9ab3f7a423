// Google Calendar through @googleapis/calendar (Calendar API v3) and google-auth-library: the
// configuration, and the connector built from it, which owns the signed-in client (its access
// token cached until it nears expiry) and the API client. Both SDKs are imported on first use.
//
// Requests go out on Gaxios's fetch (Node's global connection pool, kept alive); each API call
// gets the step's deadline as its AbortSignal, so a request past it is cut off, and `retry: false`
// (googleapis-common retries by default, blind to Retry-After; the worker retries instead).
// GOOGLE_CALENDAR_BASE_URL is the API's documented `rootUrl` option (googleapis-common
// apirequest.js puts each request's path under it).
import { z } from 'zod';
import type { calendar_v3 } from '@googleapis/calendar';
import type { OAuth2Client } from 'google-auth-library';
import { actionOf } from '../classify-failure.js';
import { envConfig, joinNames, stubUrl, type ConnectorConfigOf } from '../connector-config.js';
import { connectorStep, type ConnectorInstance, type StepContext } from '../connector.js';
import { untilDeadline } from '../deadline.js';
import { withEvidence } from '../evidence.js';
import { lazyImport } from '../load-sdk.js';
import { createAuthClient, isTokenRequest, serviceAccountKey } from './auth.js';
import { classifyGoogleError, googleExchange, googleRequestUrl, googleStatus } from './errors.js';

const OAUTH = ['GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET', 'GOOGLE_REFRESH_TOKEN'] as const;

export const googleCalendarEnv = envConfig(
  z.object({
    GOOGLE_SERVICE_ACCOUNT_JSON: z
      .string()
      .optional()
      .describe("A service account's JSON key (the downloaded file's contents). The calendar must be shared with the account's client_email, or set GOOGLE_SERVICE_ACCOUNT_SUBJECT."),
    GOOGLE_SERVICE_ACCOUNT_KEY_FILE: z.string().optional().describe('Path of that JSON key file, instead of GOOGLE_SERVICE_ACCOUNT_JSON.'),
    GOOGLE_SERVICE_ACCOUNT_SUBJECT: z
      .email('must be the email address of a Workspace user')
      .optional()
      .describe('With a service account: the Workspace user it acts for (domain-wide delegation of the calendar.events scope). Needed to invite attendees: Google refuses invitations from a service account alone.'),
    GOOGLE_CLIENT_ID: z.string().optional().describe('OAuth client id (with GOOGLE_CLIENT_SECRET and GOOGLE_REFRESH_TOKEN, instead of a service account).'),
    GOOGLE_CLIENT_SECRET: z.string().optional().describe('OAuth client secret.'),
    GOOGLE_REFRESH_TOKEN: z.string().optional().describe('A refresh token that user granted the https://www.googleapis.com/auth/calendar.events (or calendar) scope.'),
    GOOGLE_CALENDAR_ID: z
      .string()
      .default('primary')
      .describe('Calendar the steps book into unless a step names one: an id like clinic@group.calendar.google.com, or primary (the signed-in user\'s; a service account\'s own without a subject).'),
    GOOGLE_CALENDAR_BASE_URL: stubUrl('API root', 'https://www.googleapis.com'),
    GOOGLE_TOKEN_URL: stubUrl('OAuth token endpoint', 'https://oauth2.googleapis.com/token'),
  }).describe(
    'Sign in with a service account (GOOGLE_SERVICE_ACCOUNT_JSON or GOOGLE_SERVICE_ACCOUNT_KEY_FILE, optionally GOOGLE_SERVICE_ACCOUNT_SUBJECT) ' +
      'or with an OAuth refresh token (GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and GOOGLE_REFRESH_TOKEN), not both. The access token is kept ' +
      'until shortly before it expires; one that Google refuses earlier is replaced once. Tokens are never logged.',
  ),
  (v) => {
    const account = v.GOOGLE_SERVICE_ACCOUNT_JSON || v.GOOGLE_SERVICE_ACCOUNT_KEY_FILE;
    const oauth = OAUTH.some((name) => v[name]);
    if (v.GOOGLE_SERVICE_ACCOUNT_JSON && v.GOOGLE_SERVICE_ACCOUNT_KEY_FILE) return 'GOOGLE_SERVICE_ACCOUNT_JSON or GOOGLE_SERVICE_ACCOUNT_KEY_FILE, not both';
    if (account && oauth) return 'a service account (GOOGLE_SERVICE_ACCOUNT_*) or an OAuth refresh token (GOOGLE_CLIENT_ID, …), not both';
    if (account) {
      const key = serviceAccountKey(v);
      return key && 'problem' in key ? key.problem : null;
    }
    if (v.GOOGLE_SERVICE_ACCOUNT_SUBJECT) return 'GOOGLE_SERVICE_ACCOUNT_JSON or GOOGLE_SERVICE_ACCOUNT_KEY_FILE (GOOGLE_SERVICE_ACCOUNT_SUBJECT is for a service account)';
    if (oauth) {
      const missing = OAUTH.filter((name) => !v[name]);
      return missing.length > 0 ? joinNames([...missing]) : null;
    }
    return 'GOOGLE_SERVICE_ACCOUNT_JSON (or GOOGLE_SERVICE_ACCOUNT_KEY_FILE), or GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and GOOGLE_REFRESH_TOKEN';
  },
);

export type GoogleCalendarConfig = ConnectorConfigOf<typeof googleCalendarEnv.schema>;

export type CalendarApi = calendar_v3.Calendar;

/** Options every API call of a step gets: its deadline. */
export interface CallOptions {
  signal: AbortSignal;
  timeout: number;
}

export interface GoogleCalendarConnector extends ConnectorInstance {
  /** GOOGLE_CALENDAR_ID. */
  readonly calendarId: string;
  /**
   * Runs `work` with the signed-in Calendar client until the step's deadline (`options` carry it
   * to each call). Google's errors come back as TransientError / PermanentError with the failed
   * exchange as evidence; a 401 from the API (the cached token refused) gets a new token and one
   * more try of `work`.
   */
  withCalendar<T>(ctx: StepContext, action: string, work: (calendar: CalendarApi, options: CallOptions) => Promise<T>): Promise<T>;
}

const loadGoogle = lazyImport(async () => {
  const [{ calendar_v3: api }, auth] = await Promise.all([import('@googleapis/calendar'), import('google-auth-library')]);
  return { Calendar: api.Calendar, auth };
});

interface Clients {
  auth: OAuth2Client;
  calendar: CalendarApi;
}

/** Google Calendar for one account: its signed-in client (and token) and the API client, made on first use. */
export function createGoogleCalendarConnector(config: GoogleCalendarConfig): GoogleCalendarConnector {
  let clients: Promise<Clients> | null = null;
  const connect = () =>
    (clients ??= loadGoogle().then(
      ({ Calendar, auth: library }) => {
        const auth = createAuthClient(library, config);
        return { auth, calendar: new Calendar({ auth, rootUrl: config.GOOGLE_CALENDAR_BASE_URL, retry: false }) };
      },
      (error: unknown) => {
        clients = null;
        throw error;
      },
    ));
  const refusedToken = (error: unknown) => googleStatus(error) === 401 && !isTokenRequest(googleRequestUrl(error), config);
  return {
    calendarId: config.GOOGLE_CALENDAR_ID,
    async withCalendar(ctx, action, work) {
      try {
        return await untilDeadline(ctx, async (signal) => {
          const { auth, calendar } = await connect();
          const options = { signal, timeout: ctx.timeoutMs };
          try {
            return await work(calendar, options);
          } catch (error) {
            if (!refusedToken(error)) throw error;
            // Refused before its expiry (revoked, or the key rotated): marked expired, so the
            // client asks for a new one before the next request.
            ctx.logger.info('Google refused the cached access token; signing in again');
            auth.setCredentials({ ...auth.credentials, expiry_date: 1 });
            return await work(calendar, options);
          }
        });
      } catch (error) {
        const stage = isTokenRequest(googleRequestUrl(error), config) ? 'sign in' : actionOf(error, action);
        throw withEvidence(classifyGoogleError(`Google Calendar (${stage})`, error), googleExchange(error));
      }
    },
    close() {
      // Nothing to end: requests use fetch's global pool. The next step signs in anew.
      clients = null;
    },
  };
}

/** The step kinds of Google Calendar. */
export const googleCalendarStep = connectorStep<GoogleCalendarConnector, GoogleCalendarConfig>();
