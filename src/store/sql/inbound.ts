// Inbound-call variable requests (inbound_requests) and the `earlier_calls` lookup over the
// calls aftercall stored: written once for both backends.
import type { EarlierCalls, InboundDetail, InboundLookupOutcome, InboundRecordInput, InboundSummary } from '../inbound-records.js';
import { sql } from './query.js';
import { all, get, type Flavor, type Work } from './work.js';

interface InboundRow {
  id: number | string;
  request_id: string;
  sender: string;
  received_at: number | string;
  outcome: 'answered' | 'invalid';
  status: number;
  customer_phone: string | null;
  assistant_phone: string | null;
  mappings: string;
  duration_ms: number | string;
  deadline_hit: number | boolean;
  problems: number | string;
}

interface InboundDetailRow extends InboundRow {
  raw_body: Buffer | Uint8Array;
  answer: string;
  lookups: string;
}

const SUMMARY_COLUMNS = sql`id, request_id, sender, received_at, outcome, status, customer_phone, assistant_phone, mappings,
  duration_ms, deadline_hit, problems`;

export function* recordInbound(f: Flavor, input: InboundRecordInput): Work<{ id: number }> {
  const problems = input.lookups.filter((l) => l.outcome === 'timeout' || l.outcome === 'failed').length;
  const row = yield* get<{ id: number | string }>(
    sql`INSERT INTO inbound_requests (request_id, sender, received_at, outcome, status, customer_phone, assistant_phone,
          raw_body, answer, mappings, lookups, duration_ms, deadline_hit, problems)
        VALUES (${input.requestId}, ${input.sender}, ${input.receivedAt}, ${input.outcome}, ${input.status}, ${input.customerPhone},
          ${input.assistantPhone}, ${f.payloads.packBody(input.rawBody)}, ${JSON.stringify(input.answer)}, ${JSON.stringify(input.mappings)},
          ${JSON.stringify(input.lookups)}, ${Math.round(input.durationMs)}, ${f.kind === 'sqlite' ? Number(input.deadlineHit) : input.deadlineHit},
          ${problems})
        RETURNING id`,
  );
  return { id: Number(row!.id) };
}

export function* listInbound(limit: number): Work<InboundSummary[]> {
  const rows = yield* all<InboundRow>(sql`SELECT ${SUMMARY_COLUMNS} FROM inbound_requests ORDER BY id DESC LIMIT ${limit}`);
  return rows.map(toSummary);
}

export function* getInbound(f: Flavor, id: number): Work<InboundDetail | null> {
  const row = yield* get<InboundDetailRow>(sql`SELECT ${SUMMARY_COLUMNS}, raw_body, answer, lookups FROM inbound_requests WHERE id = ${id}`);
  if (!row) return null;
  const body = Buffer.isBuffer(row.raw_body) ? row.raw_body : Buffer.from(row.raw_body);
  return {
    ...toSummary(row),
    rawBody: f.payloads.unpackBody(body) ?? Buffer.alloc(0),
    answer: JSON.parse(row.answer) as unknown,
    lookups: JSON.parse(row.lookups) as InboundLookupOutcome[],
  };
}

/** Calls from `phone` (non-test revisions): how many, and the newest one's time, summary and status. */
export function* earlierCalls(f: Flavor, phone: string): Work<EarlierCalls> {
  const count = yield* get<{ n: number | string }>(
    sql`SELECT COUNT(DISTINCT call_row_id) AS n FROM revisions v WHERE v.customer_phone = ${phone} AND NOT v.is_test`,
  );
  const latest = yield* get<{ created_at: number | string; call_json: Buffer | string }>(
    sql`SELECT v.created_at, v.call_json FROM revisions v WHERE v.customer_phone = ${phone} AND NOT v.is_test
        ORDER BY v.created_at DESC, v.id DESC LIMIT 1`,
  );
  if (!latest) return { count: 0, last_call_at: null, last_summary: null, last_status: null };
  const call = JSON.parse(f.payloads.unpackCall(latest.call_json)) as {
    status?: string;
    finished_at?: string | null;
    created_at?: string | null;
    extracted_variables?: Record<string, unknown>;
  };
  const summary = call.extracted_variables?.summary;
  return {
    count: Number(count?.n ?? 0),
    last_call_at: call.finished_at ?? call.created_at ?? new Date(Number(latest.created_at)).toISOString(),
    last_summary: typeof summary === 'string' ? summary : null,
    last_status: call.status ?? null,
  };
}

function toSummary(row: InboundRow): InboundSummary {
  return {
    id: Number(row.id),
    requestId: row.request_id,
    sender: row.sender,
    receivedAt: Number(row.received_at),
    outcome: row.outcome,
    status: Number(row.status),
    customerPhone: row.customer_phone,
    assistantPhone: row.assistant_phone,
    mappings: JSON.parse(row.mappings) as string[],
    durationMs: Number(row.duration_ms),
    deadlineHit: row.deadline_hit === true || row.deadline_hit === 1,
    problems: Number(row.problems),
  };
}
