// What a re-run with the current mappings would do, step by step, for the confirmation page.
// Uses the same evaluation as the worker (variables, score, when, rendering), executes nothing.
import { prepareStep, startMapping } from '../../mapping/evaluate-mapping.js';
import type { CompiledMapping } from '../../mapping/load-mappings.js';
import type { RunDetail } from '../../store/store.js';

export interface RerunPlan {
  problem: string | null;
  steps: Array<{ id: string; use: string; repeat: string; decision: string; runs: boolean }>;
}

export async function planRerun(run: RunDetail, mapping: CompiledMapping | null, now: number): Promise<RerunPlan> {
  if (!mapping) return { problem: `mapping "${run.mappingName}" is no longer loaded`, steps: [] };
  const start = await startMapping(run.call, mapping, now);
  if (!start.ok) return { problem: `the run would end invalid-variables: ${start.problems.join('; ')}`, steps: [] };
  const { context } = start;
  const done = new Map(
    run.steps.filter((s) => s.status === 'succeeded' || s.status === 'done-before').map((s) => [s.stepId, s] as const),
  );
  for (const [id, s] of done) context.steps[id] = s.output;
  const steps: RerunPlan['steps'] = [];
  for (const step of mapping.steps) {
    const base = { id: step.id, use: step.kind.kind, repeat: step.repeat };
    const prepared = await prepareStep(step, context);
    const prior = done.get(step.id);
    if (prepared.action === 'skip') steps.push({ ...base, decision: `skipped: ${prepared.reason}`, runs: false });
    else if (prepared.action === 'invalid') steps.push({ ...base, decision: `would fail: ${prepared.message}`, runs: false });
    else if (!prior) steps.push({ ...base, decision: 'will run', runs: true });
    else if (step.repeat === 'never') steps.push({ ...base, decision: 'will not repeat (repeat: never; it succeeded before)', runs: false });
    else if (step.repeat === 'always') steps.push({ ...base, decision: 'will run again (repeat: always)', runs: true });
    else if (prior.inputHash === prepared.inputHash) steps.push({ ...base, decision: 'will not repeat (repeat: on-change; its input is unchanged)', runs: false });
    else steps.push({ ...base, decision: 'will run again (repeat: on-change; its input changed)', runs: true });
  }
  return { problem: null, steps };
}
