// Whether a step whose `when` holds and whose input rendered runs, is skipped, or reuses an
// earlier execution's effect. One pure decision, used by the worker (earlier effects from the
// store), the Runs page's re-run confirmation (the same effects, before the re-run is queued)
// and `aftercall replay` / `aftercall test` (effects the caller supplies).
import type { RepeatPolicy } from '../connectors/connector.js';
import { DRY_RUN_REASON } from '../payload/test-request.js';
import type { EarlierEffect } from '../store/store.js';
import type { CompiledStep } from './load-mappings.js';

/** True when a step whose input hashed `earlierInputHash` before executes again with `inputHash`. */
export function repeatsAfter(repeat: RepeatPolicy, earlierInputHash: string | null, inputHash: string): boolean {
  return repeat === 'always' || (repeat === 'on-change' && earlierInputHash !== inputHash);
}

/**
 * Which earlier execution revision `revision` of this step must look up, or null when none
 * matters (the first revision, `repeat: always`). `atMostOnce`: an execution left `started`
 * counts as done, where a repeat is worse than a miss (`repeat: never`, or a kind the receiver
 * cannot dedupe).
 */
export function earlierEffectLookup(step: CompiledStep, revision: number): { atMostOnce: boolean } | null {
  if (revision <= 1 || step.repeat === 'always') return null;
  return { atMostOnce: step.repeat === 'never' || step.kind.safeToRepeat === false };
}

export type RepeatDecision = { action: 'run' } | { action: 'skip'; reason: string; output: unknown };

/** The step's fate given the latest earlier execution found by `earlierEffectLookup` (null: none). */
export function decideRepeat(step: CompiledStep, earlier: EarlierEffect | null, inputHash: string): RepeatDecision {
  if (!earlier || repeatsAfter(step.repeat, earlier.inputHash, inputHash)) return { action: 'run' };
  const unknown = earlier.outcome === 'unknown' ? ', which may have done it: outcome unknown' : '';
  const reason =
    step.repeat === 'never'
      ? unknown
        ? `repeat: never (revision ${earlier.revision}${unknown})`
        : `repeat: never (done for revision ${earlier.revision})`
      : `repeat: on-change (input unchanged since revision ${earlier.revision}${unknown})`;
  return { action: 'skip', reason, output: earlier.output };
}

export interface StepFacts {
  step: CompiledStep;
  /** Of the input as rendered now. */
  inputHash: string;
  /** This run's own success before an operator re-run (`done-before`), if any. */
  doneBefore?: { inputHash: string | null; output: unknown } | null;
  /** The latest earlier revision's execution, looked up as `earlierEffectLookup` says (null: none or not looked up). */
  earlier: EarlierEffect | null;
  /** A test delivery under TEST_DELIVERIES=dry-run: evaluated and recorded, never sent. */
  dryRun?: boolean;
}

export type StepDecision =
  /** `again`: it executed before (this run before a re-run, or an earlier revision) and its policy repeats it. */
  | { action: 'run'; again: 'always' | 'input-changed' | null }
  | { action: 'skip'; reason: string }
  /**
   * Not executed; its earlier effect stands. `this-run`: it succeeded in this run before an
   * operator re-run and stays `succeeded`, so later revisions still see it done.
   * `earlier-revision`: recorded `skipped` with that execution's output.
   */
  | { action: 'reuse'; from: 'this-run' | 'earlier-revision'; reason: string; output: unknown };

export function decideStep(facts: StepFacts): StepDecision {
  const { step, inputHash, doneBefore, earlier } = facts;
  if (facts.dryRun) return { action: 'skip', reason: DRY_RUN_REASON };
  if (doneBefore && !repeatsAfter(step.repeat, doneBefore.inputHash, inputHash)) {
    const reason = step.repeat === 'never' ? 'repeat: never; it succeeded before' : 'repeat: on-change; its input is unchanged';
    return { action: 'reuse', from: 'this-run', reason, output: doneBefore.output };
  }
  const repeat = decideRepeat(step, earlier, inputHash);
  if (repeat.action === 'skip') return { action: 'reuse', from: 'earlier-revision', reason: repeat.reason, output: repeat.output };
  if (!doneBefore && !earlier) return { action: 'run', again: null };
  return { action: 'run', again: step.repeat === 'always' ? 'always' : 'input-changed' };
}
