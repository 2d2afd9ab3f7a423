// Reading runs: one with its call and steps, and the queue's depth.
import type { RunDetail } from '../records.js';
import { readStoredCall, RUN_COLUMNS, toRunSummary, type RunRow } from '../rows.js';
import { DUE, sqlList } from '../run-status.js';
import { raw, sql } from './query.js';
import { getStepResults } from './step-records.js';
import { get, type Flavor, type Work } from './work.js';

export function* getRun(f: Flavor, id: number): Work<RunDetail | null> {
  const row = yield* get<RunRow & { call_row_id: number; call_json: Buffer | string }>(
    sql`SELECT ${raw(RUN_COLUMNS)}, r.call_row_id, v.call_json FROM runs r JOIN calls c ON c.id = r.call_row_id
        JOIN revisions v ON v.id = r.revision_id WHERE r.id = ${id}`,
  );
  if (!row) return null;
  return {
    ...toRunSummary(row),
    callRowId: row.call_row_id,
    call: readStoredCall(f.payloads.unpackCall(row.call_json)),
    steps: yield* getStepResults(f, id),
  };
}

export function* queueStats(now: number): Work<{ depth: number; oldestDueAt: number | null }> {
  const row = yield* get<{ depth: number; oldest: number | null }>(
    sql`SELECT COUNT(*) AS depth, MIN(next_run_at) AS oldest FROM runs WHERE status IN ${raw(sqlList(DUE))} AND next_run_at <= ${now}`,
  );
  return { depth: row!.depth, oldestDueAt: row!.oldest };
}
