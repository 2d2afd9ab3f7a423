// The step log over a store's run writes. On a store that orders writes (SQLite), a finished
// step's record (and the score) is sent without waiting and answered together with the next
// write that must be on disk before anything happens outside: sent in the same event-loop
// turn, they share that write's transaction and fsync, so a step costs one commit instead of
// two. A crash before that commit leaves the step `started`, as a crash during the step would.
// Elsewhere (PostgreSQL: a pool of connections) each write is awaited, or a run's completion
// could land before its last step's record, which then finds the run no longer running and is
// lost. A failed record stops the run (StepLog): awaited writes fail before the next commit is
// sent; on an ordered store, one still in flight makes the store refuse the commit.
import type { ClaimedRun, RunQueue, StepLog } from './store.js';

type Settled = { ok: boolean } | { error: unknown };

export function openStepLog(store: RunQueue, run: ClaimedRun, ordered: boolean): StepLog {
  const { id, leaseOwner: owner } = run;
  let pending: Array<Promise<Settled>> = [];
  let failure: { error: unknown } | undefined;
  const check = () => {
    if (failure) throw failure.error;
  };
  /** Sends a write; its answer (a lost lease, an error) counts at the next commit. */
  const send = async (write: Promise<boolean>): Promise<void> => {
    // Handled at once, so a failure waiting for the next commit is not an unhandled rejection.
    const settled = write.then(
      (ok) => ({ ok }),
      (error: unknown) => {
        failure ??= { error };
        return { error };
      },
    );
    pending.push(settled);
    if (!ordered) await settled;
  };
  /** Sends `write` unless an earlier one failed, then waits for everything sent; false when any found the lease gone. */
  const commit = async (write: () => Promise<boolean>): Promise<boolean> => {
    check();
    await send(write());
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
