// A stand-in for the calling platform's API (classic `/api/user/...` and Famulor 2.0
// `/api/v1/...`) for the recording vendor stub: phone numbers, SMS, leads, calls and the
// assistants' webhook settings, stateful, answering with the shapes and texts the public docs
// give (README.md beside this file lists the sources). aftercall sandbox serves it too.
import type { Route, StubReply, VendorRequest } from './vendor-stub.js';

export const CLASSIC_NUMBERS = [
  { id: 11, phone_number: '+4915550100', nickname: 'Sales line', country_code: 'DE', type: 'normal', sms_capable: true, has_active_subscription: true },
  { id: 12, phone_number: '+442071234567', nickname: null, country_code: 'GB', type: 'normal', sms_capable: false, has_active_subscription: true },
  { id: 13, phone_number: '+551140035011', nickname: 'Clínica SMS', country_code: 'BR', type: 'normal', sms_capable: true, has_active_subscription: true },
];

export const V1_NUMBER_ID = '3f6b1c2e-8a4d-4e5f-9a1b-2c3d4e5f6a7b';
export const V1_CAMPAIGN_ID = '9b2f4a1c-3d5e-4f60-8a7b-1c2d3e4f5a6b';
export const V1_ASSISTANT_ID = '22222222-2222-4222-8222-222222222222';

export interface ClassicAssistant {
  id: number;
  name: string;
  is_webhook_active: boolean;
  webhook_url: string | null;
  inbound_webhook_url: string | null;
  conversation_ended_webhook_url?: string | null;
}

export function fakePlatform() {
  const assistants: ClassicAssistant[] = [
    { id: 7, name: 'Sales', is_webhook_active: false, webhook_url: null, inbound_webhook_url: null, conversation_ended_webhook_url: null },
  ];
  let nextLead = 100;
  const route: Route = (req: VendorRequest): StubReply | undefined => {
    const body = (req.json ?? {}) as Record<string, unknown>;
    const key = `${req.method} ${req.path}`;
    if (key === 'GET /api/user/phone-numbers/all') return { body: { data: CLASSIC_NUMBERS } };
    if (key === 'POST /api/user/sms') {
      const from = CLASSIC_NUMBERS.find((n) => n.id === body.from);
      if (!from) return { status: 400, body: { message: 'From number not found' } };
      return { body: { message: 'SMS sent successfully', data: { sms_id: 'SMS_67890', from: from.phone_number, to: body.to, body: body.body, segments: 1, status: 'sent' } } };
    }
    if (key === 'POST /api/user/lead') {
      return { body: { message: 'Lead created successfully', data: { id: nextLead++, campaign_id: body.campaign_id, phone_number: body.phone_number, variables: body.variables, status: 'created' } } };
    }
    if (req.method === 'PUT' && /^\/api\/leads\/\d+$/.test(req.path)) return { body: { message: 'Lead successfully updated' } };
    if (req.method === 'DELETE' && /^\/api\/user\/leads\/\d+$/.test(req.path)) {
      return req.path.endsWith('/404') ? { status: 404, body: { message: 'Lead not found' } } : { body: { message: 'Lead deleted successfully' } };
    }
    if (key === 'POST /api/user/make_call') return { body: { message: 'Call initiated successfully', call_id: 480337, status: 'initiated' } };
    if (key === 'GET /api/user/assistants/get') {
      const perPage = Number(req.query.get('per_page') ?? 10);
      const page = Number(req.query.get('page') ?? 1);
      return {
        body: { data: assistants.slice((page - 1) * perPage, page * perPage), current_page: page, per_page: perPage, total: assistants.length, last_page: Math.max(1, Math.ceil(assistants.length / perPage)) },
      };
    }
    const webhook = /^\/api\/user\/assistants\/(enable|disable)-(webhook|inbound-webhook|conversation-ended-webhook)$/.exec(req.path);
    if (req.method === 'POST' && webhook) {
      const assistant = assistants.find((a) => a.id === body.assistant_id);
      if (!assistant) return { status: 404, body: { message: 'Assistant not found' } };
      const enable = webhook[1] === 'enable';
      const url = enable ? (body.webhook_url as string) : null;
      if (webhook[2] === 'webhook') {
        assistant.webhook_url = url;
        assistant.is_webhook_active = enable;
      } else if (webhook[2] === 'inbound-webhook') assistant.inbound_webhook_url = url;
      else assistant.conversation_ended_webhook_url = url;
      return { body: { message: enable ? 'Webhook enabled successfully' : 'Webhook disabled successfully', data: [] } };
    }
    // Famulor 2.0
    if (key === 'GET /api/v1/phone-numbers') return { body: { data: [{ id: V1_NUMBER_ID, phone_number: '+4930123456' }] } };
    if (key === 'POST /api/v1/sms/send') return { body: { data: { id: 'a1b2c3d4-0000-4000-8000-000000000001', status: 'queued', to: body.to } } };
    if (key === 'POST /api/v1/calls') return { status: 201, body: { data: { id: 'c0ffee00-0000-4000-8000-000000000002', status: 'queued' } } };
    if (key === `POST /api/v1/campaigns/${V1_CAMPAIGN_ID}/leads`) return { status: 201, body: { data: { id: 'dead0000-0000-4000-8000-000000000003', status: 'pending' } } };
    if (req.method === 'PATCH' && req.path.startsWith(`/api/v1/campaigns/${V1_CAMPAIGN_ID}/leads/`)) return { body: { data: { id: req.path.split('/').pop() } } };
    if (req.method === 'DELETE' && req.path.startsWith(`/api/v1/campaigns/${V1_CAMPAIGN_ID}/leads/`)) return { status: 204 };
    return undefined;
  };
  return { route, assistants };
}
