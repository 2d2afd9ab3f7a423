// The run states, written once. The store's SQL renders its IN-lists from these
// arrays (see sqlList), the admin API and CLI validate filters against them.

/** Every state a run can be in, in the order the Runs page lists them. */
export const RUN_STATUSES = ['pending', 'running', 'retrying', 'succeeded', 'dead', 'invalid-variables', 'skipped'] as const;
/** A test delivery's runs end like any other (succeeded, dead, …); `isTest` marks them. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Waiting for a worker: a claim takes these once next_run_at has passed. */
export const DUE: readonly RunStatus[] = ['pending', 'retrying'];
/** Not yet ended: a later revision's run waits while an earlier one is in these. */
export const UNFINISHED: readonly RunStatus[] = ['pending', 'running', 'retrying'];
/** Ended: nothing more happens to the run unless an operator acts. */
export const FINISHED: readonly RunStatus[] = ['succeeded', 'dead', 'invalid-variables', 'skipped'];
/** Ended without success (the Runs page counts these as failed). */
export const FAILED: readonly RunStatus[] = ['dead', 'invalid-variables'];
/** Statuses an operator can put back in the queue. */
export const REQUEUEABLE: readonly RunStatus[] = ['dead', 'invalid-variables'];
/** Statuses an operator can re-run from the first step with the current mapping. */
export const RERUNNABLE: readonly RunStatus[] = ['succeeded', 'dead', 'invalid-variables'];

export function isRunStatus(value: unknown): value is RunStatus {
  return typeof value === 'string' && (RUN_STATUSES as readonly string[]).includes(value);
}

/** A status list as a SQL IN-list literal, e.g. `('pending', 'retrying')`; the values are our constants, never input. */
export function sqlList(statuses: readonly RunStatus[]): string {
  return `(${statuses.map((s) => `'${s}'`).join(', ')})`;
}
