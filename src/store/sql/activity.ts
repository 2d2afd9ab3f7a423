// The Runs page's "at a glance" counts: calls received and runs ended per bucket of time, and
// the ends of steps per mapping and step. Each reads only the window, by index
// (calls_by_created, runs_by_finished, runs_by_created): its cost follows the window's size, not
// the store's.
import type { Activity, StepOutcomes } from '../records.js';
import { FAILED, sqlList } from '../run-status.js';
import { raw, sql } from './query.js';
import { all, type Work } from './work.js';

export function* activity(from: number, to: number, bucketMs: number): Work<Activity> {
  const count = Math.max(1, Math.ceil((to - from) / bucketMs));
  const buckets = Array.from({ length: count }, (_, i) => ({ at: from + i * bucketMs, calls: 0, succeeded: 0, failed: 0 }));
  const bucket = (b: number | string) => buckets[Number(b)];
  const start = sql`CAST(${from} AS BIGINT)`;
  const width = sql`CAST(${bucketMs} AS BIGINT)`;
  const calls = yield* all<{ b: number | string; n: number | string }>(
    sql`SELECT (created_at - ${start}) / ${width} AS b, count(*) AS n FROM calls WHERE created_at >= ${from} AND created_at < ${to} GROUP BY 1`,
  );
  for (const row of calls) {
    const slot = bucket(row.b);
    if (slot) slot.calls = Number(row.n);
  }
  const ended = yield* all<{ b: number | string; succeeded: number | string; failed: number | string }>(
    sql`SELECT (finished_at - ${start}) / ${width} AS b, SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded,
          SUM(CASE WHEN status IN ${raw(sqlList(FAILED))} THEN 1 ELSE 0 END) AS failed
        FROM runs WHERE finished_at >= ${from} AND finished_at < ${to} GROUP BY 1`,
  );
  for (const row of ended) {
    const slot = bucket(row.b);
    if (!slot) continue;
    slot.succeeded = Number(row.succeeded);
    slot.failed = Number(row.failed);
  }
  const steps = yield* all<{ mapping_name: string; step_id: string; succeeded: number | string; failed: number | string }>(
    sql`SELECT r.mapping_name, s.step_id, SUM(CASE WHEN s.status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded,
          SUM(CASE WHEN s.status = 'failed' THEN 1 ELSE 0 END) AS failed
        FROM runs r JOIN step_results s ON s.run_id = r.id
        WHERE r.created_at >= ${from} AND r.created_at < ${to} AND s.status IN ('succeeded', 'failed')
        GROUP BY r.mapping_name, s.step_id ORDER BY r.mapping_name, s.step_id`,
  );
  const outcomes: StepOutcomes[] = steps.map((s) => ({ mappingName: s.mapping_name, stepId: s.step_id, succeeded: Number(s.succeeded), failed: Number(s.failed) }));
  return { from, to, bucketMs, buckets, steps: outcomes };
}
