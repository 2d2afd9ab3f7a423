// Vendor clients and keep-alive connections kept across steps (src/connectors/client-pool.ts),
// with the real SDKs against local stubs that count TCP connections: consecutive steps share one
// connection; a step cut off at its deadline has its request destroyed then, while a concurrent
// step of the same configuration finishes; a changed environment variable gives a new client;
// idle connections neither keep the process alive nor outlive closeConnectors().
import { spawn } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { TransientError, PermanentError } from '../../src/connectors/connector.js';
import { closeConnectors } from '../../src/connectors/index.js';
import { fakeHubSpot, fakePipedrive, fakeSalesforce, fakeTwilio } from './support/fake-vendors.js';
import { startSmtpStub, type SmtpStub } from './support/smtp-stub.js';
import { closeTestConnectors, runStep, stepError, testConnectors } from './support/step-harness.js';
import { startVendorStub, type Route, type VendorStub } from './support/vendor-stub.js';

const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
const { WORKER_CONCURRENCY } = loadConfig({});

// Node's global agent keeps connections alive too: a request that silently went through it
// (e.g. an SDK ignoring the agent it was given) would look reused. Here it closes each one.
const globalAgent = http.globalAgent;
beforeAll(() => {
  http.globalAgent = new http.Agent({ keepAlive: false });
});
afterAll(() => {
  http.globalAgent = globalAgent;
});

let stubs: Array<VendorStub | SmtpStub> = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await closeTestConnectors();
  for (const stub of stubs) await stub.close();
  stubs = [];
});

async function stub(route: Route): Promise<VendorStub> {
  const s = await startVendorStub(route);
  stubs.push(s);
  return s;
}

async function hubspotStub(token = 'pat-na1-reuse'): Promise<VendorStub> {
  const s = await stub(fakeHubSpot().route);
  vi.stubEnv('HUBSPOT_ACCESS_TOKEN', token);
  vi.stubEnv('HUBSPOT_BASE_URL', s.url);
  return s;
}

async function twilioStub(): Promise<VendorStub> {
  const s = await stub(fakeTwilio().route);
  vi.stubEnv('TWILIO_ACCOUNT_SID', TWILIO_SID);
  vi.stubEnv('TWILIO_AUTH_TOKEN', 'twilio-auth-token');
  vi.stubEnv('TWILIO_FROM', '+16505550199');
  vi.stubEnv('TWILIO_BASE_URL', s.url);
  return s;
}

async function pipedriveStub(token = 'pd-token'): Promise<VendorStub> {
  const s = await stub(fakePipedrive().route);
  vi.stubEnv('PIPEDRIVE_API_TOKEN', token);
  vi.stubEnv('PIPEDRIVE_BASE_URL', s.url);
  return s;
}

async function smtpStub(): Promise<SmtpStub> {
  const s = await startSmtpStub();
  stubs.push(s);
  vi.stubEnv('SMTP_URL', s.url);
  vi.stubEnv('EMAIL_FROM', 'Acme Support <support@acme.example>');
  return s;
}

const contact = { email: 'dana@whitfield.example', phone: '+14155550142', properties: { firstname: 'Dana' } };
const note = { body: 'Qualified', contact_id: '501' };
const sms = { to: '+14155550142', body: 'Thanks Dana!' };
const noHits = { status: 200, body: { total: 0, results: [] } };

const until = async (check: () => boolean, ms = 2_000) => {
  for (const end = Date.now() + ms; !check(); ) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('HubSpot: one client and connection across steps', () => {
  it('consecutive steps (four requests) go over one TCP connection', async () => {
    const s = await hubspotStub();
    await runStep('hubspot.contact.upsert', contact); // search + create
    await runStep('hubspot.note.create', note);
    await runStep('hubspot.contact.upsert', contact); // search + update
    expect(s.requests).toHaveLength(5);
    expect(s.connections()).toBe(1);
  });

  it('as many steps at once as the worker runs by default: a second wave reuses every client and connection', async () => {
    const s = await hubspotStub();
    // Searches (one request per step; creates and updates go out as one batch: write-batches.ts).
    const wave = () =>
      Promise.all(Array.from({ length: WORKER_CONCURRENCY }, (_, i) => runStep('hubspot.contact.upsert', { phone: `+1415555${String(i).padStart(4, '0')}` })));
    await wave();
    const opened = s.connections();
    expect(opened).toBeGreaterThan(1); // the steps overlapped, each on a client of its own
    await wave();
    const searches = s.calls().filter((c) => c.endsWith('/search'));
    expect(searches).toHaveLength(2 * WORKER_CONCURRENCY);
    expect(s.connections()).toBe(opened);
  });

  it('a hanging request is destroyed at its step deadline; a concurrent step of the same configuration finishes', async () => {
    const s = await hubspotStub();
    await runStep('hubspot.note.create', note); // one idle connection in the pool
    s.failNext({ ...noHits, delayMs: 5_000 }, { ...noHits, delayMs: 600 });
    const started = Date.now();
    const hanging = stepError('hubspot.contact.upsert', contact, { timeoutMs: 300 });
    await until(() => s.requests.length === 2);
    const concurrent = runStep('hubspot.contact.upsert', contact, { timeoutMs: 3_000 });

    const error = await hanging;
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toBe('HubSpot (upsert contact): no answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(1_000);
    // The vendor saw that request go away at the deadline, not when it would have answered.
    await until(() => s.requests[1]!.cutAt !== undefined, 1_000);
    expect(s.requests[1]!.cutAt! - s.requests[1]!.at).toBeLessThan(800);

    // The other step's search was in flight when the first was cut; it completes (search, create).
    expect(await concurrent).toEqual({ id: '502', created: true });
    expect(s.requests[2]!.cutAt).toBeUndefined();
    expect(s.calls().slice(2)).toEqual(['POST /crm/v3/objects/contacts/search', 'POST /crm/v3/objects/contacts']);

    // The cut client was discarded; later steps still work.
    expect(await runStep('hubspot.note.create', note)).toEqual({ id: '503', created: true });
  });

  it('a changed token or base URL between steps gives a client for the new configuration', async () => {
    const first = await hubspotStub('pat-first');
    await runStep('hubspot.note.create', note);
    vi.stubEnv('HUBSPOT_ACCESS_TOKEN', 'pat-second');
    await runStep('hubspot.note.create', note);
    expect(first.requests.map((r) => r.headers.authorization)).toEqual(['Bearer pat-first', 'Bearer pat-second']);

    const second = await hubspotStub('pat-second');
    await runStep('hubspot.note.create', note);
    expect(first.requests).toHaveLength(2);
    expect(second.requests.map((r) => r.headers.authorization)).toEqual(['Bearer pat-second']);
  });
});

describe('Twilio: one client and connection across steps', () => {
  it('consecutive sends go over one TCP connection', async () => {
    const s = await twilioStub();
    await runStep('twilio.sms.send', sms);
    await runStep('twilio.sms.send', sms);
    await runStep('twilio.sms.send', sms);
    expect(s.requests).toHaveLength(3);
    expect(s.connections()).toBe(1);
  });

  it('an unanswered send is destroyed at its deadline (and reported); a concurrent send finishes', async () => {
    const s = await twilioStub();
    s.failNext({ status: 201, delayMs: 5_000, body: {} });
    const hanging = stepError('twilio.sms.send', sms, { timeoutMs: 300 });
    await until(() => s.requests.length === 1);
    s.failNext({
      status: 201,
      delayMs: 600,
      body: { sid: 'SM0000000000000000000000000000beef', status: 'queued', to: sms.to, num_segments: '1' },
    });
    const concurrent = runStep('twilio.sms.send', sms, { timeoutMs: 3_000 });

    const error = await hanging;
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/after the request was sent, so the message may have gone out/);
    await until(() => s.requests[0]!.cutAt !== undefined, 1_000);
    expect(s.requests[0]!.cutAt! - s.requests[0]!.at).toBeLessThan(800);
    expect(await concurrent).toMatchObject({ sid: 'SM0000000000000000000000000000beef', status: 'queued' });
    expect(s.requests[1]!.cutAt).toBeUndefined();
  });

  it('Retry-After of a 429 is read from this step\'s answer', async () => {
    const s = await twilioStub();
    s.failNext({ status: 429, headers: { 'retry-after': '7' }, body: { code: 20429, message: 'Too Many Requests', status: 429 } });
    const [limited, sent] = await Promise.all([stepError('twilio.sms.send', sms), runStep('twilio.sms.send', sms)]);
    expect(limited).toBeInstanceOf(TransientError);
    expect(limited.retryAfterMs).toBe(7_000);
    expect(sent).toMatchObject({ status: 'queued' });
  });

  it('a shutdown stops a send that has not left; one under way is not abandoned', async () => {
    const s = await twilioStub();
    const stopped = new AbortController();
    stopped.abort();
    const before = await stepError('twilio.sms.send', sms, { signal: stopped.signal });
    expect(before.message).toBe('aborted: the service is shutting down');
    expect(s.requests).toHaveLength(0);

    s.failNext({ status: 201, delayMs: 400, body: { sid: 'SM0000000000000000000000000000f00d', status: 'queued', to: sms.to, num_segments: '1' } });
    const stopping = new AbortController();
    const sending = runStep('twilio.sms.send', sms, { signal: stopping.signal, timeoutMs: 3_000 });
    await until(() => s.requests.length === 1);
    stopping.abort();
    expect(await sending).toMatchObject({ sid: 'SM0000000000000000000000000000f00d' });
  });

  it('a changed account between steps gives a client for it', async () => {
    const s = await twilioStub();
    await runStep('twilio.sms.send', sms);
    const other = 'AC0123456789abcdef0123456789abcdee';
    vi.stubEnv('TWILIO_ACCOUNT_SID', other);
    await runStep('twilio.sms.send', sms);
    expect(s.requests.map((r) => r.path)).toEqual([`/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`, `/2010-04-01/Accounts/${other}/Messages.json`]);
    expect(Buffer.from(String(s.requests[1]!.headers.authorization).slice(6), 'base64').toString()).toBe(`${other}:twilio-auth-token`);
  });
});

describe('Pipedrive: one client and connection across steps', () => {
  const person = { name: 'Jonas Becker', phone: '+4917612345098' };

  it('consecutive steps, v1 and v2 APIs, go over one TCP connection', async () => {
    const s = await pipedriveStub();
    await runStep('pipedrive.person.upsert', person); // search + add (v2)
    await runStep('pipedrive.note.create', { content: 'Called', person_id: 101 }); // v1
    await runStep('pipedrive.person.upsert', person); // search (v2)
    expect(s.calls()).toEqual(['GET /api/v2/persons/search', 'POST /api/v2/persons', 'POST /v1/notes', 'GET /api/v2/persons/search']);
    expect(s.connections()).toBe(1);
  });

  it('a hanging request is destroyed at its step deadline; a concurrent step of the same configuration finishes', async () => {
    const s = await pipedriveStub();
    s.failNext({ status: 201, delayMs: 5_000, body: { success: true, data: { id: 1 } } }, { status: 201, delayMs: 600, body: { success: true, data: { id: 2 } } });
    const hanging = stepError('pipedrive.note.create', { content: 'a', person_id: 101 }, { timeoutMs: 300 });
    await until(() => s.requests.length === 1);
    const concurrent = runStep('pipedrive.note.create', { content: 'b', person_id: 101 }, { timeoutMs: 3_000 });
    expect(await hanging).toBeInstanceOf(TransientError);
    await until(() => s.requests[0]!.cutAt !== undefined, 1_000);
    expect(s.requests[0]!.cutAt! - s.requests[0]!.at).toBeLessThan(800);
    expect(await concurrent).toEqual({ id: 2 });
    expect(s.requests[1]!.cutAt).toBeUndefined();
  });

  it('a changed token between steps gives a client for it', async () => {
    const s = await pipedriveStub('pd-first');
    await runStep('pipedrive.note.create', { content: 'a', person_id: 101 });
    vi.stubEnv('PIPEDRIVE_API_TOKEN', 'pd-second');
    await runStep('pipedrive.note.create', { content: 'b', person_id: 101 });
    expect(s.requests.map((r) => r.headers['x-api-token'])).toEqual(['pd-first', 'pd-second']);
  });
});

describe('Salesforce: jsforce on Node\'s global agent, each request ending by the step deadline', () => {
  const lead = { fields: { LastName: 'Whitfield', Company: 'Whitfield Roofing', Phone: '+14155550142' } };
  const noRecords = { status: 200, body: { totalSize: 0, done: true, records: [] } };

  async function salesforceStub(): Promise<VendorStub> {
    let url = '';
    const s = await stub(fakeSalesforce({ instanceUrl: () => url }).route);
    url = s.url;
    vi.stubEnv('SALESFORCE_INSTANCE_URL', s.url);
    vi.stubEnv('SALESFORCE_ACCESS_TOKEN', '00D5e000000AbCd!token');
    return s;
  }

  it('a request started late in the step gets only the time left: it is cut at the step deadline', async () => {
    const s = await salesforceStub();
    s.failNext({ ...noRecords, delayMs: 250 }, { status: 201, delayMs: 5_000, body: { id: '00Q1', success: true, errors: [] } });
    const error = await stepError('salesforce.lead.upsert', lead, { timeoutMs: 450 });
    expect(error).toBeInstanceOf(TransientError);
    expect(s.calls()).toEqual(['GET /services/data/v59.0/query', 'POST /services/data/v59.0/sobjects/Lead']);
    await until(() => s.requests[1]!.cutAt !== undefined, 1_000);
    // About 450 ms after the step's first request; a full timeout of its own would end it at 700.
    expect(s.requests[1]!.cutAt! - s.requests[0]!.at).toBeLessThan(600);
  });

  it('a hanging request is cut at its step deadline; a concurrent step finishes', async () => {
    const s = await salesforceStub();
    s.failNext({ ...noRecords, delayMs: 5_000 }, { ...noRecords, delayMs: 500 });
    const hanging = stepError('salesforce.lead.upsert', lead, { timeoutMs: 300 });
    await until(() => s.requests.length === 1);
    const concurrent = runStep('salesforce.lead.upsert', lead, { timeoutMs: 3_000 });
    expect(await hanging).toBeInstanceOf(TransientError);
    await until(() => s.requests[0]!.cutAt !== undefined, 1_000);
    expect(s.requests[0]!.cutAt! - s.requests[0]!.at).toBeLessThan(800);
    expect(await concurrent).toMatchObject({ created: true });
    expect(s.requests[1]!.cutAt).toBeUndefined();
  });
});

describe('email: one SMTP connection across steps', () => {
  const mail = { to: 'dana@whitfield.example', subject: 'Your demo', text: 'Thanks, Dana!' };

  it('consecutive sends go over one connection, also after refused recipients', async () => {
    const s = await smtpStub();
    await runStep('email.send', mail);
    s.script({ rcpt: 550 }, { rcpt: 450 });
    expect(await stepError('email.send', mail)).toBeInstanceOf(PermanentError);
    expect(await stepError('email.send', mail)).toBeInstanceOf(TransientError);
    await runStep('email.send', mail);
    expect(s.messages).toHaveLength(2);
    expect(s.connections()).toBe(1);
  });

  it('a send left unanswered is cut at its deadline (its connection closed, reported as maybe delivered); a concurrent send completes', async () => {
    const s = await smtpStub();
    s.script({ holdDataMs: 5_000 });
    const started = Date.now();
    const unanswered = stepError('email.send', mail, { timeoutMs: 300 });
    await until(() => s.transactions() === 1);
    const concurrent = runStep('email.send', { ...mail, subject: 'Second' }, { timeoutMs: 3_000 });
    const error = await unanswered;
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/after the message was sent, so it may have been delivered/);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await concurrent).toMatchObject({ accepted: ['dana@whitfield.example'], rejected: [] });
    // The cut connection closes now, not when the server would have answered; the other stays for reuse.
    await until(() => s.openConnections() === 1, 1_000);
    expect(s.messages.map((m) => m.subject)).toEqual(['Second']);
  });

  it('a shutdown stops a send that has not begun; one under way is not abandoned', async () => {
    const s = await smtpStub();
    const stopped = new AbortController();
    stopped.abort();
    expect((await stepError('email.send', mail, { signal: stopped.signal })).message).toBe('aborted: the service is shutting down');
    expect(s.transactions()).toBe(0);

    s.script({ holdDataMs: 400 });
    const stopping = new AbortController();
    const sending = runStep('email.send', mail, { signal: stopping.signal, timeoutMs: 3_000 });
    await until(() => s.transactions() === 1);
    stopping.abort();
    expect(await sending).toMatchObject({ accepted: ['dana@whitfield.example'] });
  });

  it('a changed SMTP_URL between steps gives a transport for it', async () => {
    const first = await smtpStub();
    await runStep('email.send', mail);
    const second = await smtpStub();
    await runStep('email.send', mail);
    expect([first.messages.length, second.messages.length]).toEqual([1, 1]);
  });
});

describe('idle connections', () => {
  it('closeConnectors() (service shutdown) closes the kept connections', async () => {
    const hub = await hubspotStub();
    const sms = await twilioStub();
    const crm = await pipedriveStub();
    const smtp = await smtpStub();
    await runStep('hubspot.note.create', note);
    await runStep('twilio.sms.send', { to: '+14155550142', body: 'x' });
    await runStep('pipedrive.note.create', { content: 'a', person_id: 101 });
    await runStep('email.send', { to: 'dana@whitfield.example', subject: 'x', text: 'x' });
    const open = () => [hub, sms, crm, smtp].map((s) => s.openConnections());
    expect(open()).toEqual([1, 1, 1, 1]);
    await closeConnectors(testConnectors());
    await until(() => open().every((n) => n === 0), 1_000);
    // Steps after a close make new clients.
    await runStep('hubspot.note.create', note);
    expect(hub.connections()).toBe(2);
  });

  it('do not keep the process alive: a process that ran steps exits at once, without closing anything', async () => {
    const hub = await hubspotStub();
    const sms = await twilioStub();
    const script = join(import.meta.dirname, 'support', 'run-steps-child.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, HUBSPOT_BASE_URL: hub.url, TWILIO_BASE_URL: sms.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let doneAt = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!doneAt && out.includes('steps done')) doneAt = Date.now();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(out).toContain('steps done');
    expect(code).toBe(0);
    // The stubs keep idle connections open for 30 s and the agents for 15 s: only unref'd
    // sockets let the process end this soon.
    expect(Date.now() - doneAt).toBeLessThan(3_000);
    expect(hub.connections()).toBe(1);
    expect(sms.connections()).toBe(1);
  }, 20_000);
});
