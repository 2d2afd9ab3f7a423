// What a re-run with the current mappings would do, step by step, for the confirmation page.
// The worker's evaluation (variables, score, when, rendering) and its step decision
// (`decideStep`) against the same earlier effects; executes nothing.
import { prepareStep, startMapping } from '../../mapping/evaluate-mapping.js';
import type { CompiledMapping } from '../../mapping/load-mappings.js';
import { decideStep, earlierEffectLookup, type StepDecision } from '../../mapping/repeat-policy.js';
import type { TestDeliveryMode } from '../../payload/test-request.js';
import type { RunDetail, Store } from '../../store/store.js';

export interface RerunPlan {
  problem: string | null;
  steps: Array<{ id: string; use: string; repeat: string; decision: string; runs: boolean }>;
}

export interface RerunPlanOptions {
  now: number;
  /** Where the worker looks up a step's latest execution for an earlier revision of the run's call. */
  store: Pick<Store, 'findEarlierEffect'>;
  testDeliveries?: TestDeliveryMode;
}

export async function planRerun(run: RunDetail, mapping: CompiledMapping | null, options: RerunPlanOptions): Promise<RerunPlan> {
  if (!mapping) return { problem: `mapping "${run.mappingName}" is no longer loaded`, steps: [] };
  const start = await startMapping(run.call, mapping, options.now);
  if (!start.ok) return { problem: `the run would end invalid-variables: ${start.problems.join('; ')}`, steps: [] };
  const { context } = start;
  // What the re-run keeps of this run: its successes, as `done-before` (requeueForRerun).
  const done = new Map(
    run.steps.filter((s) => s.status === 'succeeded' || s.status === 'done-before').map((s) => [s.stepId, s] as const),
  );
  for (const [id, s] of done) context.steps[id] = s.output;
  const steps: RerunPlan['steps'] = [];
  let failing = false;
  for (const step of mapping.steps) {
    const base = { id: step.id, use: step.kind.kind, repeat: step.repeat };
    if (failing) {
      steps.push({ ...base, decision: 'not reached: an earlier step would fail', runs: false });
      continue;
    }
    const prepared = await prepareStep(step, context);
    if (prepared.action === 'skip') {
      context.steps[step.id] = null;
      steps.push({ ...base, decision: `skipped: ${prepared.reason}`, runs: false });
      continue;
    }
    if (prepared.action === 'invalid') {
      failing = true;
      steps.push({ ...base, decision: `would fail: ${prepared.message}`, runs: false });
      continue;
    }
    const lookup = earlierEffectLookup(step, run.revision);
    const decision = decideStep({
      step,
      inputHash: prepared.inputHash,
      doneBefore: done.get(step.id) ?? null,
      earlier: lookup ? await options.store.findEarlierEffect(run.callRowId, run.mappingName, step.id, run.revision, lookup.atMostOnce) : null,
      dryRun: run.isTest && options.testDeliveries === 'dry-run',
    });
    if (decision.action === 'reuse') context.steps[step.id] = decision.output;
    steps.push({ ...base, decision: describe(decision), runs: decision.action === 'run' });
  }
  return { problem: null, steps };
}

function describe(decision: StepDecision): string {
  switch (decision.action) {
    case 'run':
      if (decision.again === 'always') return 'will run again (repeat: always)';
      return decision.again === 'input-changed' ? 'will run again (repeat: on-change; its input changed)' : 'will run';
    case 'skip':
      return `skipped: ${decision.reason}`;
    case 'reuse':
      return decision.from === 'this-run' ? `will not repeat (${decision.reason})` : `skipped: ${decision.reason}`;
  }
}
