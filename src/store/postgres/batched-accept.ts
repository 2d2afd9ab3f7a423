// Group commit of deliveries on PostgreSQL: the deliveries that arrive in one event-loop turn,
// or while the previous batch's round trip is under way, go to the server as ONE call of
// aftercall_accept_deliveries (routines/accept-deliveries.ts): one statement, one commit, one WAL flush for all of
// them. The function gives each delivery its own subtransaction and returns each one's
// result or SQLSTATE, so one failing delivery does not fail its neighbours. A caller is
// answered only once the statement has returned, i.e. after its implicit COMMIT (durable as
// the server's synchronous_commit makes commits); a failure of the statement itself (the
// connection dropped, a timeout) rejects every delivery of the batch with the error, SQLSTATE
// kept, as StoreUnavailableError when it means "cannot commit now" (503 upstream).
import type pg from 'pg';
import { callKey, StoreUnavailableError, type AcceptInput, type AcceptResult } from '../store.js';
import { isUnavailable } from './pg-errors.js';
import { headersText } from '../sql/receipts.js';
import { searchDocument } from '../search-document.js';
import { jsonWithoutNul, RoundTripQueue } from './round-trip-queue.js';

interface Pending {
  input: AcceptInput;
  resolve: (result: AcceptResult) => void;
  reject: (error: unknown) => void;
}

interface BatchRow {
  r_ord: number;
  r_outcome: 'accepted' | 'duplicate' | null;
  r_receipt_id: number | null;
  r_revision: number | null;
  r_run_names: string[] | null;
  /** bigint[]: node-postgres gives its elements as strings. */
  r_run_ids: string[] | null;
  r_sqlstate: string | null;
  r_message: string | null;
}

/** A delivery the function could not write; `code` is the SQLSTATE the server raised. */
export class DeliveryWriteError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'DeliveryWriteError';
  }
}

/** Prepared once per connection by node-postgres (the name), planned once by the server. */
const ACCEPT_DELIVERIES = {
  name: 'aftercall_accept_deliveries',
  text: 'SELECT * FROM aftercall_accept_deliveries($1::jsonb, $2::bytea, $3::bytea)',
};

/** A batch bigger than this waits for the next round trip: a bound on one statement's size and time. */
export const MAX_BATCH = 256;

/** Where a delivery's bytes are in the batch's bytea: offset and length. */
interface Span {
  at: number;
  bytes: number;
}

function toWire(input: AcceptInput, body: Span, call: Span) {
  return {
    sender: input.sender,
    key: callKey(input.call),
    at: input.receivedAt,
    hash: input.contentHash,
    requestId: input.requestId,
    variant: input.call.variant,
    status: input.call.status,
    isTest: input.isTest,
    phone: input.call.customer_phone,
    search: input.searchText ?? searchDocument(input.call, input.runs),
    headers: headersText(input.headers),
    runs: input.runs.map((r) => ({ name: r.mappingName, hash: r.mappingHash, skip: r.skipReason ?? null })),
    bodyAt: body.at,
    bodyBytes: body.bytes,
    callAt: call.at,
    callBytes: call.bytes,
  };
}

/** The buffers one after the other, and where each one is. */
function concatenated(buffers: Buffer[]): { bytes: Buffer; spans: Span[] } {
  let at = 0;
  const spans = buffers.map((buffer) => {
    const span = { at, bytes: buffer.length };
    at += buffer.length;
    return span;
  });
  return { bytes: Buffer.concat(buffers, at), spans };
}

function toResult(row: BatchRow, input: AcceptInput): AcceptResult {
  if (row.r_sqlstate !== null || row.r_outcome === null) {
    const error = new DeliveryWriteError(row.r_message ?? 'delivery not written', row.r_sqlstate ?? 'XX000');
    throw isUnavailable(error) ? new StoreUnavailableError(error) : error;
  }
  if (row.r_outcome === 'duplicate') return { outcome: 'duplicate', receiptId: row.r_receipt_id!, revision: row.r_revision! };
  // (revision_id, mapping_name) is unique, so the name identifies each new run.
  const names = row.r_run_names ?? [];
  const ids = row.r_run_ids ?? [];
  const byName = new Map(names.map((name, i) => [name, Number(ids[i])]));
  return { outcome: 'accepted', receiptId: row.r_receipt_id!, revision: row.r_revision!, runIds: input.runs.map((r) => byName.get(r.mappingName)!) };
}

export class BatchedAccept {
  private readonly queue = new RoundTripQueue<Pending>(MAX_BATCH, (items) => this.flush(items));
  /** Batches sent and deliveries in them, for tests and the bench's reading of the grouping. */
  readonly stats = { batches: 0, deliveries: 0 };

  constructor(private readonly pool: pg.Pool) {}

  accept(input: AcceptInput): Promise<AcceptResult> {
    return new Promise<AcceptResult>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
    });
  }

  drain(): Promise<void> {
    return this.queue.drain();
  }

  private async flush(items: Pending[]): Promise<void> {
    this.stats.batches += 1;
    this.stats.deliveries += items.length;
    let rows: BatchRow[];
    try {
      const calls = concatenated(items.map((item) => Buffer.from(item.input.callJson ?? JSON.stringify(item.input.call))));
      const bodies = concatenated(items.map((item) => item.input.rawBody));
      const wire = items.map((item, i) => toWire(item.input, bodies.spans[i]!, calls.spans[i]!));
      const values = [jsonWithoutNul(wire), calls.bytes, bodies.bytes];
      rows = (await this.pool.query<BatchRow>({ ...ACCEPT_DELIVERIES, values })).rows;
    } catch (error) {
      // Nothing of the batch is committed (or, if the connection broke during COMMIT, it is
      // unknown): nobody may be told it is; the senders' retries are accepted or found duplicates.
      const failure = isUnavailable(error) ? new StoreUnavailableError(error) : error;
      for (const item of items) item.reject(failure);
      return;
    }
    const byOrd = new Map(rows.map((row) => [row.r_ord, row]));
    items.forEach((item, i) => {
      const row = byOrd.get(i + 1);
      try {
        if (!row) throw new Error('aftercall_accept_deliveries returned no result for a delivery');
        item.resolve(toResult(row, item.input));
      } catch (error) {
        item.reject(error);
      }
    });
  }
}
