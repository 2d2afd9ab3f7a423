// A run's step records: what each step did, written while the run is leased.
import { json, STEP_COLUMNS, toEarlierEffect, toStepResult, type EarlierEffectRow, type StepRow } from '../rows.js';
import type { EarlierEffect, StepFinish, StepResult } from '../records.js';
import { raw, sql, type Query } from './query.js';
import { all, get, run, type Flavor, type Work } from './work.js';

/** The run is claimed by `owner` and still running: every write after a claim checks this. */
export const leased = (runId: number, owner: string): Query => sql`id = ${runId} AND lease_owner = ${owner} AND status = 'running'`;

/**
 * The lease check and the write are one statement: the step is recorded only while the run is
 * ours, and on PostgreSQL the row lock (FOR SHARE) keeps a sweep from taking the run until it
 * is committed, so whoever claims the run next reads it. A step recorded succeeded is
 * therefore never executed by another instance. (`WHERE true`: SQLite reads an ON CONFLICT
 * after a bare FROM as a join's.)
 */
const owned = (f: Flavor, runId: number, owner: string): Query =>
  sql`WITH owned AS (SELECT id FROM runs WHERE ${leased(runId, owner)}${raw(f.forShare)})`;

export function* startStep(f: Flavor, runId: number, owner: string, stepId: string, input: unknown, inputHash: string, at: number): Work<boolean> {
  const changed = yield* run(sql`${owned(f, runId, owner)}
    INSERT INTO step_results (run_id, step_id, status, input, input_hash, attempts, started_at)
    SELECT id, CAST(${stepId} AS TEXT), 'started', CAST(${json(input)} AS TEXT), CAST(${inputHash} AS TEXT), 1, CAST(${at} AS BIGINT)
    FROM owned WHERE true
    ON CONFLICT (run_id, step_id) DO UPDATE SET status = 'started', input = EXCLUDED.input,
      input_hash = EXCLUDED.input_hash, attempts = step_results.attempts + 1,
      started_at = EXCLUDED.started_at, finished_at = NULL, error = NULL, evidence = NULL`);
  return changed === 1;
}

export function* finishStep(f: Flavor, runId: number, owner: string, stepId: string, result: StepFinish, at: number): Work<boolean> {
  const changed = yield* run(sql`${owned(f, runId, owner)}
    INSERT INTO step_results (run_id, step_id, status, input, output, error, attempts, started_at, finished_at, evidence)
    SELECT id, CAST(${stepId} AS TEXT), CAST(${result.status} AS TEXT), CAST(${json(result.input)} AS TEXT),
      CAST(${json(result.output)} AS TEXT), CAST(${result.error ?? null} AS TEXT), 0, CAST(${at} AS BIGINT), CAST(${at} AS BIGINT),
      CAST(${json(result.evidence)} AS TEXT)
    FROM owned WHERE true
    ON CONFLICT (run_id, step_id) DO UPDATE SET status = EXCLUDED.status, output = EXCLUDED.output,
      error = EXCLUDED.error, finished_at = EXCLUDED.finished_at, evidence = EXCLUDED.evidence,
      input = COALESCE(EXCLUDED.input, step_results.input)`);
  return changed === 1;
}

export function* getStepResults(f: Flavor, runId: number): Work<StepResult[]> {
  const rows = yield* all<StepRow>(sql`SELECT ${raw(STEP_COLUMNS)} FROM step_results WHERE run_id = ${runId} ORDER BY ${raw(f.stepOrder)}`);
  return rows.map(toStepResult);
}

export function* findEarlierEffect(
  callRowId: number,
  mappingName: string,
  stepId: string,
  beforeRevision: number,
  includeUnknown: boolean,
): Work<EarlierEffect | null> {
  const row = yield* get<EarlierEffectRow>(
    sql`SELECT r.revision, s.status, s.input_hash, s.output FROM step_results s JOIN runs r ON r.id = s.run_id
        WHERE r.call_row_id = ${callRowId} AND r.mapping_name = ${mappingName} AND s.step_id = ${stepId}
          AND s.status IN ('succeeded', ${includeUnknown ? 'started' : 'succeeded'}) AND r.revision < ${beforeRevision}
        ORDER BY r.revision DESC LIMIT 1`,
  );
  return row ? toEarlierEffect(row) : null;
}
