// An operator's retry or re-run of a run: it goes back in the queue with the current mapping.
import { REQUEUEABLE, RERUNNABLE, sqlList } from '../run-status.js';
import { raw, sql } from './query.js';
import { get, run, type Work } from './work.js';

/** An operator retry is the decision that an interrupted step did not take effect. */
const confirmStarted = (runId: number) =>
  run(sql`UPDATE step_results SET status = 'failed', error = 'interrupted; retried by an operator' WHERE run_id = ${runId} AND status = 'started'`);

function* exists(runId: number): Work<boolean> {
  return (yield* get(sql`SELECT 1 AS found FROM runs WHERE id = ${runId}`)) !== undefined;
}

export function* requeueDeadRun(runId: number, at: number): Work<'requeued' | 'not-found' | 'not-dead'> {
  // mapping_hash is cleared: an operator retry runs the current version of the mapping (the
  // operator may have fixed it); the registry resolves an unknown hash by name.
  const requeued = yield* run(
    sql`UPDATE runs SET status = 'pending', attempts = 0, next_run_at = ${at}, updated_at = ${at}, finished_at = NULL,
        mapping_hash = 'operator-retry' WHERE id = ${runId} AND status IN ${raw(sqlList(REQUEUEABLE))}`,
  );
  if (requeued === 0) return (yield* exists(runId)) ? 'not-dead' : 'not-found';
  yield* confirmStarted(runId);
  return 'requeued';
}

export function* requeueForRerun(runId: number, at: number): Work<'requeued' | 'not-found' | 'not-finished'> {
  const rerun = yield* run(
    sql`UPDATE runs SET status = 'pending', attempts = 0, next_run_at = ${at}, updated_at = ${at}, finished_at = NULL,
        last_error = NULL, mapping_hash = 'operator-retry' WHERE id = ${runId} AND status IN ${raw(sqlList(RERUNNABLE))}`,
  );
  if (rerun === 0) return (yield* exists(runId)) ? 'not-finished' : 'not-found';
  yield* run(sql`UPDATE step_results SET status = 'done-before' WHERE run_id = ${runId} AND status = 'succeeded'`);
  yield* run(sql`DELETE FROM step_results WHERE run_id = ${runId} AND status = 'skipped'`);
  yield* confirmStarted(runId);
  return 'requeued';
}
