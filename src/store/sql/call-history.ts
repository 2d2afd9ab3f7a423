// One call as the call page shows it: its revisions, every delivery (duplicates included) and
// every run; and the runs of the calls on a page of the Runs list, to fold them in.
import type { CallDelivery, CallHistory, RunSummary } from '../records.js';
import { parse, readStoredCall, RUN_COLUMNS, toRunSummary, type RunRow } from '../rows.js';
import type { SenderHeaders } from '../records.js';
import { join, raw, sql } from './query.js';
import { all, get, type Flavor, type Work } from './work.js';

/** A call resent without end keeps every duplicate: the page shows the newest this many. */
export const CALL_DELIVERIES_SHOWN = 500;
/** Runs of one call shown (revisions × mappings): a bound for a call revised without end. */
export const CALL_RUNS_SHOWN = 500;

interface DeliveryRow {
  id: number;
  request_id: string;
  received_at: number;
  outcome: 'accepted' | 'duplicate';
  revision: number;
  headers: string | null;
}

export function* getCallHistory(f: Flavor, sender: string, callId: string): Work<CallHistory | null> {
  const call = yield* get<{ id: number; latest_revision: number; created_at: number; updated_at: number }>(
    sql`SELECT id, latest_revision, created_at, updated_at FROM calls WHERE sender = ${sender} AND call_key = ${callId}`,
  );
  if (!call) return null;
  const revisions = yield* all<{ revision: number; created_at: number; is_test: number | boolean; call_json: Buffer | string }>(
    sql`SELECT revision, created_at, is_test, call_json FROM revisions WHERE call_row_id = ${call.id} ORDER BY revision`,
  );
  // receipts_by_revision: every receipt that created or repeated one of the call's revisions.
  const deliveries = yield* all<DeliveryRow>(
    sql`SELECT t.id, t.request_id, t.received_at, t.outcome, v.revision, t.headers FROM receipts t JOIN revisions v ON v.id = t.revision_id
        WHERE t.revision_id IN (SELECT id FROM revisions WHERE call_row_id = ${call.id}) AND t.outcome IN ('accepted', 'duplicate')
        ORDER BY t.id DESC LIMIT ${CALL_DELIVERIES_SHOWN}`,
  );
  const runs = yield* all<RunRow>(
    sql`SELECT ${raw(RUN_COLUMNS)} FROM runs r JOIN calls c ON c.id = r.call_row_id JOIN revisions v ON v.id = r.revision_id
        WHERE r.call_row_id = ${call.id} ORDER BY r.id DESC LIMIT ${CALL_RUNS_SHOWN}`,
  );
  return {
    callRowId: call.id,
    sender,
    callId,
    latestRevision: call.latest_revision,
    createdAt: call.created_at,
    updatedAt: call.updated_at,
    revisions: revisions.map((v) => ({
      revision: v.revision,
      createdAt: v.created_at,
      isTest: Boolean(v.is_test),
      call: readStoredCall(f.payloads.unpackCall(v.call_json)),
    })),
    deliveries: deliveries.reverse().map(toDelivery),
    runs: runs.map(toRunSummary),
  };
}

function toDelivery(row: DeliveryRow): CallDelivery {
  return {
    receiptId: row.id,
    requestId: row.request_id,
    receivedAt: row.received_at,
    outcome: row.outcome,
    revision: row.revision,
    headers: parse(row.headers) as SenderHeaders | null,
  };
}

/** Every run of the given calls (each by sender and id), newest first. */
export function* listCallRuns(calls: ReadonlyArray<{ sender: string; callId: string }>): Work<RunSummary[]> {
  if (calls.length === 0) return [];
  const keys = join(calls.map((c) => sql`(c.sender = ${c.sender} AND c.call_key = ${c.callId})`), ' OR ');
  const rows = yield* all<RunRow>(
    sql`SELECT ${raw(RUN_COLUMNS)} FROM calls c JOIN runs r ON r.call_row_id = c.id JOIN revisions v ON v.id = r.revision_id
        WHERE ${keys} ORDER BY r.id DESC LIMIT ${CALL_RUNS_SHOWN * calls.length}`,
  );
  return rows.map(toRunSummary);
}
