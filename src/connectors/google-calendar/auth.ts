// Signing in to Google (google-auth-library): a service account key (a JWT client, optionally
// acting as a Workspace user by domain-wide delegation) or an OAuth client with a refresh token.
// The client keeps its access token until shortly before it expires and renews it itself;
// concurrent steps share one renewal.
//
// Pointing it at a stub: the token endpoint is a constant in the library (gtoken's getToken.js
// for service accounts, OAuth2Client's `endpoints.oauth2TokenUrl` default), so a request
// interceptor on the client's transporter (the Gaxios instance both token and API requests go
// through) swaps it for GOOGLE_TOKEN_URL. The same interceptor turns Gaxios's own retries off:
// token requests ask for up to 3 (RETRY_CONFIG in authclient.js), blind to Retry-After, and
// only the worker retries.
import { readFileSync } from 'node:fs';
import type { gaxios, OAuth2Client } from 'google-auth-library';

/** Read, create and change events; nothing else of the calendar. */
export const CALENDAR_SCOPE = 'https://www.googleapis.com/auth/calendar.events';
/** The token endpoint the library sends to. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
/** A token request shared by concurrent steps is bound by this, not by one step's deadline. */
export const TOKEN_TIMEOUT_MS = 10_000;

export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
}

/** The settings signing in needs (the connector's validated configuration). */
export interface GoogleSignIn {
  GOOGLE_SERVICE_ACCOUNT_JSON?: string;
  GOOGLE_SERVICE_ACCOUNT_KEY_FILE?: string;
  GOOGLE_SERVICE_ACCOUNT_SUBJECT?: string;
  GOOGLE_CLIENT_ID?: string;
  GOOGLE_CLIENT_SECRET?: string;
  GOOGLE_REFRESH_TOKEN?: string;
  GOOGLE_TOKEN_URL?: string;
}

/**
 * The service account key of the configuration, or what is wrong with it (never its content:
 * the message reaches logs and `aftercall check`). Null when no service account is configured.
 */
export function serviceAccountKey(config: GoogleSignIn): { key: ServiceAccountKey } | { problem: string } | null {
  const variable = config.GOOGLE_SERVICE_ACCOUNT_JSON ? 'GOOGLE_SERVICE_ACCOUNT_JSON' : config.GOOGLE_SERVICE_ACCOUNT_KEY_FILE ? 'GOOGLE_SERVICE_ACCOUNT_KEY_FILE' : null;
  if (!variable) return null;
  let text = config.GOOGLE_SERVICE_ACCOUNT_JSON;
  if (!text) {
    try {
      text = readFileSync(config.GOOGLE_SERVICE_ACCOUNT_KEY_FILE!, 'utf8');
    } catch (error) {
      return { problem: `${variable} (cannot read the file: ${(error as NodeJS.ErrnoException).code ?? 'error'})` };
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text, which holds the private key.
    return { problem: `${variable} (not valid JSON)` };
  }
  const key = (parsed ?? {}) as Partial<ServiceAccountKey>;
  if (typeof key.client_email !== 'string' || typeof key.private_key !== 'string') {
    return { problem: `${variable} (not a service account key: it needs client_email and private_key)` };
  }
  return { key: { client_email: key.client_email, private_key: key.private_key, private_key_id: typeof key.private_key_id === 'string' ? key.private_key_id : undefined } };
}

type AuthLibrary = typeof import('google-auth-library');

/** The signed-in client for `config` (validated: a usable key, or client id, secret and refresh token). */
export function createAuthClient(library: AuthLibrary, config: GoogleSignIn): OAuth2Client {
  const transporterOptions = { timeout: TOKEN_TIMEOUT_MS };
  const account = serviceAccountKey(config);
  let client: OAuth2Client;
  if (account && 'key' in account) {
    client = new library.JWT({
      email: account.key.client_email,
      key: account.key.private_key,
      keyId: account.key.private_key_id,
      scopes: [CALENDAR_SCOPE],
      subject: config.GOOGLE_SERVICE_ACCOUNT_SUBJECT,
      transporterOptions,
    });
  } else {
    client = new library.OAuth2Client({ clientId: config.GOOGLE_CLIENT_ID, clientSecret: config.GOOGLE_CLIENT_SECRET, transporterOptions });
    client.setCredentials({ refresh_token: config.GOOGLE_REFRESH_TOKEN });
  }
  const tokenUrl = config.GOOGLE_TOKEN_URL ? new URL(config.GOOGLE_TOKEN_URL) : null;
  client.transporter.interceptors.request.add({
    resolved: async (options: gaxios.GaxiosOptionsPrepared) => {
      options.retry = false;
      options.retryConfig = { ...options.retryConfig, retry: 0 };
      if (tokenUrl && options.url.href === GOOGLE_TOKEN_URL) options.url = tokenUrl;
      return options;
    },
  });
  return client;
}

/** Whether a failed request was the token request (the step could not sign in). */
export function isTokenRequest(url: unknown, config: GoogleSignIn): boolean {
  const href = url instanceof URL ? url.href : String(url);
  return href === GOOGLE_TOKEN_URL || (config.GOOGLE_TOKEN_URL !== undefined && href === new URL(config.GOOGLE_TOKEN_URL).href);
}
