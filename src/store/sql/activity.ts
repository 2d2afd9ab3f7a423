// The Runs page's "at a glance" counts: calls received and runs ended per bucket of time, and
// the steps that ended per mapping and step. PostgreSQL counts the window's rows by index
// (calls_by_created, runs_by_finished, step_results_by_finished) in its own processes; SQLite
// reads the hourly counts its triggers keep (migration 11), so the thread that commits
// deliveries reads at most a row per hour of the window. Buckets are whole hours.
import type { Activity, StepOutcomes } from '../records.js';
import { FAILED, sqlList } from '../run-status.js';
import { raw, sql, type Placeholders } from './query.js';
import { all, type Work } from './work.js';

export function* activity(kind: Placeholders, from: number, to: number, bucketMs: number): Work<Activity> {
  if (kind === 'sqlite') return yield* hourlyActivity(from, to, bucketMs);
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
        FROM step_results s JOIN runs r ON r.id = s.run_id
        WHERE s.finished_at >= ${from} AND s.finished_at < ${to} AND s.status IN ('succeeded', 'failed')
        GROUP BY r.mapping_name, s.step_id ORDER BY r.mapping_name, s.step_id`,
  );
  const outcomes: StepOutcomes[] = steps.map((s) => ({ mappingName: s.mapping_name, stepId: s.step_id, succeeded: Number(s.succeeded), failed: Number(s.failed) }));
  return { from, to, bucketMs, buckets, steps: outcomes };
}

const HOUR = 3_600_000;

function* hourlyActivity(from: number, to: number, bucketMs: number): Work<Activity> {
  const count = Math.max(1, Math.ceil((to - from) / bucketMs));
  const buckets = Array.from({ length: count }, (_, i) => ({ at: from + i * bucketMs, calls: 0, succeeded: 0, failed: 0 }));
  const hours = yield* all<{ hour: number; kind: 'calls' | 'succeeded' | 'failed'; n: number }>(
    sql`SELECT hour, kind, n FROM activity_hours WHERE hour >= ${Math.floor(from / HOUR)} AND hour < ${Math.ceil(to / HOUR)}`,
  );
  for (const row of hours) {
    const bucket = buckets[Math.floor((row.hour * HOUR - from) / bucketMs)];
    if (bucket) bucket[row.kind] += row.n;
  }
  const steps = yield* all<{ mapping_name: string; step_id: string; succeeded: number; failed: number }>(
    sql`SELECT mapping_name, step_id, SUM(succeeded) AS succeeded, SUM(failed) AS failed FROM step_hours
        WHERE hour >= ${Math.floor(from / HOUR)} AND hour < ${Math.ceil(to / HOUR)} GROUP BY mapping_name, step_id ORDER BY mapping_name, step_id`,
  );
  return { from, to, bucketMs, buckets, steps: steps.map((s) => ({ mappingName: s.mapping_name, stepId: s.step_id, succeeded: s.succeeded, failed: s.failed })) };
}
