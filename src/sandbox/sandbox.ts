// `aftercall sandbox`: local stand-ins of HubSpot, Pipedrive, Salesforce, Twilio and Google Calendar (the
// connector tests' fakes, answering like the real APIs) on one 127.0.0.1 port, and an SMTP
// server on another, so a mapping can run end to end without vendor accounts. It says which
// variables point the connectors at it and records what each stand-in received: a line per
// request (no bodies: they carry the call's phones and emails) and the whole requests, bodies
// included, at /_sandbox/requests.
import { fakeGoogleCalendar } from './fake-google-calendar.js';
import { CLASSIC_NUMBERS, fakePlatform } from './fake-platform.js';
import { fakeHubSpot, fakePipedrive, fakeSalesforce, fakeTwilio } from './fake-vendors.js';
import { startVendorStub, type Route, type VendorRequest } from './vendor-stub.js';

export type SandboxVendor = 'hubspot' | 'pipedrive' | 'salesforce' | 'twilio' | 'google' | 'platform' | 'smtp';

export interface SandboxRequest {
  vendor: SandboxVendor | 'unknown';
  /** HTTP method; `SEND` for an email. */
  method: string;
  /** Path without the query; the recipients for an email. */
  path: string;
  status: number;
  at: string;
  /** The JSON or form body (an email: from, to, subject, text). */
  body: unknown;
}

export interface SandboxOptions {
  /** HTTP port of the vendor stand-ins; 0: any free one. */
  port?: number;
  /** SMTP port; 0: any free one. */
  smtpPort?: number;
  /** Told of every request as one line, e.g. `hubspot  POST /crm/v3/objects/contacts → 201`. */
  onLine?(line: string): void;
}

export interface Sandbox {
  url: string;
  /** The connector variables to export, in print order. */
  env: Record<string, string>;
  /** Why there is no SMTP stand-in, when there is none. */
  smtpUnavailable: string | null;
  requests(): SandboxRequest[];
  close(): Promise<void>;
}

/** The newest requests kept for /_sandbox/requests. */
const KEEP = 1000;
export const REQUESTS_PATH = '/_sandbox/requests';
/** Twilio's documented test sender ("magic" number that always succeeds). */
const TWILIO_FROM = '+15005550006';
const TWILIO_SID = `AC${'5a4d'.repeat(8)}`;
const GOOGLE_REFRESH_TOKEN = 'sandbox-google-refresh-token';

/** Which stand-in a path belongs to (the vendors' API paths do not overlap). */
function vendorOf(path: string): SandboxRequest['vendor'] {
  if (path.startsWith('/crm/')) return 'hubspot';
  if (path.startsWith('/services/')) return 'salesforce';
  if (path.startsWith('/api/v2/') || path.startsWith('/v1/')) return 'pipedrive';
  if (path.startsWith('/2010-04-01/')) return 'twilio';
  if (path.startsWith('/calendar/') || path === '/token') return 'google';
  if (path.startsWith('/api/user/') || path.startsWith('/api/leads/') || path.startsWith('/api/v1/')) return 'platform';
  return 'unknown';
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const seen: SandboxRequest[] = [];
  const record = (request: SandboxRequest) => {
    seen.push(request);
    if (seen.length > KEEP) seen.splice(0, seen.length - KEEP);
    options.onLine?.(`${request.vendor.padEnd(10)} ${request.method} ${request.path} → ${request.status}`);
  };
  let url = '';
  const fakes: Route[] = [fakeHubSpot().route, fakePipedrive().route, fakeSalesforce({ instanceUrl: () => url }).route, fakeTwilio().route, fakeGoogleCalendar({ refreshToken: GOOGLE_REFRESH_TOKEN }).route, fakePlatform().route];
  const route: Route = (req) => {
    if (req.method === 'GET' && req.path === REQUESTS_PATH) return { status: 200, body: { requests: seen } };
    for (const fake of fakes) {
      const reply = fake(req);
      if (reply) return reply;
    }
    return undefined;
  };
  const http = await startVendorStub(route, {
    port: options.port ?? 0,
    keep: 0, // the sandbox keeps its own bounded list
    onAnswer: (req: VendorRequest, status) => {
      if (req.path === REQUESTS_PATH) return;
      record({ vendor: vendorOf(req.path), method: req.method, path: req.path, status, at: new Date(req.at).toISOString(), body: req.json ?? req.form ?? (req.body || null) });
    },
  });
  url = http.url;

  const smtp = await startSmtp(options.smtpPort ?? 0, (message) => record(message)).catch(async (error: unknown) => {
    await http.close();
    throw error;
  });

  const env: Record<string, string> = {
    HUBSPOT_BASE_URL: url,
    HUBSPOT_ACCESS_TOKEN: 'sandbox-hubspot-token',
    PIPEDRIVE_BASE_URL: url,
    PIPEDRIVE_API_TOKEN: 'sandbox-pipedrive-token',
    SALESFORCE_INSTANCE_URL: url,
    SALESFORCE_ACCESS_TOKEN: 'sandbox-salesforce-token',
    TWILIO_BASE_URL: url,
    TWILIO_ACCOUNT_SID: TWILIO_SID,
    TWILIO_AUTH_TOKEN: 'sandbox-twilio-token',
    TWILIO_FROM,
    GOOGLE_CALENDAR_BASE_URL: url,
    GOOGLE_TOKEN_URL: `${url}/token`,
    GOOGLE_CLIENT_ID: 'sandbox-google-client',
    GOOGLE_CLIENT_SECRET: 'sandbox-google-secret',
    GOOGLE_REFRESH_TOKEN,
    PLATFORM: 'autocalls',
    PLATFORM_BASE_URL: url,
    PLATFORM_API_KEY: 'sandbox-platform-key',
    PLATFORM_SMS_FROM: CLASSIC_NUMBERS[0]!.phone_number,
    ...('url' in smtp ? { SMTP_URL: smtp.url, EMAIL_FROM: 'Sandbox <sandbox@example.com>' } : {}),
  };
  return {
    url,
    env,
    smtpUnavailable: 'reason' in smtp ? smtp.reason : null,
    requests: () => [...seen],
    async close() {
      await http.close();
      if ('close' in smtp) await smtp.close();
    },
  };
}

type SmtpStandIn = { url: string; close(): Promise<void> } | { reason: string };

/**
 * The SMTP stand-in runs on smtp-server and mailparser, development dependencies of aftercall:
 * a production install (`npm ci --omit=dev`) has no SMTP stand-in, and says so.
 */
async function startSmtp(port: number, record: (request: SandboxRequest) => void): Promise<SmtpStandIn> {
  let stub: typeof import('./smtp-stub.js');
  try {
    stub = await import('./smtp-stub.js');
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return { reason: 'no SMTP stand-in: it needs the development dependencies smtp-server and mailparser (npm install --include=dev)' };
  }
  const smtp = await stub.startSmtpStub({
    port,
    keep: 0,
    onMessage: (message, recipients) =>
      record({
        vendor: 'smtp',
        method: 'SEND',
        path: `${recipients.length} recipient(s)`,
        status: 250,
        at: new Date().toISOString(),
        body: { from: message.from?.text ?? null, to: recipients, subject: message.subject ?? null, text: message.text ?? null },
      }),
  });
  return { url: smtp.url, close: () => smtp.close() };
}
