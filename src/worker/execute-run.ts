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
import { runLink } from '../mapping/step-context.js';
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
  /** The Runs page (PUBLIC_URL + /admin), for `run.url` in templates; unset: `run.url` is null. */
  runsPageUrl?: string;
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

export async function executeRun(run: ClaimedRun, deps: RunExecutionDeps, signal: AbortSignal): Promise<RunOutcome> {
  const { store, now } = deps;
  // The run's writes, in the order the store keeps (Store.stepLog).
  const writes = store.stepLog(run);
  // Made on first use: a pino child serializes (and redacts) its bindings when it is made, and
  // most runs log nothing at the default level.
  let runLogger: Logger | undefined;
  const log = () => (runLogger ??= deps.logger.child({ run_id: run.id, call_id: run.call.id, revision: run.revision, mapping: run.mappingName }));
  const mapping = deps.mappings.resolve(run.mappingName, run.mappingHash);
  if (!mapping) {
    await writes.kill(runError('MAPPING_MISSING', `mapping "${run.mappingName}" is not loaded`), now());
    return 'dead';
  }

  const done = new Map(run.steps.map((r) => [r.stepId, r] as const));
  const start = await startMapping(run.call, mapping, now());
  if (!start.ok) {
    const error = runError('INVALID_VARIABLES', start.problems.join('; '));
    log().warn({ error }, 'extracted variables do not fit the mapping');
    return (await writes.kill(error, now(), 'invalid-variables')) ? 'invalid-variables' : 'lost-lease';
  }
  const { context } = start;
  context.run = runLink(run.id, deps.runsPageUrl);
  if (context.score) writes.saveScore(context.score);
  // The connector slot of the step executing now (executeStep takes it once the input is known).
  const connectorSlot: { leave: (() => void) | null } = { leave: null };
  try {
    for (const step of mapping.steps) {
      writes.check();
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
      await writes.release();
      return 'released';
    }
    if (error instanceof ConnectorBusy) {
      // Jittered, so the runs given back together do not all come back together.
      const at = now() + Math.round(CONNECTOR_BUSY_RETRY_MS * (0.5 + (deps.random ?? Math.random)()));
      if (deps.logger.isLevelEnabled('debug')) log().debug({ connector: error.key, retry_at: at }, 'connector busy: run given back');
      return (await writes.release(at)) ? 'connector-busy' : 'lost-lease';
    }
    return settleFailure(error);
  }
  if (!(await writes.complete(now()))) return 'lost-lease';
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
      writes.finish(step.id, { status: 'skipped', output, error: reason, ...(input === undefined ? {} : { input }) }, now());
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
      writes.finish(step.id, { status: 'succeeded', output: decision.output }, now());
      return 'ok';
    }

    if (deps.bulkhead) {
      const key = step.kind.bulkheadKey?.(input) ?? connectorOf(step.kind.kind);
      connectorSlot.leave = await deps.bulkhead.enter(key, signal);
      if (!connectorSlot.leave) throw new ConnectorBusy(key);
    }
    // Recorded before the side effect: a crash in between leaves a visible "started" step.
    if (!(await writes.start(step.id, recorded, inputHash, now()))) return 'lost-lease';
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
      writes.finish(step.id, { status: 'failed', error: message, ...(exchange ? { evidence: storedEvidence(exchange, redactSecretValues) } : {}) }, now());
      if (transient) {
        throw new StepFailure('STEP_TRANSIENT', `step ${step.id}: ${message}`, (error as TransientError).retryAfterMs, step.retry, logged);
      }
      throw new StepFailure('STEP_PERMANENT', `step ${step.id}: ${message}`, undefined, {}, logged);
    }
    output = output ?? null;
    deps.onStepSettled?.({ kind: step.kind.kind, outcome: 'succeeded', seconds: (now() - started) / 1000 });
    context.steps[step.id] = output;
    if (deps.logger.isLevelEnabled('debug')) log().debug({ step: step.id, ms: now() - started }, 'step succeeded');
    writes.finish(step.id, { status: 'succeeded', output }, now());
    return 'ok';
  }

  async function settleFailure(error: unknown): Promise<RunOutcome> {
    writes.check(); // a record is missing: neither retried nor dead, the lease decides
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
      return (await writes.retry(message, at, now())) ? 'retrying' : 'lost-lease';
    }
    const code: RunErrorCode = 'RETRIES_EXHAUSTED'; // prefixes the last transient error, as `CODE after N attempts: …`
    const exhausted = failure.code === 'STEP_TRANSIENT' ? `${code} after ${attempt} attempts: ` : '';
    log().error({ attempt, error: `${exhausted}${logged}` }, 'run is dead');
    return (await writes.kill(`${exhausted}${message}`, now())) ? 'dead' : 'lost-lease';
  }
}

/** Errors from other libraries that say they may pass on retry. */
function isTransient(error: unknown): boolean {
  return (error as { transient?: unknown } | null)?.transient === true;
}
