// One mapping over one call, without the store: variables, score, and for each step its
// `when`, rendered input and `repeat` decision. `aftercall replay` plans (and may execute)
// with it; `aftercall test` compares its plans with a test file's expectations.
import type { Call } from '../payload/call.js';
import type { EarlierEffect, RunScore } from '../store/store.js';
import { prepareStep, startMapping } from './evaluate-mapping.js';
import type { CompiledMapping, CompiledStep } from './load-mappings.js';
import { decideStep, earlierEffectLookup } from './repeat-policy.js';

export interface StepPlan {
  id: string;
  use: string;
  status: 'planned' | 'skipped' | 'invalid' | 'succeeded' | 'failed';
  input?: unknown;
  /** Of `input`, for a later revision's `repeat: on-change`. */
  inputHash?: string;
  output?: unknown;
  reason?: string;
}

export interface MappingPlan {
  mapping: string;
  status: 'ok' | 'invalid-variables' | 'failed';
  problems?: string[];
  score: RunScore | null;
  steps: StepPlan[];
}

export interface PlanOptions {
  now: number;
  /** The call's revision; above 1, `earlierEffect` says what earlier revisions did. */
  revision?: number;
  /** The store's answer (the worker's) or one the caller makes up (`aftercall test`). */
  earlierEffect?: (mapping: string, stepId: string, atMostOnce: boolean) => EarlierEffect | null | Promise<EarlierEffect | null>;
  /** Executes a step and returns its output; without it steps are only planned. */
  execute?: (step: CompiledStep, input: unknown) => Promise<unknown>;
  /** What later steps see as a planned step's output (`steps.<id>`); unset: null. */
  plannedOutput?: (mapping: string, stepId: string) => unknown;
}

export async function planMapping(call: Call, mapping: CompiledMapping, options: PlanOptions): Promise<MappingPlan> {
  const start = await startMapping(call, mapping, options.now);
  if (!start.ok) return { mapping: mapping.name, status: 'invalid-variables', problems: start.problems, score: null, steps: [] };
  const { context } = start;
  const revision = options.revision ?? 1;
  const steps: StepPlan[] = [];
  let failed = false;
  for (const step of mapping.steps) {
    const base = { id: step.id, use: step.kind.kind };
    if (failed) {
      steps.push({ ...base, status: 'skipped', reason: 'an earlier step failed' });
      continue;
    }
    const prepared = await prepareStep(step, context);
    if (prepared.action === 'skip') {
      context.steps[step.id] = null;
      steps.push({ ...base, status: 'skipped', reason: prepared.reason });
      continue;
    }
    if (prepared.action === 'invalid') {
      failed = true;
      steps.push({ ...base, status: 'invalid', reason: prepared.message });
      continue;
    }
    const { recorded, inputHash } = prepared;
    const lookup = earlierEffectLookup(step, revision);
    const earlier = lookup ? ((await options.earlierEffect?.(mapping.name, step.id, lookup.atMostOnce)) ?? null) : null;
    const decision = decideStep({ step, inputHash, earlier });
    if (decision.action !== 'run') {
      context.steps[step.id] = decision.action === 'reuse' ? decision.output : null;
      steps.push({ ...base, status: 'skipped', input: recorded, inputHash, reason: decision.reason });
      continue;
    }
    if (!options.execute) {
      // Nothing was executed: later steps see what the caller says it would answer, or null.
      const output = options.plannedOutput?.(mapping.name, step.id) ?? null;
      context.steps[step.id] = output;
      steps.push({ ...base, status: 'planned', input: recorded, inputHash });
      continue;
    }
    try {
      const output = (await options.execute(step, prepared.input)) ?? null;
      context.steps[step.id] = output;
      steps.push({ ...base, status: 'succeeded', input: recorded, inputHash, output });
    } catch (error) {
      failed = true;
      steps.push({ ...base, status: 'failed', input: recorded, inputHash, reason: (error as Error).message });
    }
  }
  return { mapping: mapping.name, status: failed ? 'failed' : 'ok', score: context.score, steps };
}
