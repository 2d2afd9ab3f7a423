// google.calendar.event.create with the real @googleapis/calendar and google-auth-library against a
// local stub answering like Google's token endpoint and the Calendar API v3: exact requests, the
// event found again by its private extended property (updated, never duplicated), times and time
// zones, error classification (4xx permanent, 429/5xx and rate-limit 403s transient with
// Retry-After, no retries by the SDKs), the deadline, and both ways to sign in.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PermanentError, TransientError } from '../../src/connectors/connector.js';
import { evidenceOf, storedEvidence } from '../../src/connectors/evidence.js';
import { checkMappings } from '../../src/mapping/check-mappings.js';
import { checkStaticInput } from '../../src/mapping/static-input-check.js';
import { fakeGoogleCalendar } from '../../src/sandbox/fake-google-calendar.js';
import { tempDir } from '../support/temp-dir.js';
import { closeTestConnectors, inputProblems, KINDS, runStep, stepContext, stepError } from './support/step-harness.js';
import { startVendorStub, type VendorStub } from './support/vendor-stub.js';

const KIND = 'google.calendar.event.create';
const EVENTS = '/calendar/v3/calendars/primary/events';
/** The Calendar API; Google's token endpoint is another host, here another stub on the same fake. */
let stub: VendorStub;
let tokens: VendorStub;
let google: ReturnType<typeof fakeGoogleCalendar>;
const dir = tempDir();
afterAll(() => dir.cleanup());
// The SDKs load on a connector's first step; loaded here, their import does not eat into the
// first test's step deadline on a busy machine.
beforeAll(async () => {
  await Promise.all([import('@googleapis/calendar'), import('google-auth-library')]);
});

beforeEach(async () => {
  google = fakeGoogleCalendar();
  stub = await startVendorStub(google.route);
  tokens = await startVendorStub(google.route);
  vi.stubEnv('GOOGLE_CLIENT_ID', '123-abc.apps.googleusercontent.com');
  vi.stubEnv('GOOGLE_CLIENT_SECRET', 'GOCSPX-secret');
  vi.stubEnv('GOOGLE_REFRESH_TOKEN', '1//refresh-token');
  vi.stubEnv('GOOGLE_CALENDAR_BASE_URL', stub.url);
  vi.stubEnv('GOOGLE_TOKEN_URL', `${tokens.url}/token`);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await closeTestConnectors();
  await stub.close();
  await tokens.close();
});

const booking = {
  call_id: 730415,
  summary: 'Avaliação ortodôntica: Mariana Costa',
  start: '2025-03-12T14:30:00-03:00',
  duration_minutes: 45,
  time_zone: 'America/Sao_Paulo',
  attendees: 'mariana.costa@example.com',
  description: 'Booked by the AI assistant.',
};

describe('google.calendar.event.create', () => {
  it('signs in with the refresh token, searches by the call id, then creates the event', async () => {
    const out = await runStep(KIND, booking);
    expect(out).toEqual({ event_id: 'evt0001', html_link: expect.stringMatching(/^https:\/\/www\.google\.com\/calendar\/event\?eid=/), status: 'confirmed', updated: false });
    expect(tokens.calls()).toEqual(['POST /token']);
    expect(stub.calls()).toEqual([`GET ${EVENTS}`, `POST ${EVENTS}`]);
    expect(tokens.requests[0]!.form).toEqual({
      refresh_token: '1//refresh-token',
      client_id: '123-abc.apps.googleusercontent.com',
      client_secret: 'GOCSPX-secret',
      grant_type: 'refresh_token',
    });
    expect(stub.requests[0]!.query.getAll('privateExtendedProperty')).toEqual(['aftercall_call_id=730415']);
    expect(stub.requests[0]!.headers.authorization).toBe('Bearer ya29.fake-1');
    expect(stub.requests[1]!.json).toEqual({
      summary: 'Avaliação ortodôntica: Mariana Costa',
      description: 'Booked by the AI assistant.',
      start: { dateTime: '2025-03-12T14:30:00-03:00', timeZone: 'America/Sao_Paulo' },
      end: { dateTime: '2025-03-12T15:15:00-03:00', timeZone: 'America/Sao_Paulo' },
      extendedProperties: { private: { aftercall_call_id: '730415' } },
      attendees: [{ email: 'mariana.costa@example.com' }],
    });
    expect(stub.requests[1]!.query.has('sendUpdates')).toBe(false); // Google's default unless asked
  });

  it('found again (a retry, a re-evaluated call): the event is patched, never duplicated; the token is reused', async () => {
    await runStep(KIND, booking);
    google.events[0]!.data.attendees = [{ email: 'mariana.costa@example.com', responseStatus: 'accepted' }];
    const out = await runStep(KIND, { ...booking, summary: 'Avaliação remarcada', start: '2025-03-13T10:00:00-03:00', attendees: ['Mariana.Costa@example.com', 'recepcao@clinica.example'], send_updates: 'all' });
    expect(out).toMatchObject({ event_id: 'evt0001', status: 'confirmed', updated: true });
    expect(stub.calls()).toEqual([`GET ${EVENTS}`, `POST ${EVENTS}`, `GET ${EVENTS}`, `PATCH ${EVENTS}/evt0001`]);
    expect(stub.requests[3]!.query.get('sendUpdates')).toBe('all');
    expect(stub.requests[3]!.json).toMatchObject({
      summary: 'Avaliação remarcada',
      start: { dateTime: '2025-03-13T10:00:00-03:00' },
      // a patch replaces the list: the guest who accepted keeps her answer
      attendees: [{ email: 'mariana.costa@example.com', responseStatus: 'accepted' }, { email: 'recepcao@clinica.example' }],
    });
    expect(google.events).toHaveLength(1);
    expect(google.events[0]!.data.summary).toBe('Avaliação remarcada');
    expect(google.tokens).toHaveLength(1);
  });

  it('a search answered with an empty page and a next page token reads on before deciding', async () => {
    await runStep(KIND, booking);
    stub.failNext({ status: 200, body: { kind: 'calendar#events', items: [], nextPageToken: 'page-2' } });
    expect(await runStep(KIND, booking)).toMatchObject({ event_id: 'evt0001', updated: true });
    expect(stub.calls().slice(2)).toEqual([`GET ${EVENTS}`, `GET ${EVENTS}`, `PATCH ${EVENTS}/evt0001`]);
    expect(stub.requests[3]!.query.get('pageToken')).toBe('page-2');
    expect(google.events).toHaveLength(1);
  });

  it('another call, an event_key or a cancelled event: a new event each', async () => {
    await runStep(KIND, booking);
    await runStep(KIND, { ...booking, call_id: '730416' });
    await runStep(KIND, { ...booking, event_key: 'follow-up' });
    expect(stub.requests[4]!.query.getAll('privateExtendedProperty')).toEqual(['aftercall_call_id=730415', 'aftercall_event_key=follow-up']);
    google.cancel('evt0001'); // deleted in Google Calendar by someone: booking again makes a new one
    expect(await runStep(KIND, booking)).toMatchObject({ event_id: 'evt0004', updated: false });
    expect(google.events.map((e) => e.status)).toEqual(['cancelled', 'confirmed', 'confirmed', 'confirmed']);
  });

  it('times: a wall time read in time_zone (across a DST change), an end instead of a duration, an all-day event', async () => {
    await runStep(KIND, { ...booking, start: '2025-03-30 01:30', duration_minutes: 60, time_zone: 'Europe/Berlin' });
    expect(stub.requests[1]!.json).toMatchObject({
      start: { dateTime: '2025-03-30T01:30:00+01:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: '2025-03-30T03:30:00+02:00', timeZone: 'Europe/Berlin' }, // one real hour
    });
    await runStep(KIND, { ...booking, call_id: 2, start: '2025-03-12T17:30:00Z', duration_minutes: null, end: '2025-03-12T18:00:00Z', time_zone: null });
    expect(stub.requests[3]!.json).toMatchObject({ start: { dateTime: '2025-03-12T17:30:00+00:00' }, end: { dateTime: '2025-03-12T18:00:00+00:00' } });
    expect((stub.requests[3]!.json as { start: object }).start).not.toHaveProperty('timeZone');
    await runStep(KIND, { ...booking, call_id: 3, start: '2025-03-12', duration_minutes: null });
    expect(stub.requests[5]!.json).toMatchObject({ start: { date: '2025-03-12' }, end: { date: '2025-03-13' } });
  });

  it('bad dates and time zones: a clear error naming the field; literal ones already at check time', () => {
    expect(inputProblems(KIND, { ...booking, start: 'next Tuesday at 3' })).toEqual([
      'start: "next Tuesday at 3" is not a date and time like 2025-03-12T14:30:00-03:00 (or 2025-03-12T14:30 with time_zone), or a date like 2025-03-12 for an all-day event',
    ]);
    expect(inputProblems(KIND, { ...booking, start: '2025-02-30T10:00:00Z' })).toHaveLength(1);
    expect(inputProblems(KIND, { ...booking, time_zone: 'Brasilia' })).toEqual(['time_zone: must be an IANA time zone name like Europe/Berlin or America/Sao_Paulo']);
    expect(inputProblems(KIND, { ...booking, time_zone: '+03:00' })).toHaveLength(1);
    expect(inputProblems(KIND, { ...booking, start: '2025-03-12T14:30', time_zone: null })).toEqual([
      'start: "2025-03-12T14:30" has no UTC offset: add one (e.g. -03:00) or give time_zone (e.g. America/Sao_Paulo)',
    ]);
    expect(inputProblems(KIND, { ...booking, duration_minutes: null })).toEqual(['end: give end or duration_minutes']);
    expect(inputProblems(KIND, { ...booking, end: '2025-03-12T15:00:00-03:00' })).toEqual(['duration_minutes: give end or duration_minutes, not both']);
    expect(inputProblems(KIND, { ...booking, duration_minutes: null, end: '2025-03-12T14:00:00-03:00' })).toEqual(['end: the event ends before it starts (or at the same moment)']);
    expect(inputProblems(KIND, { ...booking, start: 20250312 })).toEqual(['start: Invalid input: expected string, received number']);
    expect(inputProblems(KIND, { ...booking, duration_minutes: 'an hour' })).toEqual(['duration_minutes: Invalid input: expected number, received NaN']);
    expect(inputProblems(KIND, { ...booking, attendees: ['ana@example.com', 'not an email'] })).toEqual(['attendees.1: must be an email address like ana@example.com']);

    // What `aftercall check` sees in a mapping's `with`: literals are checked, templates wait for the call.
    const schema = KINDS.get(KIND)!.input;
    const atCheck = (value: Record<string, unknown>) => checkStaticInput({ ...booking, ...value }, schema).map((p) => `${p.path.join('.')}: ${p.message}`);
    expect(atCheck({ start: 'tomorrow' })).toEqual([expect.stringMatching(/^start: "tomorrow" is not a date and time/)]);
    expect(atCheck({ time_zone: 'Sao Paulo' })).toEqual(['time_zone: must be an IANA time zone name like Europe/Berlin or America/Sao_Paulo']);
    expect(atCheck({ start: '{{ extracted.appointment_date }}', time_zone: '{{ input.tz }}' })).toEqual([]);
  });
});

describe('aftercall check', () => {
  it('refuses a literal date or time zone Google would refuse, with file, line and key', () => {
    const file = join(dir.path, 'booking.yaml');
    writeFileSync(
      file,
      [
        'name: booking',
        'steps:',
        '  - id: book',
        '    use: google.calendar.event.create',
        '    with:',
        '      call_id: "{{ call.id }}"',
        '      summary: Consulta',
        '      start: 12/03/2025 14:30',
        '      duration_minutes: 30',
        '      time_zone: Sao Paulo',
        '',
      ].join('\n'),
    );
    const { problems } = checkMappings([file], { env: process.env });
    expect(problems.map((p) => `${p.line}:${p.column} ${p.key}: ${p.message}`)).toEqual([
      '8:14 steps.0.with.start: google.calendar.event.create: "12/03/2025 14:30" is not a date and time like 2025-03-12T14:30:00-03:00 (or 2025-03-12T14:30 with time_zone), or a date like 2025-03-12 for an all-day event',
      '10:18 steps.0.with.time_zone: google.calendar.event.create: must be an IANA time zone name like Europe/Berlin or America/Sao_Paulo',
    ]);
  });
});

describe('concurrent steps', () => {
  it('share one token request', async () => {
    const outs = await Promise.all([1, 2, 3, 4].map((n) => runStep(KIND, { ...booking, call_id: n })));
    expect(outs.map((o) => (o as { updated: boolean }).updated)).toEqual([false, false, false, false]);
    expect(tokens.calls()).toEqual(['POST /token']);
    expect(google.events).toHaveLength(4);
  });
});

describe('Google errors', () => {
  it('4xx: permanent with what Google said, the answer kept as evidence; the SDK sends it once', async () => {
    stub.failNext(
      { status: 200, body: { kind: 'calendar#events', items: [] } },
      {
        status: 403,
        body: { error: { code: 403, message: 'Service accounts cannot invite attendees without Domain-Wide Delegation of Authority.', errors: [{ domain: 'calendar', reason: 'forbiddenForServiceAccounts', message: 'Service accounts cannot invite attendees without Domain-Wide Delegation of Authority.' }] } },
      },
    );
    const error = await stepError(KIND, booking);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe('Google Calendar (create event) answered 403: forbiddenForServiceAccounts: Service accounts cannot invite attendees without Domain-Wide Delegation of Authority.');
    expect((error as PermanentError).summary).toBe('Google Calendar (create event) answered 403');
    expect(storedEvidence(evidenceOf(error)!)).toMatchObject({ method: 'POST', url: `${stub.url}${EVENTS}`, status: 403, body: expect.stringContaining('forbiddenForServiceAccounts') });
    stub.failNext({ status: 404, body: { error: { code: 404, message: 'Not Found', errors: [{ domain: 'global', reason: 'notFound', message: 'Not Found' }] } } });
    const missing = await stepError(KIND, { ...booking, calendar_id: 'nobody@group.calendar.google.com' });
    expect(missing.message).toBe('Google Calendar (search events) answered 404: notFound: Not Found');
    expect(stub.calls()).toHaveLength(3);
  });

  it('429 and 503: transient, Retry-After kept; a rate-limit 403 too; nothing retried by the SDK', async () => {
    stub.failNext({ status: 429, headers: { 'retry-after': '7' }, body: { error: { code: 429, message: 'Rate Limit Exceeded', errors: [{ domain: 'usageLimits', reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' }] } } });
    const limited = await stepError(KIND, booking);
    expect(limited).toBeInstanceOf(TransientError);
    expect(limited.retryAfterMs).toBe(7000);
    expect(limited.message).toBe('Google Calendar (search events) answered 429: rateLimitExceeded: Rate Limit Exceeded');
    stub.failNext({ status: 503, body: { error: { code: 503, message: 'The service is currently unavailable.', errors: [{ domain: 'global', reason: 'backendError', message: 'Backend Error' }] } } });
    expect(await stepError(KIND, booking)).toBeInstanceOf(TransientError);
    stub.failNext({ status: 403, body: { error: { code: 403, message: 'User Rate Limit Exceeded', errors: [{ domain: 'usageLimits', reason: 'userRateLimitExceeded', message: 'User Rate Limit Exceeded' }] } } });
    const userLimit = await stepError(KIND, booking);
    expect(userLimit).toBeInstanceOf(TransientError);
    expect((userLimit as TransientError).summary).toBe('Google Calendar (search events) answered 403 (userRateLimitExceeded)');
    expect(stub.calls()).toEqual([`GET ${EVENTS}`, `GET ${EVENTS}`, `GET ${EVENTS}`]);
    expect(google.events).toHaveLength(0);
  });

  it('no answer within the step timeout: transient, the request cut off', async () => {
    stub.failNext({ status: 200, body: { kind: 'calendar#events', items: [] }, delayMs: 3_000 });
    const error = await stepError(KIND, booking, { timeoutMs: 300 });
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toBe('Google Calendar (book event): no answer within 300 ms');
    await vi.waitFor(() => expect(stub.requests[0]!.cutAt).toBeDefined());
  });

  it('a refresh token Google refuses: permanent, at "sign in"; a token endpoint that is down: transient, asked once', async () => {
    vi.stubEnv('GOOGLE_REFRESH_TOKEN', '1//revoked');
    const refused = await stepError(KIND, booking);
    expect(refused).toBeInstanceOf(PermanentError);
    expect(refused.message).toBe('Google Calendar (sign in) answered 400: invalid_grant: Token has been expired or revoked.');
    expect(storedEvidence(evidenceOf(refused)!)).toMatchObject({ method: 'POST', url: `${tokens.url}/token`, status: 400 });
    vi.stubEnv('GOOGLE_REFRESH_TOKEN', '1//refresh-token');
    tokens.failNext({ status: 503, body: 'Service Unavailable' });
    const down = await stepError(KIND, booking);
    expect(down).toBeInstanceOf(TransientError);
    expect(down.message).toBe('Google Calendar (sign in) answered 503: Service Unavailable');
    expect(tokens.calls()).toEqual(['POST /token', 'POST /token']);
    expect(stub.calls()).toEqual([]);
  });

  it('a cached token Google refuses (401) is replaced once and the step goes on; no token reaches the logs', async () => {
    await runStep(KIND, booking);
    google.revokeTokens();
    const ctx = stepContext();
    expect(await runStep(KIND, { ...booking, summary: 'Avaliação remarcada' }, ctx)).toMatchObject({ event_id: 'evt0001', updated: true });
    expect(stub.calls().slice(2)).toEqual([`GET ${EVENTS}`, `GET ${EVENTS}`, `PATCH ${EVENTS}/evt0001`]);
    expect(stub.requests[2]!.headers.authorization).toBe('Bearer ya29.fake-1');
    expect(stub.requests[3]!.headers.authorization).toBe('Bearer ya29.fake-2');
    expect(tokens.calls()).toEqual(['POST /token', 'POST /token']);
    expect(ctx.logs.map((l) => l.msg)).toEqual(['Google refused the cached access token; signing in again']);
    expect(JSON.stringify(ctx.logs)).not.toMatch(/ya29|refresh-token|GOCSPX/);
  });
});

describe('service account', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const key = { type: 'service_account', project_id: 'clinic', private_key_id: 'k1', private_key: privateKey, client_email: 'aftercall@clinic.iam.gserviceaccount.com' };

  beforeEach(() => {
    for (const name of ['GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET', 'GOOGLE_REFRESH_TOKEN']) vi.stubEnv(name, '');
  });

  it('from GOOGLE_SERVICE_ACCOUNT_JSON, acting for a Workspace user: a signed assertion for the calendar.events scope', async () => {
    vi.stubEnv('GOOGLE_SERVICE_ACCOUNT_JSON', JSON.stringify(key));
    vi.stubEnv('GOOGLE_SERVICE_ACCOUNT_SUBJECT', 'agenda@clinica.example');
    vi.stubEnv('GOOGLE_CALENDAR_ID', 'agenda@clinica.example');
    expect(await runStep(KIND, booking)).toMatchObject({ event_id: 'evt0001', updated: false });
    expect(stub.calls()).toEqual(['GET /calendar/v3/calendars/agenda%40clinica.example/events', 'POST /calendar/v3/calendars/agenda%40clinica.example/events']);
    expect(tokens.requests[0]!.form!.grant_type).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(google.tokens[0]!.claims).toMatchObject({
      iss: 'aftercall@clinic.iam.gserviceaccount.com',
      sub: 'agenda@clinica.example',
      scope: 'https://www.googleapis.com/auth/calendar.events',
      aud: 'https://oauth2.googleapis.com/token',
    });
    expect(stub.requests[0]!.headers.authorization).toBe('Bearer ya29.fake-1');
  });

  it('from a key file; its token is cached across steps', async () => {
    const file = join(dir.path, 'key.json');
    writeFileSync(file, JSON.stringify(key));
    vi.stubEnv('GOOGLE_SERVICE_ACCOUNT_KEY_FILE', file);
    await runStep(KIND, booking);
    await runStep(KIND, { ...booking, call_id: 2 });
    expect(tokens.calls()).toEqual(['POST /token']);
    expect(google.tokens[0]!.claims).toMatchObject({ iss: 'aftercall@clinic.iam.gserviceaccount.com' });
    expect(google.tokens[0]!.claims).not.toHaveProperty('sub');
  });
});

describe('configuration', () => {
  const missing = (env: Record<string, string>) => {
    for (const name of Object.keys(process.env)) if (name.startsWith('GOOGLE_')) vi.stubEnv(name, '');
    return KINDS.get(KIND)!.missingConfig!({ ...env });
  };

  it('names what to set, and never quotes a key', () => {
    expect(missing({})).toBe('GOOGLE_SERVICE_ACCOUNT_JSON (or GOOGLE_SERVICE_ACCOUNT_KEY_FILE), or GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and GOOGLE_REFRESH_TOKEN');
    expect(missing({ GOOGLE_CLIENT_ID: 'id' })).toBe('GOOGLE_CLIENT_SECRET and GOOGLE_REFRESH_TOKEN');
    expect(missing({ GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 's', GOOGLE_REFRESH_TOKEN: 'r' })).toBeNull();
    expect(missing({ GOOGLE_SERVICE_ACCOUNT_JSON: '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIE' })).toBe('GOOGLE_SERVICE_ACCOUNT_JSON (not valid JSON)');
    expect(missing({ GOOGLE_SERVICE_ACCOUNT_JSON: '{"type": "authorized_user"}' })).toBe('GOOGLE_SERVICE_ACCOUNT_JSON (not a service account key: it needs client_email and private_key)');
    expect(missing({ GOOGLE_SERVICE_ACCOUNT_KEY_FILE: join(dir.path, 'absent.json') })).toBe('GOOGLE_SERVICE_ACCOUNT_KEY_FILE (cannot read the file: ENOENT)');
    expect(missing({ GOOGLE_SERVICE_ACCOUNT_JSON: '{"client_email":"a@b.c","private_key":"k"}', GOOGLE_REFRESH_TOKEN: 'r' })).toBe(
      'a service account (GOOGLE_SERVICE_ACCOUNT_*) or an OAuth refresh token (GOOGLE_CLIENT_ID, …), not both',
    );
    expect(missing({ GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 's', GOOGLE_REFRESH_TOKEN: 'r', GOOGLE_TOKEN_URL: 'localhost:9' })).toMatch(/^GOOGLE_TOKEN_URL \(/);
  });
});
