// The example mappings in mappings/, end to end: fixture → HTTP endpoint → store → worker →
// a local stub receiver in place of 127.0.0.1:4000. Each use case's requests are asserted.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture } from './support/fixtures.js';
import { startStubServer, type StubServer } from './support/stub-server.js';
import { startTestService, TEST_TOKEN, type TestService } from './support/test-service.js';

const MAPPINGS = join(import.meta.dirname, '..', 'mappings');
let service: TestService | undefined;
let receiver: StubServer | undefined;
afterEach(async () => {
  await service?.cleanup();
  await receiver?.close();
});

async function startWithExamples() {
  receiver = await startStubServer([{ status: 201, body: { id: 'rec-1' } }]);
  const files = Object.fromEntries(
    readdirSync(MAPPINGS)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => [f, readFileSync(join(MAPPINGS, f), 'utf8').replaceAll('http://127.0.0.1:4000', receiver!.url)]),
  );
  service = await startTestService(files);
  return { s: service, r: receiver };
}

async function deliver(name: string) {
  const { s, r } = await startWithExamples();
  const reply = await s.post(fixture(name));
  expect(reply.status).toBe(202);
  const runs = await s.waitFor(
    () => s.store.listRuns(),
    (list) => list.length === (reply.body.runs as number) && list.every((run) => ['succeeded', 'dead', 'invalid-variables'].includes(run.status)),
  );
  const byPath = (path: string) => r.requests.filter((q) => q.url === path).map((q) => q.json as Record<string, unknown>);
  return { runs, byPath, paths: r.requests.map((q) => q.url).sort() };
}

describe('example mappings', () => {
  it('sales-qualification: scored hot, lead in the CRM, one sales alert', async () => {
    const { runs, byPath, paths } = await deliver('sales-qualification');
    expect(runs.map((r) => `${r.mappingName}:${r.status}`).sort()).toEqual(['forward-completed-calls:succeeded', 'sales-qualification:succeeded']);
    expect(runs.find((r) => r.mappingName === 'sales-qualification')!.score).toMatchObject({ value: 78, band: 'hot' });
    expect(paths).toEqual(['/alerts/sales', '/calls', '/crm/leads']);
    expect(byPath('/crm/leads')[0]).toMatchObject({ phone: '+14155550142', name: 'Dana Whitfield', budget: 18000, score: 78, band: 'hot' });
    expect(byPath('/alerts/sales')[0]).toEqual({
      text: 'Hot lead (78): Dana Whitfield, +1 415 555 0142. Qualified: wants a demo for 25 seats',
      crm_status: 201,
    });
  });

  it('appointment-booking: calendar entry, then one confirmation on the chosen channel in local time', async () => {
    const { byPath, paths } = await deliver('appointment-booking');
    expect(paths).toEqual(['/calendar/appointments', '/calls', '/messages/whatsapp']);
    expect(byPath('/calendar/appointments')[0]).toMatchObject({ starts_at: '2025-03-12T14:30:00-03:00', patient: 'Mariana Costa' });
    expect(byPath('/messages/whatsapp')[0]!.text).toBe('Olá Mariana Costa! Sua avaliação ortodôntica está confirmada para 12/03/2025 14:30.');
  });

  it('support-triage: a p1 ticket with a transcript excerpt, and the on-call page', async () => {
    const { runs, byPath, paths } = await deliver('support-triage');
    expect(runs.find((r) => r.mappingName === 'support-triage')!.score).toMatchObject({ value: 95, band: 'p1' });
    expect(paths).toEqual(['/calls', '/helpdesk/tickets', '/oncall/page']);
    const ticket = byPath('/helpdesk/tickets')[0]!;
    expect(ticket).toMatchObject({ priority: 'p1', customer: 'Jonas Becker', resolved_on_call: false });
    expect(String(ticket.subject)).toBe('[p1] connectivity: Internet seit gestern Abend gestört, Techniker nötig');
    expect(String(ticket.transcript_excerpt).length).toBeLessThanOrEqual(601);
    expect(byPath('/oncall/page')[0]).toMatchObject({ ticket: 'rec-1' });
  });

  it('support-triage on a transferred call: the transfer targets reach the ticket; no page when not urgent', async () => {
    const { byPath, paths } = await deliver('with-transfers');
    const ticket = byPath('/helpdesk/tickets')[0]!;
    expect(ticket.priority).toBe('p2');
    expect(ticket.transferred_to).toEqual(expect.arrayContaining([expect.stringMatching(/^\+44/)]));
    expect(paths).not.toContain('/oncall/page');
  });

  it('chat-follow-up: a WhatsApp chat on the conversation-ended URL reaches the inbox with its file, then one callback task', async () => {
    const { s, r } = await startWithExamples();
    const chat = fixture('conversation-ended-whatsapp');
    (chat.extracted_variables as Record<string, unknown>).status = false;
    const reply = await fetch(`${s.baseUrl}/webhooks/conversation-ended/${TEST_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat),
    });
    expect(reply.status).toBe(202);
    const runs = await s.waitFor(
      () => s.store.listRuns(),
      (list) => list.length === 2 && list.every((run) => ['succeeded', 'dead'].includes(run.status)),
    );
    expect(runs.map((run) => `${run.mappingName}:${run.status}`).sort()).toEqual(['chat-follow-up:succeeded', 'forward-completed-calls:succeeded']);
    expect(r.requests.map((q) => q.url).sort()).toEqual(['/calls', '/inbox/conversations', '/tasks/callback']);
    const inbox = r.requests.find((q) => q.url === '/inbox/conversations')!.json as Record<string, unknown>;
    expect(inbox).toMatchObject({ channel: 'whatsapp', phone: '+1234567890', files: ['https://storage.famulor.de/conversations/attachments/abc123.jpg'] });
    expect(r.requests.find((q) => q.url === '/tasks/callback')!.json).toMatchObject({ phone: '+1234567890', inbox_item: 'rec-1' });
  });
});
