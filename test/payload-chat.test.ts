// The chat (conversation-ended) schema, the 2.0 workspace call and the event envelope, on
// parsed JSON: which shape a body is read as, the exact paths of a 422, and the normalized call.
import { describe, expect, it } from 'vitest';
import type { Call } from '../src/payload/call.js';
import { parsePayload, type PayloadIssue } from '../src/payload/parse-payload.js';
import { fixture } from './support/fixtures.js';

type Json = Record<string, unknown>;

function accept(body: unknown, mode: 'strict' | 'warn' = 'strict'): { call: Call; unknownKeys: string[] } {
  const result = parsePayload(body, mode);
  if (!result.ok) throw new Error(`expected the payload to be accepted, got ${JSON.stringify(result.issues)}`);
  return result;
}

function reject(body: unknown, options: Parameters<typeof parsePayload>[2] = {}): PayloadIssue[] {
  const result = parsePayload(body, 'strict', options);
  if (result.ok) throw new Error(`expected the payload to be rejected, got ${JSON.stringify(result.call)}`);
  return result.issues;
}

const paths = (issues: PayloadIssue[]) => issues.map((i) => i.path).sort();

describe('conversation-ended payloads', () => {
  it('requires conversation_id as a UUID and type widget or whatsapp; everything else documented is optional', () => {
    expect(reject({ conversation_id: 1042, type: 'sms' })).toEqual([
      { path: 'conversation_id', message: 'Invalid input: expected string, received number' },
      { path: 'type', message: 'Invalid option: expected one of "widget"|"whatsapp"' },
    ]);
    const { call } = accept({ conversation_id: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890', type: 'widget' });
    expect(call).toMatchObject({ channel: 'widget', status: 'ended', event: 'conversation.ended', transcript: { turns: [], text: '' }, attachments: [] });
    expect(call.conversation).toEqual({ dashboard_id: null, message_count: null, customer_name: null, sender_name: null });
  });

  it('names every failing path, nested ones included, and unknown keys at each level', () => {
    const body = fixture('conversation-ended-whatsapp');
    body.status = 'closed';
    (body.transcript as Json[])[0]!.timestamp = '2026-02-30T14:00:00+01:00';
    (body.transcript as Json[])[1]!.sender = 'bot';
    (body.attachments as Json[])[0]!.type = 'sticker';
    (body.sender as Json).phone_number = '+0';
    body.ended_at = 'yesterday';
    expect(paths(reject(body))).toEqual([
      'attachments[0].type',
      'ended_at',
      'sender.phone_number',
      'status',
      'transcript[0].timestamp',
      'transcript[1].sender',
    ]);
  });

  it('in warn mode takes a chat with keys the schema does not know yet, and names them', () => {
    const body = fixture('conversation-ended-widget');
    body.rating = 5;
    (body.transcript as Json[])[0]!.message_id = 'm1';
    const { call, unknownKeys } = accept(body, 'warn');
    expect(unknownKeys.sort()).toEqual(['rating', 'transcript[0].message_id']);
    expect(call.id).toBe('a1b2c3d4-e5f6-7890-abcd-ef1234567890');
  });

  it('reads roles as speakers (system as system), each turn timed by timestamp_unix, else by its ISO time', () => {
    const body = fixture('conversation-ended-widget');
    const turns = body.transcript as Json[];
    turns[0] = { role: 'system', content: 'An agent joined the chat', timestamp: '2026-02-23T09:30:00+01:00' };
    delete body.formatted_transcript;
    const { call } = accept(body);
    expect(call.transcript.turns[0]).toEqual({ sender: 'system', text: 'An agent joined the chat', timestamp: Date.UTC(2026, 1, 23, 8, 30) / 1000 });
    expect(call.transcript.turns[1]).toEqual({ sender: 'human', text: 'I have a question about your service.', timestamp: 1740299472 });
    expect(call.transcript.text.split('\n')[0]).toBe('System: An agent joined the chat');
    // Times in the user's zone become UTC; the chat lasted from created_at to ended_at.
    expect(call).toMatchObject({ created_at: '2026-02-23T08:30:00.000Z', finished_at: '2026-02-23T09:00:00.000Z', duration: 1800 });
  });

  it('takes the WhatsApp sender number as the assistant phone (mappings match it like a line)', () => {
    const { call } = accept(fixture('conversation-ended-whatsapp'));
    expect(call).toMatchObject({ assistant_phone: '+19876543210', customer_phone: '+1234567890', variant: 'famulor' });
  });

  it('on a route that takes calls only, is a 422 at the root naming what the route takes', () => {
    expect(reject(fixture('conversation-ended-widget'), { receives: ['call'] })).toEqual([
      { path: '', message: 'this webhook URL receives calls (the post-call webhook); the body is chats (the conversation-ended webhook)' },
    ]);
  });
});

describe('the event envelope', () => {
  const workspace = () => fixture('event-call-completed-workspace');

  it('takes {type, call} as it takes {event, data}, and keeps the event', () => {
    const body = workspace();
    const respelled = { type: body.event, call: body.data };
    expect(accept(respelled).call).toEqual(accept(body).call);
    expect(accept(respelled).call.event).toBe('call.completed');
  });

  it('names the second spelling as an unknown key when both are given', () => {
    const body = workspace();
    expect(reject({ ...body, type: 'call.completed' })).toEqual([{ path: 'type', message: 'unknown key' }]);
    expect(reject({ ...body, call: body.data })).toEqual([{ path: 'call', message: 'unknown key' }]);
  });

  it('answers an unknown event with its name and does not read the rest', () => {
    const result = parsePayload({ event: 'booking.created', data: { anything: true } }, 'strict');
    expect(result).toEqual({
      ok: false,
      unknownEvent: 'booking.created',
      issues: [{ path: 'event', message: 'unknown event "booking.created": aftercall takes call.* and conversation.ended events' }],
    });
  });

  it('names an event that is no string, and a conversation.ended whose data is no conversation', () => {
    expect(reject({ event: 7, data: fixture('sales-qualification') })).toEqual([{ path: 'event', message: 'Invalid input: expected string, received number' }]);
    const issues = reject({ event: 'conversation.ended', data: { conversation: { id: 'c1' }, assistant: { id: 'a1' } } });
    expect(paths(issues)).toEqual(['data.assistant', 'data.conversation', 'data.conversation_id', 'data.type']);
  });

  it('tells the 2.0 workspace call from the classic call by its keys, with data.-prefixed paths', () => {
    const body = workspace();
    (body.data as Json).status = 'done';
    (body.data as Json).duration_sec = -1;
    (body.data as Json).customer_phone = '+14155550100';
    expect(paths(reject(body))).toEqual(['data.customer_phone', 'data.duration_sec', 'data.status']);
  });

  it('normalizes a 2.0 inbound call: the caller is the customer, summary and analysis are extracted variables', () => {
    const body = workspace();
    const data = body.data as Json;
    Object.assign(data, { direction: 'inbound', analysis: { sentiment: 'neutral', intent: 'pricing' }, transcript: [{ role: 'user', content: 'Hi' }] });
    const { call } = accept(body);
    expect(call).toMatchObject({
      id: '9cdfe044-a931-4679-a81f-87d352218f4a',
      customer_phone: '+4930123456',
      assistant_phone: '+4915123456789',
      assistant_id: 'e95d5309-d1b6-456e-b6bf-3ce99d3bf1b5',
      created_at: '2026-08-21T14:18:27.764844Z',
      finished_at: '2026-08-21T14:22:37.378161Z',
    });
    // The top-level sentiment wins over the analysis record's.
    expect(call.extracted_variables).toEqual({ intent: 'pricing', sentiment: 'positive', success: null, summary: 'The assistant completed the outbound call.' });
    expect(call.transcript).toEqual({ turns: [{ sender: 'human', text: 'Hi', timestamp: null }], text: 'Customer: Hi' });
  });
});
