// Receipts: reading them back, the quarantine, replays, and the bodies a call was delivered with.
import { toCallPayload, toReceipt, type CallPayloadRow, type ReceiptRow } from '../rows.js';
import type { CallPayload, Receipt, ReceiptOutcome, SenderHeaders } from '../records.js';
import { raw, sql, type Query } from './query.js';
import { all, get, run, type Flavor, type Work } from './work.js';

const RECEIPT_COLUMNS = raw('t.id, t.request_id, t.sender, t.received_at, t.outcome, t.reason, t.issues, t.raw_body, t.call_key, t.headers, t.dismissed_at');

export function* getReceipt(f: Flavor, id: number): Work<Receipt | null> {
  const row = yield* get<ReceiptRow>(
    sql`SELECT ${RECEIPT_COLUMNS}, v.revision, t.replayed_at
        FROM receipts t LEFT JOIN revisions v ON v.id = t.revision_id WHERE t.id = ${id}`,
  );
  return row ? toReceipt({ ...row, raw_body: f.payloads.unpackBody(row.raw_body) }) : null;
}

export function* listQuarantine(f: Flavor, limit: number): Work<Receipt[]> {
  const rows = yield* all<ReceiptRow>(
    sql`SELECT ${RECEIPT_COLUMNS}, CAST(NULL AS INTEGER) AS revision, t.replayed_at
        FROM receipts t WHERE t.outcome = 'quarantined' AND t.dismissed_at IS NULL ORDER BY t.id DESC LIMIT ${limit}`,
  );
  return rows.map((row) => toReceipt({ ...row, raw_body: f.payloads.unpackBody(row.raw_body) }));
}

export function* markReplayed(receiptId: number, at: number): Work<void> {
  yield* run(sql`UPDATE receipts SET replayed_at = ${at} WHERE id = ${receiptId} AND outcome = 'quarantined'`);
}

/** Takes a quarantined receipt off the list; its body stays until retention purges it. */
export function* dismissQuarantined(receiptId: number, at: number): Work<boolean> {
  return (yield* run(sql`UPDATE receipts SET dismissed_at = ${at} WHERE id = ${receiptId} AND outcome = 'quarantined' AND dismissed_at IS NULL`)) > 0;
}

/** A receipt's row (its body as stored: Flavor.payloads); its id back. */
export function insertReceipt(
  input: { requestId: string; sender: string; receivedAt: number; headers?: SenderHeaders },
  outcome: ReceiptOutcome,
  extra: { reason?: string; issues?: string; rawBody?: Buffer | null; callKey?: string; revisionId?: number },
): Query {
  return sql`INSERT INTO receipts (request_id, sender, received_at, outcome, reason, issues, raw_body, call_key, revision_id, headers)
    VALUES (${input.requestId}, ${input.sender}, ${input.receivedAt}, ${outcome}, ${extra.reason ?? null}, ${extra.issues ?? null},
      ${extra.rawBody ?? null}, ${extra.callKey ?? null}, ${extra.revisionId ?? null}, ${headersText(input.headers)}) RETURNING id`;
}

/** The headers column: JSON, NULL when the caller kept none. */
export function headersText(headers: SenderHeaders | undefined): string | null {
  return headers ? JSON.stringify(headers) : null;
}

export function* quarantineDelivery(f: Flavor, input: Parameters<typeof insertReceipt>[0] & {
  reason: string;
  issues: unknown;
  rawBody: Buffer;
}): Work<{ receiptId: number }> {
  const row = yield* get<{ id: number }>(
    insertReceipt(input, 'quarantined', { reason: input.reason, issues: JSON.stringify(input.issues), rawBody: f.payloads.packBody(input.rawBody) }),
  );
  return { receiptId: row!.id };
}

/**
 * The accepted receipt is found by its revision AND its time, which equals the revision's
 * (both written with the delivery's time in one transaction): the time is what the
 * receipts_by_time index holds, so the lookup needs no index of its own on revision_id.
 */
export function* getCallPayloads(f: Flavor, callId: string, revision: number | undefined): Work<CallPayload[]> {
  const rows = yield* all<CallPayloadRow>(
    sql`SELECT c.sender, c.call_key, v.revision, c.latest_revision, v.created_at, t.request_id, t.raw_body
        FROM calls c JOIN revisions v ON v.call_row_id = c.id AND v.revision = COALESCE(CAST(${revision ?? null} AS INTEGER), c.latest_revision)
        LEFT JOIN receipts t ON t.received_at = v.created_at AND t.raw_body IS NOT NULL AND t.revision_id = v.id AND t.outcome = 'accepted'
        WHERE c.call_key = ${callId} ORDER BY c.sender`,
  );
  return rows.map((row) => toCallPayload({ ...row, raw_body: f.payloads.unpackBody(row.raw_body) }));
}
