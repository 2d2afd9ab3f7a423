// How a claimed run's lease goes on or ends: each write checks in the same statement that the
// run is still ours, and is true when it changed the run.
import type { RunScore } from '../records.js';
import { raw, sql, type Query } from './query.js';
import { leased } from './step-records.js';
import { run, type Work } from './work.js';

function* changed(query: Query): Work<boolean> {
  return (yield* run(query)) === 1;
}

/** Back in the queue without spending an attempt. */
export const UNCLAIMED = `status = CASE WHEN attempts > 0 THEN 'retrying' ELSE 'pending' END, lease_owner = NULL, lease_until = NULL`;

export const extendLease = (runId: number, owner: string, until: number) =>
  changed(sql`UPDATE runs SET lease_until = ${until} WHERE ${leased(runId, owner)}`);

export const completeRun = (runId: number, owner: string, at: number) =>
  changed(sql`UPDATE runs SET status = 'succeeded', lease_owner = NULL, lease_until = NULL, next_run_at = NULL,
    updated_at = ${at}, finished_at = ${at} WHERE ${leased(runId, owner)}`);

export const retryRunLater = (runId: number, owner: string, error: string, nextRunAt: number, at: number) =>
  changed(sql`UPDATE runs SET status = 'retrying', attempts = attempts + 1, last_error = ${error}, next_run_at = ${nextRunAt},
    lease_owner = NULL, lease_until = NULL, updated_at = ${at} WHERE ${leased(runId, owner)}`);

export const killRun = (runId: number, owner: string, error: string, at: number, status: 'dead' | 'invalid-variables') =>
  changed(sql`UPDATE runs SET status = ${status}, attempts = attempts + 1, last_error = ${error}, next_run_at = NULL,
    lease_owner = NULL, lease_until = NULL, updated_at = ${at}, finished_at = ${at} WHERE ${leased(runId, owner)}`);

export const saveRunScore = (runId: number, owner: string, score: RunScore) =>
  changed(sql`UPDATE runs SET score = ${JSON.stringify(score)} WHERE ${leased(runId, owner)}`);

export const releaseRun = (runId: number, owner: string, notBefore: number | undefined) =>
  changed(sql`UPDATE runs SET ${raw(UNCLAIMED)}, next_run_at = COALESCE(CAST(${notBefore ?? null} AS BIGINT), next_run_at)
    WHERE ${leased(runId, owner)}`);

/** Runs whose lease ran out become claimable again (`lock`: PostgreSQL's SKIP LOCKED row lock). */
export function* sweepExpiredLeases(now: number, lock: string): Work<number> {
  return yield* run(sql`UPDATE runs SET ${raw(UNCLAIMED)}, next_run_at = ${now}
    WHERE id IN (SELECT id FROM runs WHERE status = 'running' AND lease_until < ${now}${raw(lock)})`);
}
