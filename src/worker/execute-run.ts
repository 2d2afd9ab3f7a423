// Executes one claimed run, step by step, recording each step durably so the run resumes
// after its last completed step. Every store update checks the lease is still ours.
import { connectorOf, loggableMessage, TransientError } from '../connectors/connector.js';
import { runError, type RunErrorCode, type StepErrorCode } from '../errors.js';
import { evidenceOf, storedEvidence } from '../connectors/evidence.js';
import type { Logger } from '../logger.js';
import { maskText } from '../logger.js';
import type { CompiledStep } from '../mapping/load-mappings.js';
import type { MappingRegistry } from '../mapping/mapping-registry.js';
import { prepareStep, startMapping } from '../mapping/evaluate-mapping.js';
import { decideStep, earlierEffectLookup } from '../mapping/repeat-policy.js';
import { redactSecretValues } from '../mapping/secrets.js';
import type { TestDeliveryMode } from '../payload/test-request.js';
import type { ClaimedRun, StepResult, Store } from '../store/store.js';
import { nextRunAt, type BackoffPolicy } from './backoff.js';
import { CONNECTOR_BUSY_RETRY_MS, type Bulkhead } from './bulkhead.js';

/** What one execution of a step did, for metrics. */
export interface StepObservation {
  kind: string;
  outcome: 'succeeded' | 'transient' | 'permanent';
  seconds: number;
}

export interface RunExecutionDeps {
  onStepSettled?: (observation: StepObservation) => void;
  store: Store;
  mappings: MappingRegistry;
  logger: Logger;
  now: () => number;
  random?: () => number;
  stepTimeoutMs: number;
  /** Waits until a step may execute (deliveries come first); resolves to the slot's release. */
  stepSlot?: () => Promise<() => void>;
  /** Limits the steps of one connector running at once; a run whose connector is full is given back. */
  bulkhead?: Bulkhead;
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** What a test delivery's steps do (TEST_DELIVERIES); default `run`. */
  testDeliveries?: TestDeliveryMode;
}

export type RunOutcome =
  | 'succeeded'
  | 'retrying'
  | 'dead'
  | 'invalid-variables'
  | 'lost-lease'
  | 'released'
  /** Given back without spending an attempt: its next step's connector had every slot in use. */
  | 'connector-busy';

/** Thrown before a step starts when its connector is full: the run is given back for a while. */
class ConnectorBusy extends Error {
  constructor(readonly key: string) {
    super(`connector ${key} is busy`);
  }
}

/** Thrown inside the step loop to end the run early with a decision already made. */
class StepFailure extends Error {
  constructor(
    readonly code: StepErrorCode,
    message: string,
    readonly retryAfterMs?: number,
    readonly retry: CompiledStep['retry'] = {},
    /** What log lines say instead of `message` when that quotes the vendor. */
    readonly logged: string = message,
  ) {
    super(message);
  }
}

/**
 * Step records whose only reader is a later resume (a finished or skipped step, the score)
 * are sent without waiting and awaited together with the next write that must be on disk
 * before anything happens outside: a step's start, or the run's end. Sent in the same
 * event-loop turn, they share that write's transaction and fsync (SQLite commits a turn's
 * writes as one group, in order), so a step costs one commit instead of two. A crash before
 * that commit leaves the step `started`, as a crash during the step would. A store that may
 * apply writes out of order (PostgreSQL: a pool of connections) gets each one awaited, or
 * a run's completion could land before its last step's record, which then finds the run no
 * longer running and is lost.
 *
 * A write that failed stops the run: no later step starts and no commit is sent, so a run never
 * completes, retries or dies with a step's record missing (it would read as never done, and a
 * later revision would send it again). Awaited writes fail before the next commit is sent; on
 * a store that orders writes, one still in flight when the commit is sent makes the store
 * refuse the commit (`Store.ordersWrites`). The run is then left to its lease, and whoever
 * claims it next finds the step `started`.
 */
class WriteBehind {
  private pending: Array<Promise<{ ok: boolean } | { error: unknown }>> = [];
  private failure: { error: unknown } | undefined;

  constructor(private readonly ordered: boolean) {}

  /** Sends a write; its answer (a lost lease, an error) counts at the next `commit`. */
  async send(write: Promise<boolean>): Promise<void> {
    // Handled at once, so a failure waiting for the next commit is not an unhandled rejection.
    const settled = write.then(
      (ok) => ({ ok }),
      (error: unknown) => {
        this.failure ??= { error };
        return { error };
      },
    );
    this.pending.push(settled);
    if (!this.ordered) await settled;
  }

  /**
   * Sends `write` unless an earlier write is known to have failed, then waits for it and
   * everything sent before it; false when any found the lease gone.
   */
  async commit(write: () => Promise<boolean>): Promise<boolean> {
    this.throwIfFailed();
    await this.send(write());
    const results = await Promise.all(this.pending);
    this.pending = [];
    this.throwIfFailed();
    return results.every((result) => 'ok' in result && result.ok);
  }

  /** Throws the first failed write's error, if any. */
  throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}

export async function executeRun(run: ClaimedRun, deps: RunExecutionDeps, signal: AbortSignal): Promise<RunOutcome> {
  const { store, now } = deps;
  const owner = run.leaseOwner;
  const writes = new WriteBehind(store.ordersWrites);
  // Made on first use: a pino child serializes (and redacts) its bindings when it is made, and
  // most runs log nothing at the default level.
  let runLogger: Logger | undefined;
  const log = () => (runLogger ??= deps.logger.child({ run_id: run.id, call_id: run.call.id, revision: run.revision, mapping: run.mappingName }));
  const mapping = deps.mappings.resolve(run.mappingName, run.mappingHash);
  if (!mapping) {
    await store.killRun(run.id, owner, runError('MAPPING_MISSING', `mapping "${run.mappingName}" is not loaded`), now());
    return 'dead';
  }

  const done = new Map(run.steps.map((r) => [r.stepId, r] as const));
  const start = await startMapping(run.call, mapping, now());
  if (!start.ok) {
    const error = runError('INVALID_VARIABLES', start.problems.join('; '));
    log().warn({ error }, 'extracted variables do not fit the mapping');
    return (await store.killRun(run.id, owner, error, now(), 'invalid-variables')) ? 'invalid-variables' : 'lost-lease';
  }
  const { context } = start;
  if (context.score) await writes.send(store.saveRunScore(run.id, owner, context.score));
  // The connector slot of the step executing now (executeStep takes it once the input is known).
  const connectorSlot: { leave: (() => void) | null } = { leave: null };
  try {
    for (const step of mapping.steps) {
      writes.throwIfFailed();
      const release = await deps.stepSlot?.();
      let outcome: Awaited<ReturnType<typeof executeStep>>;
      try {
        // Shutting down while this run waited between steps: give it back before the next one.
        signal.throwIfAborted();
        outcome = await executeStep(step, done.get(step.id));
      } finally {
        release?.();
        connectorSlot.leave?.();
        connectorSlot.leave = null;
      }
      if (outcome === 'lost-lease') return 'lost-lease';
    }
  } catch (error) {
    if (signal.aborted) {
      // Shutting down mid-step: give the run back without spending an attempt.
      await writes.commit(() => store.releaseRun(run.id, owner));
      return 'released';
    }
    if (error instanceof ConnectorBusy) {
      // Jittered, so the runs given back together do not all come back together.
      const at = now() + Math.round(CONNECTOR_BUSY_RETRY_MS * (0.5 + (deps.random ?? Math.random)()));
      if (deps.logger.isLevelEnabled('debug')) log().debug({ connector: error.key, retry_at: at }, 'connector busy: run given back');
      return (await writes.commit(() => store.releaseRun(run.id, owner, at))) ? 'connector-busy' : 'lost-lease';
    }
    return settleFailure(error);
  }
  if (!(await writes.commit(() => store.completeRun(run.id, owner, now())))) return 'lost-lease';
  if (deps.logger.isLevelEnabled('info')) log().info({ outcome: 'succeeded', ...(run.isTest ? { test: true } : {}) }, 'run finished');
  return 'succeeded';

  async function executeStep(step: CompiledStep, prior: StepResult | undefined): Promise<'ok' | 'lost-lease'> {
    if (prior && (prior.status === 'succeeded' || prior.status === 'skipped')) {
      context.steps[step.id] = prior.output; // resumed after a crash or retry: never again
      return 'ok';
    }
    if (prior?.status === 'started' && step.kind.safeToRepeat === false) {
      throw new StepFailure(
        'STEP_OUTCOME_UNKNOWN',
        `step ${step.id} (${step.kind.kind}) was started before an interruption and may have taken effect; ` +
          'check the recipient, then retry the run to send it again',
      );
    }
    const skip = async (reason: string, output: unknown = null, input?: unknown) => {
      context.steps[step.id] = output;
      await writes.send(store.finishStep(run.id, owner, step.id, { status: 'skipped', output, error: reason, ...(input === undefined ? {} : { input }) }, now()));
      return 'ok' as const;
    };
    const prepared = await prepareStep(step, context);
    if (prepared.action === 'skip') return skip(prepared.reason);
    if (prepared.action === 'invalid') throw new StepFailure('STEP_INVALID_INPUT', prepared.message);
    const { input, recorded, inputHash } = prepared;
    const lookup = earlierEffectLookup(step, run.revision);
    const decision = decideStep({
      step,
      inputHash,
      doneBefore: prior?.status === 'done-before' ? prior : null,
      earlier: lookup ? await store.findEarlierEffect(run.callRowId, mapping!.name, step.id, run.revision, lookup.atMostOnce) : null,
      dryRun: run.isTest && deps.testDeliveries === 'dry-run',
    });
    // A dry run records the input as it would be sent (secrets redacted), never sends it.
    if (decision.action === 'skip') return skip(decision.reason, null, recorded);
    if (decision.action === 'reuse' && decision.from === 'earlier-revision') return skip(decision.reason, decision.output);
    if (decision.action === 'reuse') {
      context.steps[step.id] = decision.output;
      await writes.send(store.finishStep(run.id, owner, step.id, { status: 'succeeded', output: decision.output }, now()));
      return 'ok';
    }

    if (deps.bulkhead) {
      const key = step.kind.bulkheadKey?.(input) ?? connectorOf(step.kind.kind);
      connectorSlot.leave = await deps.bulkhead.enter(key, signal);
      if (!connectorSlot.leave) throw new ConnectorBusy(key);
    }
    // Recorded before the side effect: a crash in between leaves a visible "started" step.
    if (!(await writes.commit(() => store.startStep(run.id, owner, step.id, recorded, inputHash, now())))) return 'lost-lease';
    const started = now();
    let output: unknown;
    let stepLogger: Logger | undefined;
    try {
      output = await step.kind.execute(input, {
        get logger() {
          return (stepLogger ??= log().child({ step: step.id }));
        },
        signal,
        timeoutMs: deps.stepTimeoutMs,
        idempotencyKey: `aftercall-${run.id}-${step.id}`,
      });
    } catch (error) {
      // Aborted by shutdown mid-send: a step that must not repeat stays `started`, so the
      // resumed run shows its outcome as unknown instead of sending it again.
      if (signal.aborted && step.kind.safeToRepeat === false) throw error;
      const message = maskText(redactSecretValues(error instanceof Error ? error.message : String(error)));
      // Log lines get the summary: the full message may quote the vendor, the evidence holds its answer.
      const summary = loggableMessage(error);
      const logged = `step ${step.id}: ${summary === undefined ? message : maskText(redactSecretValues(summary))}`;
      const transient = error instanceof TransientError || isTransient(error);
      const exchange = evidenceOf(error);
      deps.onStepSettled?.({ kind: step.kind.kind, outcome: transient ? 'transient' : 'permanent', seconds: (now() - started) / 1000 });
      await writes.send(
        store.finishStep(run.id, owner, step.id, { status: 'failed', error: message, ...(exchange ? { evidence: storedEvidence(exchange, redactSecretValues) } : {}) }, now()),
      );
      if (transient) {
        throw new StepFailure('STEP_TRANSIENT', `step ${step.id}: ${message}`, (error as TransientError).retryAfterMs, step.retry, logged);
      }
      throw new StepFailure('STEP_PERMANENT', `step ${step.id}: ${message}`, undefined, {}, logged);
    }
    output = output ?? null;
    deps.onStepSettled?.({ kind: step.kind.kind, outcome: 'succeeded', seconds: (now() - started) / 1000 });
    context.steps[step.id] = output;
    if (deps.logger.isLevelEnabled('debug')) log().debug({ step: step.id, ms: now() - started }, 'step succeeded');
    await writes.send(store.finishStep(run.id, owner, step.id, { status: 'succeeded', output }, now()));
    return 'ok';
  }

  async function settleFailure(error: unknown): Promise<RunOutcome> {
    writes.throwIfFailed(); // a record is missing: neither retried nor dead, the lease decides
    const failure =
      error instanceof StepFailure
        ? error
        : new StepFailure('STEP_TRANSIENT', `unexpected: ${maskText(error instanceof Error ? error.message : String(error))}`);
    const attempt = run.attempts + 1;
    const message = runError(failure.code, failure.message);
    const logged = runError(failure.code, failure.logged);
    const maxAttempts = failure.retry.maxAttempts ?? deps.maxAttempts;
    const backoff = {
      baseMs: failure.retry.baseDelayMs ?? deps.backoff.baseMs,
      maxMs: failure.retry.maxDelayMs ?? deps.backoff.maxMs,
    };
    if (failure.code === 'STEP_TRANSIENT' && attempt < maxAttempts) {
      const at = nextRunAt(attempt, now(), backoff, failure.retryAfterMs, deps.random);
      log().warn({ attempt, retry_in_ms: at - now(), error: logged }, 'run will be retried');
      return (await writes.commit(() => store.retryRunLater(run.id, owner, message, at, now()))) ? 'retrying' : 'lost-lease';
    }
    const code: RunErrorCode = 'RETRIES_EXHAUSTED'; // prefixes the last transient error, as `CODE after N attempts: …`
    const exhausted = failure.code === 'STEP_TRANSIENT' ? `${code} after ${attempt} attempts: ` : '';
    log().error({ attempt, error: `${exhausted}${logged}` }, 'run is dead');
    return (await writes.commit(() => store.killRun(run.id, owner, `${exhausted}${message}`, now()))) ? 'dead' : 'lost-lease';
  }
}

/** Errors from other libraries that say they may pass on retry. */
function isTransient(error: unknown): boolean {
  return (error as { transient?: unknown } | null)?.transient === true;
}
