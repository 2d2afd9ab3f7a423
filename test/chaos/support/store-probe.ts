// Reads the service's SQLite file through a read-only connection of the test's own (the
// service may be running, or just SIGKILLed): what was committed, and the state of every run
// and step.
import Database from 'better-sqlite3';
import { unpackText } from '../../../src/store/sqlite/stored-payload.js';
import { UNFINISHED as UNFINISHED_STATUSES } from '../../../src/store/run-status.js';

export interface ProbedRun {
  id: number;
  callKey: string;
  revision: number;
  mapping: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

export interface ProbedStep {
  runId: number;
  callKey: string;
  revision: number;
  mapping: string;
  stepId: string;
  status: string;
  attempts: number;
  error: string | null;
  /** The Idempotency-Key http.request sends for this step of this run. */
  idempotencyKey: string;
}

export interface ProbedRevision {
  callKey: string;
  revision: number;
  contentHash: string;
  summary: unknown;
}

export interface StoreSnapshot {
  calls: Set<string>;
  revisions: ProbedRevision[];
  runs: ProbedRun[];
  steps: ProbedStep[];
  receipts: Record<string, number>;
}

export const UNFINISHED = new Set<string>(UNFINISHED_STATUSES);

export function readStore(path: string): StoreSnapshot {
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5_000 });
  try {
    const calls = new Set(db.prepare('SELECT call_key FROM calls').pluck().all() as string[]);
    const revisions = (
      db
        .prepare(
          `SELECT c.call_key, v.revision, v.content_hash, v.call_json
           FROM revisions v JOIN calls c ON c.id = v.call_row_id ORDER BY c.call_key, v.revision`,
        )
        .all() as Array<{ call_key: string; revision: number; content_hash: string; call_json: Buffer | string }>
    ).map((r) => ({
      callKey: r.call_key,
      revision: r.revision,
      contentHash: r.content_hash,
      summary: (JSON.parse(unpackText(r.call_json)) as { extracted_variables: Record<string, unknown> }).extracted_variables.summary ?? null,
    }));
    const runs = (
      db
        .prepare(
          `SELECT r.id, c.call_key, r.revision, r.mapping_name, r.status, r.attempts, r.last_error
           FROM runs r JOIN calls c ON c.id = r.call_row_id ORDER BY r.id`,
        )
        .all() as Array<{
        id: number;
        call_key: string;
        revision: number;
        mapping_name: string;
        status: string;
        attempts: number;
        last_error: string | null;
      }>
    ).map((r) => ({
      id: r.id,
      callKey: r.call_key,
      revision: r.revision,
      mapping: r.mapping_name,
      status: r.status,
      attempts: r.attempts,
      lastError: r.last_error,
    }));
    const steps = (
      db
        .prepare(
          `SELECT s.run_id, c.call_key, r.revision, r.mapping_name, s.step_id, s.status, s.attempts, s.error
           FROM step_results s JOIN runs r ON r.id = s.run_id JOIN calls c ON c.id = r.call_row_id`,
        )
        .all() as Array<{
        run_id: number;
        call_key: string;
        revision: number;
        mapping_name: string;
        step_id: string;
        status: string;
        attempts: number;
        error: string | null;
      }>
    ).map((s) => ({
      runId: s.run_id,
      callKey: s.call_key,
      revision: s.revision,
      mapping: s.mapping_name,
      stepId: s.step_id,
      status: s.status,
      attempts: s.attempts,
      error: s.error,
      idempotencyKey: `aftercall-${s.run_id}-${s.step_id}`,
    }));
    const receipts = Object.fromEntries(
      (db.prepare('SELECT outcome, COUNT(*) AS n FROM receipts GROUP BY outcome').all() as Array<{ outcome: string; n: number }>).map(
        (r) => [r.outcome, r.n],
      ),
    );
    return { calls, revisions, runs, steps, receipts };
  } finally {
    db.close();
  }
}

/** Runs not yet in a final state. */
export function unfinishedRuns(snapshot: StoreSnapshot): ProbedRun[] {
  return snapshot.runs.filter((r) => UNFINISHED.has(r.status));
}

export function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}
