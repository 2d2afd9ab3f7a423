// The platform's inbound-call request, sent before an inbound call is connected (shapes in
// test/fixtures/inbound/README.md): the classic body is `{customer_phone, assistant_phone}`,
// newer versions add `assistant_id`, `call_id`, `timestamp`, `status` and `variables`. Every
// documented field is checked; keys the platform adds later are kept, not refused: a refusal
// here connects the caller without any variables.
import { z } from 'zod';
import { payloadIssues, type PayloadIssue } from '../../payload/payload-issues.js';

const phone = z.string().trim().max(64, 'must be at most 64 characters');
const id = z.union([z.string().min(1).max(128), z.number().int()]);

const inboundRequestSchema = z.looseObject({
  customer_phone: phone.nullish().describe("The caller's number; null when withheld."),
  assistant_phone: phone.nullish().describe('The number called (the assistant).'),
  assistant_id: id.nullish(),
  call_id: id.nullish(),
  timestamp: z.string().max(64).nullish(),
  status: z.string().max(64).nullish(),
  variables: z.record(z.string(), z.unknown()).nullish(),
});

export interface InboundRequest {
  customer_phone: string | null;
  assistant_phone: string | null;
  assistant_id: string | number | null;
  call_id: string | number | null;
  timestamp: string | null;
  status: string | null;
  variables: Record<string, unknown>;
  /** Every key as sent, for templates that read what this code does not know yet. */
  body: Record<string, unknown>;
}

export type InboundParse = { ok: true; request: InboundRequest } | { ok: false; issues: PayloadIssue[] };

export function parseInboundRequest(payload: unknown): InboundParse {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { ok: false, issues: [{ path: '', message: 'the body must be a JSON object' }] };
  }
  const parsed = inboundRequestSchema.safeParse(payload);
  if (!parsed.success) return { ok: false, issues: payloadIssues(parsed.error) };
  const d = parsed.data;
  return {
    ok: true,
    request: {
      customer_phone: d.customer_phone || null,
      assistant_phone: d.assistant_phone || null,
      assistant_id: d.assistant_id ?? null,
      call_id: d.call_id ?? null,
      timestamp: d.timestamp ?? null,
      status: d.status ?? null,
      variables: d.variables ?? {},
      body: payload as Record<string, unknown>,
    },
  };
}
