// The connector examples in examples/, end to end: fixture → HTTP endpoint → store → worker →
// the real vendor SDKs → local stubs answering like HubSpot, Twilio, Salesforce, Pipedrive and
// a real SMTP server. Asserts the CRM records and messages each example produces, that a CRM
// failing for a while still ends in exactly one contact, note and SMS, and that the examples
// refuse to load without credentials, naming the step and the variables.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { createConnectors, stepKinds } from '../src/connectors/index.js';
import { listMappingFiles, loadMappingFiles, MappingLoadError } from '../src/mapping/load-mappings.js';
import { fakeGoogleCalendar } from '../src/sandbox/fake-google-calendar.js';
import type { RunDetail } from '../src/store/store.js';
import { fakeHubSpot, fakePipedrive, fakeSalesforce, fakeTwilio } from './connectors/support/fake-vendors.js';
import { fakePlatform } from './connectors/support/platform/fake-platform.js';
import './connectors/support/step-harness.js'; // clears proxy variables before any SDK loads
import { startSmtpStub, type SmtpStub } from './connectors/support/smtp-stub.js';
import { fixture } from './support/fixtures.js';
import { closeAfterTest, deliver, EXAMPLES, exampleMappings, startService, vendor } from './support/example-harness.js';
import type { TestService } from './support/test-service.js';

const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';

async function smtpServer(): Promise<SmtpStub> {
  const smtp = await startSmtpStub();
  closeAfterTest(() => smtp.close());
  return smtp;
}

/** Connectors read their variables from the environment when a step runs. */
function setEnv(env: Record<string, string>): void {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
}

async function start(folder: string, env: Record<string, string> = {}): Promise<TestService> {
  return startService(exampleMappings(folder), env);
}

/** Each example step's kind, by mapping name and step id. */
const KIND_OF = new Map(
  readdirSync(EXAMPLES).flatMap((folder) =>
    listMappingFiles(join(EXAMPLES, folder)).flatMap((file) => {
      const spec = parseYaml(readFileSync(file, 'utf8')) as { name: string; steps: Array<{ id: string; use: string }> };
      return spec.steps.map((step) => [`${spec.name}/${step.id}`, step.use] as const);
    }),
  ),
);

/**
 * The steps' outputs (or statuses), each held to the output its kind declares: `aftercall
 * check` accepts `steps.<id>.<field>` by that declaration, so it must be what a step gives.
 */
function outputs(run: RunDetail): Record<string, unknown> {
  for (const step of run.steps.filter((st) => st.status === 'succeeded')) {
    const kind = stepKinds(createConnectors({})).get(KIND_OF.get(`${run.mappingName}/${step.stepId}`)!)!;
    const declared = kind.output as z.ZodObject;
    expect(declared.strict().safeParse(step.output).error, `${kind.kind} output`).toBeUndefined();
  }
  return Object.fromEntries(run.steps.map((step) => [step.stepId, step.status === 'succeeded' ? step.output : step.status]));
}

async function hubspotAndTwilio() {
  const hubspot = fakeHubSpot();
  const crm = await vendor(hubspot.route);
  const twilio = await vendor(fakeTwilio().route);
  setEnv({
    HUBSPOT_ACCESS_TOKEN: 'pat-na1-e2e',
    HUBSPOT_BASE_URL: crm.url,
    TWILIO_ACCOUNT_SID: TWILIO_SID,
    TWILIO_AUTH_TOKEN: 'twilio-e2e',
    TWILIO_FROM: '+16505550100',
    TWILIO_BASE_URL: twilio.url,
  });
  return { hubspot, crm, twilio };
}

describe('examples/hubspot-twilio: sales qualification', () => {
  it('a hot lead: contact, note with the transcript, deal, task and one SMS; outputs feed later steps', async () => {
    const { hubspot, crm, twilio } = await hubspotAndTwilio();
    const s = await start('hubspot-twilio');
    const [run] = await deliver(s, fixture('sales-qualification'));
    expect(run!.status).toBe('succeeded');
    expect(run!.score).toMatchObject({ value: 78, band: 'hot' });
    expect(crm.calls()).toEqual([
      'POST /crm/v3/objects/contacts/search',
      'POST /crm/v3/objects/contacts',
      'POST /crm/v3/objects/notes',
      'POST /crm/v3/objects/deals',
      'POST /crm/v3/objects/tasks',
    ]);
    expect(crm.requests[1]!.json).toEqual({
      associations: [],
      properties: {
        phone: '+14155550142',
        firstname: 'Dana',
        lastname: 'Whitfield',
        company: 'Whitfield Roofing',
        hs_lead_status: 'IN_PROGRESS',
        ai_lead_score: '78',
        ai_call_summary: 'Qualified: wants a demo for 25 seats',
      },
    });
    const note = hubspot.objects.notes![0]!;
    expect(note.properties.hs_note_body).toMatch(/^AI call \(5 min\), lead score 78 \(hot\): Qualified: wants a demo for 25 seats<br>Budget: 18000/);
    expect(note.properties.hs_note_body).toContain('<br><br>AI: Hi Dana, this is Sarah from Autocalls.');
    expect(note.properties.hs_note_body).toContain('Customer: Yes, that&#39;s me.');
    expect(note.properties.hs_timestamp).toBe('2025-03-04T16:07:23.901Z');
    expect(note.associations).toEqual([{ to: { id: '501' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 202 }] }]);
    expect(hubspot.objects.deals![0]!.properties).toEqual({
      dealname: 'Whitfield Roofing — Team Plan',
      amount: '18000',
      pipeline: 'default',
      dealstage: 'qualifiedtobuy',
    });
    expect(hubspot.objects.tasks![0]!.properties).toMatchObject({ hs_task_subject: 'Call back Dana Whitfield (hot lead, 78)', hs_task_priority: 'HIGH' });
    // The task is tied to the contact and to the deal the step before created.
    expect(hubspot.objects.tasks![0]!.associations).toEqual([
      { to: { id: '501' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 204 }] },
      { to: { id: '503' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 216 }] },
    ]);
    expect(twilio.requests.map((r) => r.form)).toEqual([
      { To: '+14155550142', From: '+16505550100', Body: "Thanks for your time, Dana! We'll be in touch within 6 weeks about your demo." },
    ]);
    expect(outputs(run!)).toEqual({
      contact: { id: '501', created: true },
      call_note: { id: '502', created: true },
      deal: { id: '503', created: true },
      follow_up: { id: '504', created: true },
      thank_you: { sid: expect.stringMatching(/^SM/), status: 'queued', segments: 1, to: '+14155550142' },
    });
  });

  it('a re-evaluated call updates the contact and adds the changed note; deal, task and SMS are not repeated', async () => {
    const { hubspot, crm, twilio } = await hubspotAndTwilio();
    const s = await start('hubspot-twilio');
    const call = fixture('sales-qualification');
    await deliver(s, call);
    (call.extracted_variables as Record<string, unknown>).summary = 'Qualified: demo for 30 seats next week';
    const runs = await deliver(s, call, 2);
    const second = runs.find((r) => r.revision === 2)!;
    expect(second.status).toBe('succeeded');
    expect(second.steps.map((step) => `${step.stepId}:${step.status}`)).toEqual([
      'contact:succeeded',
      'call_note:succeeded',
      'deal:skipped',
      'follow_up:skipped',
      'thank_you:skipped',
    ]);
    expect(crm.calls().slice(5)).toEqual(['POST /crm/v3/objects/contacts/search', 'PATCH /crm/v3/objects/contacts/501', 'POST /crm/v3/objects/notes']);
    expect(hubspot.objects.contacts).toHaveLength(1);
    expect(hubspot.objects.contacts![0]!.properties.ai_call_summary).toBe('Qualified: demo for 30 seats next week');
    expect(hubspot.objects.deals).toHaveLength(1);
    expect(twilio.requests).toHaveLength(1);
  });

  it('HubSpot failing for a while (503, 429 with Retry-After, then a 502 on the note): the run completes with one contact, one note, one SMS', async () => {
    const hubspot = fakeHubSpot();
    let noteFailures = 1;
    const crm = await vendor((req) => {
      if (req.path === '/crm/v3/objects/notes' && noteFailures-- > 0) return { status: 502, body: { status: 'error', message: 'Bad gateway' } };
      return hubspot.route(req);
    });
    crm.failNext(
      { status: 503, body: { status: 'error', message: 'Service unavailable', category: 'INTERNAL_ERROR' } },
      { status: 429, headers: { 'retry-after': '1' }, body: { status: 'error', message: 'You have reached your secondly limit.', category: 'RATE_LIMITS' } },
    );
    const twilio = await vendor(fakeTwilio().route);
    setEnv({ HUBSPOT_ACCESS_TOKEN: 'pat', HUBSPOT_BASE_URL: crm.url, TWILIO_ACCOUNT_SID: TWILIO_SID, TWILIO_AUTH_TOKEN: 't', TWILIO_FROM: '+16505550100', TWILIO_BASE_URL: twilio.url });
    const s = await start('hubspot-twilio');
    const [run] = await deliver(s, fixture('sales-qualification'));
    expect(run!.status).toBe('succeeded');
    expect(run!.attempts).toBe(3); // 503, 429, 502: three failed attempts before the one that finished
    expect(crm.calls()).toEqual([
      'POST /crm/v3/objects/contacts/search', // 503
      'POST /crm/v3/objects/contacts/search', // 429, Retry-After: 1
      'POST /crm/v3/objects/contacts/search',
      'POST /crm/v3/objects/contacts',
      'POST /crm/v3/objects/notes', // 502
      'POST /crm/v3/objects/notes', // the contact step is done: not repeated
      'POST /crm/v3/objects/deals',
      'POST /crm/v3/objects/tasks',
    ]);
    expect(crm.requests[2]!.at - crm.requests[1]!.at).toBeGreaterThanOrEqual(950);
    expect(hubspot.objects.contacts).toHaveLength(1);
    expect(hubspot.objects.notes).toHaveLength(1);
    expect(twilio.requests).toHaveLength(1);
    expect(run!.steps.find((step) => step.stepId === 'call_note')).toMatchObject({ status: 'succeeded', attempts: 2 });
  });
});

describe('examples/hubspot-twilio under load: writes batched across runs', () => {
  it('24 calls at once while HubSpot loses the answers to its first batches: with an idempotency property each call ends with one note, deal and task, and one SMS', async () => {
    const hubspot = fakeHubSpot();
    let lostAnswers = 2;
    const crm = await vendor((req) => {
      const answer = hubspot.route(req);
      // Written, then the answer is lost on the way back (a 502 from a proxy in between).
      if (req.path.endsWith('/batch/create') && lostAnswers-- > 0) return { status: 502, body: { status: 'error', message: 'Bad gateway' } };
      return answer;
    });
    const twilio = await vendor(fakeTwilio().route);
    setEnv({ HUBSPOT_ACCESS_TOKEN: 'pat', HUBSPOT_BASE_URL: crm.url, TWILIO_ACCOUNT_SID: TWILIO_SID, TWILIO_AUTH_TOKEN: 't', TWILIO_FROM: '+16505550100', TWILIO_BASE_URL: twilio.url });
    const mappings = exampleMappings('hubspot-twilio');
    const [file] = Object.keys(mappings);
    // The example with `idempotency_property` on the records that have no natural key.
    mappings[file!] = mappings[file!]!.replace(/\n( {2}- id: (call_note|deal|follow_up)\n(?: {4}.*\n)*? {4}with:\n)/g, '\n$1      idempotency_property: aftercall_key\n');
    expect(mappings[file!]!.match(/idempotency_property/g)).toHaveLength(3);
    const s = await startService(mappings);

    const calls = Array.from({ length: 24 }, (_, i) => {
      const call = fixture('sales-qualification');
      call.id = 7_000 + i;
      call.customer_phone = `+1415555${String(1000 + i)}`;
      return call;
    });
    for (const reply of await Promise.all(calls.map((call) => s.post(call)))) expect(reply.status).toBe(202);
    const runs = await s.waitFor(() => s.store.listRuns(), (list) => list.length === 24 && list.every((r) => ['succeeded', 'dead'].includes(r.status)), 30_000);
    expect(runs.map((r) => r.status)).toEqual(Array(24).fill('succeeded'));

    expect(lostAnswers).toBeLessThan(0); // both lost answers happened
    expect(crm.calls().filter((c) => c.endsWith('/batch/create')).length).toBeGreaterThanOrEqual(3);
    for (const type of ['notes', 'deals', 'tasks']) {
      const keys = hubspot.objects[type]!.map((o) => o.properties.aftercall_key);
      expect(keys, type).toHaveLength(24); // one record per call, whichever answers were lost
      expect(new Set(keys).size, type).toBe(24);
    }
    expect(hubspot.objects.contacts).toHaveLength(24);
    expect(twilio.requests).toHaveLength(24);
  });
});

describe('examples/salesforce-email: appointment booking', () => {
  it('lead by phone, the call logged as a Task, one email to the front desk with escaped values and the transcript', async () => {
    const sf = fakeSalesforce();
    const api = await vendor(sf.route);
    const smtp = await smtpServer();
    setEnv({ SALESFORCE_INSTANCE_URL: api.url, SALESFORCE_ACCESS_TOKEN: '00Dxx!e2e', SMTP_URL: smtp.url, EMAIL_FROM: 'Agenda <agenda@clinica-sorriso.example>' });
    const s = await start('salesforce-email');
    const call = fixture('appointment-booking');
    (call.extracted_variables as Record<string, unknown>).summary = 'Avaliação <aparelho> & retorno';
    const [run] = await deliver(s, call);
    expect(run!.status).toBe('succeeded');
    expect(api.calls()).toEqual([
      'GET /services/data/v59.0/query',
      'POST /services/data/v59.0/sobjects/Lead',
      'GET /services/data/v59.0/query',
      'POST /services/data/v59.0/sobjects/Task',
    ]);
    expect(api.requests[0]!.query.get('q')).toBe(
      "SELECT Id FROM Lead WHERE IsConverted = false AND (Phone = '+5511987650321' OR MobilePhone = '+5511987650321') ORDER BY CreatedDate ASC LIMIT 1",
    );
    expect(api.requests[1]!.json).toEqual({
      FirstName: 'Mariana',
      LastName: 'Costa',
      Company: 'Clínica Sorriso Paulista',
      Phone: '+5511987650321',
      LeadSource: 'Phone Inquiry',
      Status: 'Working - Contacted',
      Description: 'Avaliação <aparelho> & retorno',
    });
    expect(api.requests[2]!.query.get('q')).toBe("SELECT Id FROM Task WHERE CallObject = '730415' LIMIT 1");
    expect(api.requests[3]!.json).toMatchObject({
      Subject: 'AI call: appointment booked',
      TaskSubtype: 'Call',
      Status: 'Completed',
      CallDurationInSeconds: 148,
      CallType: 'Outbound',
      CallDisposition: 'Appointment booked',
      CallObject: '730415',
      ActivityDate: '2025-03-06',
      WhoId: '00Q5e0000000000001',
    });
    expect(String((api.requests[3]!.json as { Description: string }).Description)).toMatch(
      /^Avaliação <aparelho> & retorno\n\nAI: Olá Mariana[\s\S]*\n\nRecording: https:\/\/call\.otonistark\.com\.br\/storage\/recordings\/call-730415\.mp4$/,
    );

    expect(smtp.messages).toHaveLength(1);
    const [mail] = smtp.messages;
    expect(smtp.envelopes[0]).toEqual(['recepcao@clinica-sorriso.example']);
    expect(mail!.from?.value).toEqual([{ address: 'agenda@clinica-sorriso.example', name: 'Agenda' }]);
    expect(mail!.subject).toBe('Nova consulta: Mariana Costa, 12/03/2025 14:30');
    expect(mail!.messageId).toBe(`<aftercall-${run!.id}-notify_front_desk@clinica-sorriso.example>`);
    expect(mail!.text).toContain('Resumo: Avaliação <aparelho> & retorno');
    expect(mail!.html).toContain('<p><b>Mariana Costa</b> (+55 11 98765 0321) marcou <b>avaliação ortodôntica</b> para <b>12/03/2025 14:30</b>.</p>');
    expect(mail!.html).toContain('<p>Resumo: Avaliação &lt;aparelho&gt; &amp; retorno</p>');
    expect(mail!.html).toContain('<p>Lead no Salesforce: 00Q5e0000000000001</p>');
    expect(mail!.attachments.map((a) => a.filename)).toEqual(['transcricao.txt']);
    expect(mail!.attachments[0]!.content.toString('utf8')).toMatch(/^AI: Olá Mariana, aqui é a Júlia/);
    expect(outputs(run!)).toEqual({
      lead: { id: '00Q5e0000000000001', created: true },
      call_log: { id: '00T5e0000000000002', created: true },
      notify_front_desk: { message_id: mail!.messageId, accepted: ['recepcao@clinica-sorriso.example'], rejected: [] },
    });
  });
});

describe('examples/pipedrive: support triage', () => {
  async function pipedrive() {
    const pd = fakePipedrive();
    const api = await vendor(pd.route);
    setEnv({ PIPEDRIVE_API_TOKEN: 'pd-e2e', PIPEDRIVE_BASE_URL: api.url });
    return { pd, api, s: await start('pipedrive') };
  }

  it('a P1 call: person, prioritised note, call logged with duration and outcome, call-back, technician deal', async () => {
    const { pd, api, s } = await pipedrive();
    const [run] = await deliver(s, fixture('support-triage'));
    expect(run!.status).toBe('succeeded');
    expect(run!.score).toMatchObject({ value: 95, band: 'p1' });
    expect(api.calls()).toEqual([
      'GET /api/v2/persons/search',
      'POST /api/v2/persons',
      'POST /v1/notes',
      'POST /api/v2/activities',
      'POST /api/v2/activities',
      'POST /api/v2/deals',
    ]);
    expect(api.requests[0]!.url).toBe('/api/v2/persons/search?term=%2B4917612345098&fields=phone&exact_match=true&limit=1');
    expect(api.requests.every((r) => r.headers['x-api-token'] === 'pd-e2e')).toBe(true);
    expect(pd.of('persons')[0]!.data).toEqual({ name: 'Jonas Becker', phones: [{ value: '+4917612345098', primary: true, label: 'mobile' }] });
    const note = pd.of('notes')[0]!.data;
    expect(note.person_id).toBe(101);
    expect(note.content).toMatch(/^\[P1\] connectivity: Internet seit gestern Abend gestört, Techniker nötig<br>Contract \/ account: DSL-2231907<br>Not transferred<br>/);
    const [callLog, callBack] = pd.of('activities').map((a) => a.data);
    expect(callLog).toEqual({
      subject: 'Support call: connectivity (P1)',
      type: 'call',
      due_date: '2025-03-07',
      duration: '00:04',
      done: true,
      note: '<p><b>Outcome:</b> Not resolved</p><p>Internet seit gestern Abend gestört, Techniker nötig</p>',
      person_id: 101,
    });
    expect(callBack).toMatchObject({ subject: 'Call back Jonas Becker: connectivity', done: false, person_id: 101 });
    expect(pd.of('deals')[0]!.data).toEqual({
      title: 'Technician visit DSL-2231907: Internet seit gestern Abend gestört, Techniker nötig',
      value: 89,
      currency: 'EUR',
      person_id: 101,
    });
    expect(outputs(run!)).toEqual({
      person: { id: 101, created: true },
      note: { id: 102 },
      call_log: { id: 103 },
      call_back: { id: 104 },
      technician_visit: { id: 105 },
    });
  });

  it('a transferred billing call (P2): the transfer targets in the note, no technician deal; a known caller is found, not added', async () => {
    const { pd, api, s } = await pipedrive();
    pd.records.push({ id: 77, kind: 'persons', data: { name: 'Priya Shah', phones: [{ value: '+442079460318', primary: true }] } });
    const [run] = await deliver(s, fixture('with-transfers'));
    expect(run!.status).toBe('succeeded');
    expect(api.calls()).toEqual(['GET /api/v2/persons/search', 'POST /v1/notes', 'POST /api/v2/activities', 'POST /api/v2/activities']);
    expect(String(pd.of('notes')[0]!.data.content)).toContain('Transferred to: +442038085510, +442038085520');
    expect(pd.of('activities').map((a) => a.data.person_id)).toEqual([77, 77]);
    expect(outputs(run!)).toMatchObject({ person: { id: 77, created: false }, technician_visit: 'skipped' });
  });
});

describe('examples/google-calendar: appointment booking', () => {
  async function googleCalendar() {
    const google = fakeGoogleCalendar();
    const api = await vendor(google.route);
    const oauth = await vendor(google.route);
    const platform = await vendor(fakePlatform().route);
    setEnv({
      PLATFORM: 'autocalls',
      PLATFORM_API_KEY: 'e2e-platform-key',
      PLATFORM_BASE_URL: platform.url,
      PLATFORM_SMS_FROM: '+551140035011',
      GOOGLE_CLIENT_ID: '123-abc.apps.googleusercontent.com',
      GOOGLE_CLIENT_SECRET: 'GOCSPX-e2e',
      GOOGLE_REFRESH_TOKEN: '1//refresh-token',
      GOOGLE_CALENDAR_ID: 'agenda@clinica-sorriso.example',
      GOOGLE_CALENDAR_BASE_URL: api.url,
      GOOGLE_TOKEN_URL: `${oauth.url}/token`,
    });
    return { google, api, oauth, platform, s: await start('google-calendar') };
  }
  const EVENTS = '/calendar/v3/calendars/agenda%40clinica-sorriso.example/events';

  it('books the extracted slot for 45 minutes in São Paulo time, with the summary, then confirms by the platform\'s SMS', async () => {
    const { google, api, oauth, platform, s } = await googleCalendar();
    const [run] = await deliver(s, fixture('appointment-booking'));
    expect(run!.status).toBe('succeeded');
    expect(oauth.calls()).toEqual(['POST /token']);
    expect(api.calls()).toEqual([`GET ${EVENTS}`, `POST ${EVENTS}`]);
    expect(api.requests[0]!.query.getAll('privateExtendedProperty')).toEqual(['aftercall_call_id=730415']);
    expect(api.requests[1]!.json).toEqual({
      summary: 'avaliação ortodôntica: Mariana Costa',
      description: 'Avaliação agendada para quarta às 14h30\nTelefone: +55 11 98765 0321\nConfirmação por: whatsapp\nChamada: 730415',
      location: 'Clínica Sorriso Paulista',
      start: { dateTime: '2025-03-12T14:30:00-03:00', timeZone: 'America/Sao_Paulo' },
      end: { dateTime: '2025-03-12T15:15:00-03:00', timeZone: 'America/Sao_Paulo' },
      extendedProperties: { private: { aftercall_call_id: '730415' } },
    });
    expect(platform.calls()).toEqual(['GET /api/user/phone-numbers/all', 'POST /api/user/sms']);
    expect(platform.requests[1]!.json).toEqual({
      from: 13,
      to: '+5511987650321',
      body: 'Olá Mariana Costa! Sua avaliação ortodôntica na Clínica Sorriso Paulista está confirmada para 12/03/2025 às 14:30. Para remarcar, responda esta mensagem.',
    });
    expect(outputs(run!)).toEqual({
      book: { event_id: 'evt0001', html_link: expect.stringContaining('https://www.google.com/calendar/event?eid='), status: 'confirmed', updated: false },
      confirm: { id: 'SMS_67890', status: 'sent', to: '+5511987650321', from: '+551140035011', segments: 1 },
    });
    expect(google.events).toHaveLength(1);
  });

  it('a re-evaluated call with a moved slot updates the same event and texts no second time; Google failing for a while (429 with Retry-After, 503) still ends in one event', async () => {
    const { google, api, platform, s } = await googleCalendar();
    const call = fixture('appointment-booking');
    await deliver(s, call);
    (call.extracted_variables as Record<string, unknown>).appointment_date = '2025-03-13T10:00:00-03:00';
    api.failNext(
      { status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 429, message: 'Rate Limit Exceeded', errors: [{ domain: 'usageLimits', reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' }] } } },
      { status: 503, body: { error: { code: 503, message: 'Backend Error', errors: [{ domain: 'global', reason: 'backendError', message: 'Backend Error' }] } } },
    );
    const runs = await deliver(s, call, 2);
    const second = runs.find((r) => r.revision === 2)!;
    expect(second.status).toBe('succeeded');
    expect(second.attempts).toBe(2);
    expect(api.calls().slice(2)).toEqual([`GET ${EVENTS}`, `GET ${EVENTS}`, `GET ${EVENTS}`, `PATCH ${EVENTS}/evt0001`]);
    expect(api.requests[3]!.at - api.requests[2]!.at).toBeGreaterThanOrEqual(950);
    expect(outputs(second)).toEqual({ book: expect.objectContaining({ event_id: 'evt0001', updated: true }), confirm: 'skipped' });
    expect(google.events).toHaveLength(1);
    expect(google.events[0]!.data.start).toEqual({ dateTime: '2025-03-13T10:00:00-03:00', timeZone: 'America/Sao_Paulo' });
    expect(platform.calls().filter((c) => c === 'POST /api/user/sms')).toHaveLength(1);
    expect(second.steps.find((step) => step.stepId === 'confirm')).toMatchObject({ status: 'skipped' });
  });
});

describe('examples without credentials', () => {
  // The loader `aftercall check` and the service's start both run.
  it('refuse to load, naming each step and the variables it needs', () => {
    for (const name of Object.keys(process.env)) {
      if (/^(HUBSPOT|SALESFORCE|PIPEDRIVE|TWILIO|SMTP|EMAIL|GOOGLE|PLATFORM)(_|$)/.test(name)) vi.stubEnv(name, '');
    }
    const problems = (folder: string) => {
      try {
        loadMappingFiles(listMappingFiles(join(EXAMPLES, folder)), stepKinds(createConnectors({})));
      } catch (error) {
        if (error instanceof MappingLoadError) return error.problems.map((p) => `${p.file.split('/').pop()} ${p.key}: ${p.message}`);
        throw error;
      }
      return [];
    };
    expect(problems('hubspot-twilio')).toEqual([
      'sales-qualification.yaml steps.0.use: step "contact" (hubspot.contact.upsert) needs HUBSPOT_ACCESS_TOKEN',
      'sales-qualification.yaml steps.1.use: step "call_note" (hubspot.note.create) needs HUBSPOT_ACCESS_TOKEN',
      'sales-qualification.yaml steps.2.use: step "deal" (hubspot.deal.create) needs HUBSPOT_ACCESS_TOKEN',
      'sales-qualification.yaml steps.3.use: step "follow_up" (hubspot.task.create) needs HUBSPOT_ACCESS_TOKEN',
      'sales-qualification.yaml steps.4.use: step "thank_you" (twilio.sms.send) needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN',
    ]);
    expect(problems('salesforce-email')).toEqual([
      'appointment-booking.yaml steps.0.use: step "lead" (salesforce.lead.upsert) needs SALESFORCE_ACCESS_TOKEN and SALESFORCE_INSTANCE_URL, or SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET and SALESFORCE_LOGIN_URL',
      'appointment-booking.yaml steps.1.use: step "call_log" (salesforce.task.create) needs SALESFORCE_ACCESS_TOKEN and SALESFORCE_INSTANCE_URL, or SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET and SALESFORCE_LOGIN_URL',
      'appointment-booking.yaml steps.2.use: step "notify_front_desk" (email.send) needs SMTP_URL',
    ]);
    expect(problems('pipedrive')).toEqual([
      'support-triage.yaml steps.0.use: step "person" (pipedrive.person.upsert) needs PIPEDRIVE_API_TOKEN',
      'support-triage.yaml steps.1.use: step "note" (pipedrive.note.create) needs PIPEDRIVE_API_TOKEN',
      'support-triage.yaml steps.2.use: step "call_log" (pipedrive.activity.create) needs PIPEDRIVE_API_TOKEN',
      'support-triage.yaml steps.3.use: step "call_back" (pipedrive.activity.create) needs PIPEDRIVE_API_TOKEN',
      'support-triage.yaml steps.4.use: step "technician_visit" (pipedrive.deal.create) needs PIPEDRIVE_API_TOKEN',
    ]);
    expect(problems('google-calendar')).toEqual([
      'appointment-booking.yaml steps.0.use: step "book" (google.calendar.event.create) needs GOOGLE_SERVICE_ACCOUNT_JSON (or GOOGLE_SERVICE_ACCOUNT_KEY_FILE), or GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and GOOGLE_REFRESH_TOKEN',
      'appointment-booking.yaml steps.1.use: step "confirm" (platform.sms.send) needs PLATFORM_API_KEY',
    ]);
  });
});
