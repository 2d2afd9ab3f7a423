// Chats (the conversation-ended webhook) and Famulor 2.0 workspace events through the real
// service: both routes, dedupe and revisions, chat ids kept apart from call ids, the envelope's
// spellings, unknown events in quarantine, signatures, matching and the Runs page.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { signBody } from '../src/ingest/body-signature.js';
import { maskUrl } from '../src/masking.js';
import { fixture } from './support/fixtures.js';
import { LOG_ONLY, startTestService, TEST_TOKEN, type TestService } from './support/test-service.js';

const ADMIN = 'admin-token-0123456789';
const CHAT_PATH = `/webhooks/conversation-ended/${TEST_TOKEN}`;
const CALL_PATH = `/webhooks/post-call/${TEST_TOKEN}`;

let services: TestService[] = [];
async function start(env: Record<string, string> = {}, mappings: Record<string, string> = LOG_ONLY) {
  const service = await startTestService(mappings, { ADMIN_TOKEN: ADMIN, ...env });
  services.push(service);
  return service;
}
afterEach(async () => {
  for (const s of services) await s.cleanup().catch(() => undefined);
  services = [];
});

type Json = Record<string, unknown>;
const send = (s: TestService, path: string, body: unknown, headers: Record<string, string> = {}) =>
  request(s.server)
    .post(path)
    .set({ 'content-type': 'application/json', ...headers })
    .send(typeof body === 'string' ? body : JSON.stringify(body));

const settled = (s: TestService, n: number) =>
  s.waitFor(() => s.store.listRuns(), (runs) => runs.length === n && runs.every((r) => ['succeeded', 'dead', 'skipped'].includes(r.status)));

describe('the conversation-ended route', () => {
  it('accepts each documented example, answers its conversation id, and the chat is a call of its channel', async () => {
    const s = await start();
    for (const name of ['conversation-ended-widget', 'conversation-ended-whatsapp', 'conversation-ended-widget-2026-03', 'conversation-ended-whatsapp-2026-03']) {
      const body = fixture(name);
      const reply = await send(s, CHAT_PATH, body);
      // The first-version examples share their conversation ids with the current ones: a new revision.
      expect(reply.status, name).toBe(202);
      expect(reply.body).toMatchObject({ status: 'accepted', call_id: body.conversation_id });
    }
    const runs = await settled(s, 4);
    expect(runs.map((r) => r.callId).sort()).toEqual([
      'conversation:a1b2c3d4-e5f6-7890-abcd-ef1234567890',
      'conversation:a1b2c3d4-e5f6-7890-abcd-ef1234567890',
      'conversation:b2c3d4e5-f6a7-8901-bcde-f12345678901',
      'conversation:b2c3d4e5-f6a7-8901-bcde-f12345678901',
    ]);
    const whatsapp = (await s.store.getRun(runs.find((r) => r.callId.endsWith('f12345678901') && r.revision === 1)!.id))!;
    expect(whatsapp.call).toMatchObject({
      channel: 'whatsapp',
      event: 'conversation.ended',
      status: 'ended',
      customer_phone: '+1234567890',
      assistant_phone: '+19876543210',
      attachments: [{ type: 'image', url: 'https://storage.famulor.de/conversations/attachments/abc123.jpg', filename: 'appointment-form.jpg' }],
      conversation: { dashboard_id: 1043, message_count: 12, customer_name: null, sender_name: 'My Business' },
    });
    expect(whatsapp.call.transcript.turns[0]).toEqual({ sender: 'human', text: "Hello, I'd like to book an appointment", timestamp: 1740315600 });
    expect(whatsapp.call.transcript.text).toBe(fixture('conversation-ended-whatsapp').formatted_transcript);
  });

  it('dedupes a re-sent conversation and makes a revision of a changed one, as for calls', async () => {
    const s = await start();
    const body = fixture('conversation-ended-widget');
    expect((await send(s, CHAT_PATH, body)).body).toMatchObject({ status: 'accepted', revision: 1 });
    // The platform's retry after 30 s, with other whitespace: the same content.
    const retry = await send(s, CHAT_PATH, JSON.stringify(body, null, 4));
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ status: 'duplicate', revision: 1 });
    (body.extracted_variables as Json).summary = 'Chose the Pro plan after all';
    expect((await send(s, CHAT_PATH, body)).body).toMatchObject({ status: 'accepted', revision: 2 });
    await settled(s, 2);
  });

  it('never takes a chat and a call of the same id for one call', async () => {
    const s = await start();
    const chat = fixture('conversation-ended-widget');
    const call = fixture('event-call-completed-workspace');
    // A 2.0 call with the conversation's UUID, and a classic call with its dashboard id.
    (call.data as Json).id = chat.conversation_id;
    const classic = fixture('sales-qualification');
    classic.id = chat.id;
    for (const [path, body] of [
      [CHAT_PATH, chat],
      [CALL_PATH, call],
      [CALL_PATH, classic],
    ] as const) {
      expect((await send(s, path, body)).body).toMatchObject({ status: 'accepted', revision: 1 });
    }
    const keys = (await settled(s, 3)).map((r) => r.callId).sort();
    expect(keys).toEqual(['1042', 'a1b2c3d4-e5f6-7890-abcd-ef1234567890', 'conversation:a1b2c3d4-e5f6-7890-abcd-ef1234567890']);
  });

  it('answers 422 to a call sent to the chat URL, naming what it receives, and keeps the body', async () => {
    const s = await start();
    const reply = await send(s, CHAT_PATH, fixture('sales-qualification'));
    expect(reply.status).toBe(422);
    expect(reply.body).toMatchObject({
      code: 'INVALID_PAYLOAD',
      errors: [{ path: '', message: 'this webhook URL receives chats (the conversation-ended webhook); the body is calls (the post-call webhook)' }],
    });
    expect(await s.store.listQuarantine()).toHaveLength(1);
  });

  it('names each failing field of a chat with a 422', async () => {
    const s = await start();
    const body = fixture('conversation-ended-whatsapp');
    body.type = 'sms';
    (body.transcript as Json[])[1]!.role = 'bot';
    (body.attachments as Json[])[0]!.url = 'javascript:alert(1)';
    body.customer_phone = '0151 2345';
    body.channel = 'whatsapp';
    const reply = await send(s, CHAT_PATH, body);
    expect(reply.status).toBe(422);
    expect((reply.body.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual([
      'attachments[0].url',
      'channel',
      'customer_phone',
      'transcript[1].role',
      'type',
    ]);
  });

  it('is also taken on the post-call URL, told by its conversation_id', async () => {
    const s = await start();
    const reply = await send(s, CALL_PATH, fixture('conversation-ended-widget'));
    expect(reply.status).toBe(202);
    const [run] = await settled(s, 1);
    expect(run!.callId).toBe('conversation:a1b2c3d4-e5f6-7890-abcd-ef1234567890');
  });

  it('keeps its path token out of the logs, as on post-call', () => {
    expect(maskUrl(CHAT_PATH)).toBe('/webhooks/conversation-ended/[token]');
  });

  it('answers 405 to other methods on the new route, as on post-call', async () => {
    const s = await start();
    const reply = await request(s.server).get(CHAT_PATH);
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('POST');
  });
});

describe('Famulor 2.0 workspace events', () => {
  const conversation = fixture('conversation-ended-whatsapp');
  const workspaceCall = fixture('event-call-completed-workspace').data as Json;

  it.each([
    ['event', 'data'],
    ['type', 'data'],
    ['event', 'call'],
    ['type', 'call'],
  ])('takes the envelope spelled {%s, %s} for calls and chats', async (eventKey, dataKey) => {
    const s = await start();
    const call = await send(s, CALL_PATH, { [eventKey]: 'call.completed', [dataKey]: workspaceCall });
    expect(call.body).toMatchObject({ status: 'accepted', call_id: workspaceCall.id });
    const chat = await send(s, CALL_PATH, { [eventKey]: 'conversation.ended', [dataKey]: conversation });
    expect(chat.body).toMatchObject({ status: 'accepted', call_id: conversation.conversation_id });
    // The bare chat is the same content: its envelope changes nothing.
    expect((await send(s, CHAT_PATH, conversation)).body).toMatchObject({ status: 'duplicate' });
    const runs = await settled(s, 2);
    const detail = (await s.store.getRun(runs.find((r) => r.callId === workspaceCall.id)!.id))!;
    expect(detail.call).toMatchObject({
      event: 'call.completed',
      channel: 'phone',
      variant: 'famulor',
      customer_phone: '+4915123456789',
      assistant_phone: '+4930123456',
      duration: 247,
      extracted_variables: { summary: 'The assistant completed the outbound call.', sentiment: 'positive', success: null },
    });
    expect(detail.call.transcript.turns.map((t) => t.sender)).toEqual(['bot', 'human']);
  });

  it('answers an unknown event with 422 UNKNOWN_EVENT naming it, keeps it in quarantine, and a replay answers the same, never a 5xx', async () => {
    const s = await start();
    const body = fixture('unsupported/event-booking-created');
    const reply = await send(s, CALL_PATH, body);
    expect(reply.status).toBe(422);
    expect(reply.body).toMatchObject({
      code: 'UNKNOWN_EVENT',
      event: 'booking.created',
      errors: [{ path: 'event', message: 'unknown event "booking.created": aftercall takes call.* and conversation.ended events' }],
    });
    const receiptId = reply.body.receipt_id as number;
    const receipt = (await s.store.getReceipt(receiptId))!;
    expect(receipt).toMatchObject({ outcome: 'quarantined', reason: 'unknown-event' });
    expect(JSON.parse(receipt.rawBody!.toString('utf8'))).toEqual(body);
    const replay = await request(s.server).post(`/api/quarantine/${receiptId}/replay`).set('authorization', `Bearer ${ADMIN}`);
    expect(replay.status).toBe(422);
    expect(replay.body).toMatchObject({ code: 'UNKNOWN_EVENT', event: 'booking.created' });
    expect((await s.store.getReceipt(receiptId))!.replayedAt).toBeNull();
    // The same on the chat URL, and for the `type` spelling.
    const typed = await send(s, CHAT_PATH, { type: 'booking.cancelled', data: body.data });
    expect(typed.body).toMatchObject({ code: 'UNKNOWN_EVENT', event: 'booking.cancelled', errors: [{ path: 'type' }] });
  });

  describe('signatures (WEBHOOK_SIGNING_SECRET)', () => {
    const raw = JSON.stringify(fixture('event-conversation-ended'));
    it.each([
      ['valid', signBody('ws-secret', raw), 202],
      ['signed with another secret', signBody('other-secret', raw), 401],
      ['over other bytes', signBody('ws-secret', `${raw} `), 401],
      ['missing', undefined, 401],
    ] as const)('a signature %s', async (_label, signature, status) => {
      const s = await start({ WEBHOOK_SIGNING_SECRET: 'ws-secret' });
      for (const path of [CALL_PATH, CHAT_PATH]) {
        const reply = await send(s, path, raw, signature ? { 'x-famulor-signature': signature } : {});
        expect(reply.status, path).toBe(path === CHAT_PATH && status === 202 ? 200 : status);
        if (status === 401) expect(reply.body.code).toBe('BAD_SIGNATURE');
      }
      if (status === 401) expect(await s.store.listQuarantine()).toHaveLength(0);
    });
  });
});

describe('mappings and the Runs page', () => {
  const MAPPINGS = {
    'whatsapp.yaml':
      'name: whatsapp-follow-up\nmatch: { channel: whatsapp }\nsteps:\n  - { id: note, use: log, with: { message: "chat {{ call.id }} on {{ call.channel }}", level: debug } }\n',
    'chats.yaml': 'name: every-chat\nmatch: { event: conversation.ended }\nsteps:\n  - { id: note, use: log, with: { message: "chat", level: debug } }\n',
    'calls.yaml': 'name: phone-only\nmatch: { channel: [phone] }\nsteps:\n  - { id: note, use: log, with: { message: "call", level: debug } }\n',
  };

  it('match on channel and event; the Runs page shows a chat run with its channel', async () => {
    const s = await start({}, MAPPINGS);
    await send(s, CHAT_PATH, fixture('conversation-ended-whatsapp'));
    await send(s, CHAT_PATH, fixture('conversation-ended-widget'));
    await send(s, CALL_PATH, fixture('sales-qualification'));
    const runs = await settled(s, 4);
    const byCall = (suffix: string) =>
      runs
        .filter((r) => r.callId.endsWith(suffix))
        .map((r) => r.mappingName)
        .sort();
    expect(byCall('f12345678901')).toEqual(['every-chat', 'whatsapp-follow-up']);
    expect(byCall('ef1234567890')).toEqual(['every-chat']);
    expect(byCall('918273')).toEqual(['phone-only']);

    const agent = request.agent(s.server);
    const form = await agent.get('/admin/login');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
    await agent.post('/admin/login').type('form').send({ _csrf: csrf, token: ADMIN });
    const list = (await agent.get('/admin')).text;
    const chatRun = runs.find((r) => r.mappingName === 'whatsapp-follow-up')!;
    const row = list.slice(list.indexOf(`/admin/runs/${chatRun.id}"`));
    expect(row.slice(0, row.indexOf('</tr>'))).toContain('<span class="badge">chat</span>');
    const page = (await agent.get(`/admin/runs/${chatRun.id}`)).text;
    expect(page).toContain('<div><span>Channel</span>whatsapp</div>');
    expect(page).toContain('(conversation.ended)');
    expect(page).toContain('Attachments: image appointment-form.jpg');
  });
});
