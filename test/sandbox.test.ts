// `aftercall sandbox` end to end: the sandbox started in process, the real service started
// with exactly the variables the sandbox prints, an example's fixture posted to it; the run
// succeeds against the stand-ins, and the sandbox shows what each received (its lines, and
// the JSON at /_sandbox/requests). One sandbox for all examples, like a user's laptop.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { REQUESTS_PATH, startSandbox, type Sandbox, type SandboxRequest } from '../src/sandbox/sandbox.js';
import './connectors/support/step-harness.js'; // clears proxy variables before any SDK loads
import { fixture } from './support/fixtures.js';
import { startTestService, type TestService } from './support/test-service.js';

const ROOT = join(import.meta.dirname, '..');
const EXAMPLES = join(ROOT, 'examples');
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];

let sandbox: Sandbox;
const lines: string[] = [];
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, smtpPort: 0, onLine: (line) => lines.push(line) });
});
afterAll(() => sandbox.close());

let service: TestService | undefined;
afterEach(async () => {
  await service?.cleanup();
  service = undefined;
  vi.unstubAllEnvs();
});

/** The example's mappings in a service whose connectors see only the sandbox's variables. */
async function runExample(folder: string, fixtureName: string) {
  // Connectors read their variables from the environment when a step runs.
  for (const [name, value] of Object.entries(sandbox.env)) vi.stubEnv(name, value);
  const dir = join(EXAMPLES, folder);
  const mappings = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
  service = await startTestService(mappings);
  const s = service;
  const before = sandbox.requests().length;
  expect((await s.post(fixture(fixtureName))).status).toBe(202);
  const [run] = await s.waitFor(
    () => s.store.listRuns(),
    (runs) => runs.length === 1 && ['succeeded', 'dead', 'invalid-variables'].includes(runs[0]!.status),
    20_000,
  );
  expect(run!.lastError).toBeNull();
  expect(run!.status).toBe('succeeded');
  return sandbox.requests().slice(before);
}

const calls = (requests: SandboxRequest[]) => requests.map((r) => `${r.vendor} ${r.method} ${r.path} ${r.status}`);

describe('aftercall sandbox', () => {
  it('prints the connector variables, all pointing at 127.0.0.1', () => {
    expect(Object.keys(sandbox.env)).toEqual([
      'HUBSPOT_BASE_URL', 'HUBSPOT_ACCESS_TOKEN', 'PIPEDRIVE_BASE_URL', 'PIPEDRIVE_API_TOKEN', 'SALESFORCE_INSTANCE_URL',
      'SALESFORCE_ACCESS_TOKEN', 'TWILIO_BASE_URL', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM', 'GOOGLE_CALENDAR_BASE_URL',
      'GOOGLE_TOKEN_URL', 'GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET', 'GOOGLE_REFRESH_TOKEN', 'PLATFORM', 'PLATFORM_BASE_URL',
      'PLATFORM_API_KEY', 'PLATFORM_SMS_FROM', 'SMTP_URL', 'EMAIL_FROM',
    ]);
    for (const name of ['HUBSPOT_BASE_URL', 'PIPEDRIVE_BASE_URL', 'SALESFORCE_INSTANCE_URL', 'TWILIO_BASE_URL', 'GOOGLE_CALENDAR_BASE_URL', 'PLATFORM_BASE_URL']) expect(sandbox.env[name]).toBe(sandbox.url);
    expect(sandbox.env.GOOGLE_TOKEN_URL).toBe(`${sandbox.url}/token`);
    expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.env.SMTP_URL).toMatch(/^smtp:\/\/127\.0\.0\.1:\d+\?ignoreTLS=true$/);
    expect(sandbox.smtpUnavailable).toBeNull();
  });

  it('runs the HubSpot + Twilio example end to end and records the contact upsert and the SMS', async () => {
    const requests = await runExample('hubspot-twilio', 'sales-qualification');
    expect(calls(requests)).toEqual([
      'hubspot POST /crm/v3/objects/contacts/search 200',
      'hubspot POST /crm/v3/objects/contacts 201',
      'hubspot POST /crm/v3/objects/notes 201',
      'hubspot POST /crm/v3/objects/deals 201',
      'hubspot POST /crm/v3/objects/tasks 201',
      `twilio POST /2010-04-01/Accounts/${sandbox.env.TWILIO_ACCOUNT_SID}/Messages.json 201`,
    ]);
    expect(requests[1]!.body).toMatchObject({ properties: { phone: '+14155550142', firstname: 'Dana', lastname: 'Whitfield' } });
    expect(requests[5]!.body).toMatchObject({ To: '+14155550142', From: sandbox.env.TWILIO_FROM, Body: expect.stringContaining('Dana') });

    // The same, as a user sees it: a line per request, and the JSON page.
    expect(lines).toContain('hubspot    POST /crm/v3/objects/contacts → 201');
    expect(lines).toContain(`twilio     POST /2010-04-01/Accounts/${sandbox.env.TWILIO_ACCOUNT_SID}/Messages.json → 201`);
    expect(lines.join('\n')).not.toContain('4155550142'); // lines carry no bodies
    const page = (await (await fetch(sandbox.url + REQUESTS_PATH)).json()) as { requests: SandboxRequest[] };
    expect(page.requests.slice(-6)).toEqual(requests);
  });

  it('runs the Salesforce + email example: lead, task and the confirmation mail', async () => {
    const requests = await runExample('salesforce-email', 'appointment-booking');
    expect(calls(requests)).toContain('salesforce POST /services/data/v59.0/sobjects/Lead 201');
    expect(calls(requests)).toContain('salesforce POST /services/data/v59.0/sobjects/Task 201');
    const mail = requests.find((r) => r.vendor === 'smtp')!;
    expect(mail).toMatchObject({ method: 'SEND', status: 250, body: { to: [expect.stringContaining('@')], subject: expect.any(String) } });
  });

  it('runs the Google Calendar example: signs in, searches by the call id, books the event, confirms by the platform\'s SMS', async () => {
    const requests = await runExample('google-calendar', 'appointment-booking');
    expect(calls(requests)).toEqual([
      'google POST /token 200',
      'google GET /calendar/v3/calendars/primary/events 200',
      'google POST /calendar/v3/calendars/primary/events 200',
      'platform GET /api/user/phone-numbers/all 200',
      'platform POST /api/user/sms 200',
    ]);
    expect(requests[2]!.body).toMatchObject({ start: { dateTime: '2025-03-12T14:30:00-03:00', timeZone: 'America/Sao_Paulo' } });
    expect(requests[4]!.body).toMatchObject({ from: 11, to: '+5511987650321', body: expect.stringContaining('12/03/2025 às 14:30') });
  });

  it('runs the Pipedrive example: person, note and activity', async () => {
    const requests = await runExample('pipedrive', 'support-triage');
    expect(calls(requests)).toContain('pipedrive POST /api/v2/persons 201');
    expect(calls(requests)).toContain('pipedrive POST /v1/notes 201');
    expect(requests.every((r) => r.vendor === 'pipedrive')).toBe(true);
  });
});

describe('the sandbox command', () => {
  it('prints export lines a shell can take, a line per request, and stops on SIGTERM; a taken port is a plain message', async () => {
    const child = spawn(process.execPath, [...CLI, 'sandbox', '--port', '0', '--smtp-port', '0'], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent' } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    /** Resolves once stdout has matched `pattern` (checked at every chunk). */
    const seen = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const look = () => {
          if (!pattern.test(out)) return;
          child.stdout.off('data', look);
          child.off('exit', gone);
          resolve();
        };
        const gone = (code: number | null) => reject(new Error(`sandbox exited ${code}: ${out}`));
        child.stdout.on('data', look);
        child.once('exit', gone);
        look();
      });
    try {
      await seen(/What they received, with bodies: \S+/);
      const exports = Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]));
      expect(Object.keys(exports)).toEqual(Object.keys(sandbox.env));
      const url = exports.HUBSPOT_BASE_URL!;
      expect(await (await fetch(url + REQUESTS_PATH)).json()).toEqual({ requests: [] });
      const search = await fetch(`${url}/crm/v3/objects/contacts/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filterGroups: [{ filters: [{ propertyName: 'phone', operator: 'EQ', value: '+14155550142' }] }] }),
      });
      expect(await search.json()).toEqual({ total: 0, results: [] });
      await seen(/hubspot +POST \/crm\/v3\/objects\/contacts\/search → 200/);

      // A second sandbox on the same port: a plain message, exit 1.
      const port = new URL(url).port;
      const taken = spawnSync(process.execPath, [...CLI, 'sandbox', '--port', port, '--smtp-port', '0'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
      expect(taken.status).toBe(1);
      expect(taken.stderr.trim()).toBe(`aftercall sandbox: a port is in use (127.0.0.1:${port}); choose others with --port / --smtp-port, or 0 for any free one`);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 90_000);
});
