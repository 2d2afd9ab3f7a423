// The `repeat` rule: whether a step of a later revision of a call runs again after an earlier
// revision's execution of it. One function, used by the worker (earlier effects from the store)
// and by `aftercall test` (earlier effects from the test's first revision).
import type { RepeatPolicy } from '../connectors/connector.js';
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
