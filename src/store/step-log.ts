// The step log over a store's run writes. Every store applies a claimed run's writes in call
// order (SQLite's one writer, PostgreSQL's run-writes queue), so a finished step's record (and
// the score) is sent without waiting and answered together with the next write that must be on
// disk before anything happens outside: sent in the same event-loop turn, they share that
// write's transaction and fsync, so a step costs one commit instead of two. A crash before that
// commit leaves the step `started`, as a crash during the step would. A failed record stops the
// run (StepLog): one still in flight makes the store refuse the commit sent after it.
import type { ClaimedRun, RunQueue, StepLog } from './store.js';

type Settled = { ok: boolean } | { error: unknown };

export function openStepLog(store: RunQueue, run: ClaimedRun): StepLog {
  const { id, leaseOwner: owner } = run;
  let pending: Array<Promise<Settled>> = [];
  let failure: { error: unknown } | undefined;
  const check = () => {
    if (failure) throw failure.error;
  };
  /** Sends a write; its answer (a lost lease, an error) counts at the next commit. */
  const send = (write: Promise<boolean>): void => {
    // Handled at once, so a failure waiting for the next commit is not an unhandled rejection.
    const settled = write.then(
      (ok) => ({ ok }),
      (error: unknown) => {
        failure ??= { error };
        return { error };
      },
    );
    pending.push(settled);
  };
  /** Sends `write` unless an earlier one failed, then waits for everything sent; false when any found the lease gone. */
  const commit = async (write: () => Promise<boolean>): Promise<boolean> => {
    check();
    send(write());
    const results = await Promise.all(pending);
    pending = [];
    check();
    return results.every((result) => 'ok' in result && result.ok);
  };
  return {
    saveScore: (score) => send(store.saveRunScore(id, owner, score)),
    finish: (stepId, result, at) => send(store.finishStep(id, owner, stepId, result, at)),
    start: (stepId, input, inputHash, at) => commit(() => store.startStep(id, owner, stepId, input, inputHash, at)),
    complete: (at) => commit(() => store.completeRun(id, owner, at)),
    retry: (error, nextRunAt, at) => commit(() => store.retryRunLater(id, owner, error, nextRunAt, at)),
    kill: (error, at, status) => commit(() => store.killRun(id, owner, error, at, status)),
    release: (notBefore) => commit(() => store.releaseRun(id, owner, notBefore)),
    check,
  };
}
