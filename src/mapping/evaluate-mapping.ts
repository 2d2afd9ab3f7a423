// The parts of running a mapping that do not touch the outside world, shared by the worker
// and `aftercall replay`: variables check, score, and each step's `when` and rendered input.
import { createHash } from 'node:crypto';
import type { Call } from '../payload/call.js';
import { canonicalJson } from '../payload/content-hash.js';
import type { CompiledMapping, CompiledStep } from './load-mappings.js';
import { describeSecrets } from './secrets.js';
import { buildStepContext, type StepContextData } from './step-context.js';
import { checkVariables } from './variables.js';

export type MappingStart =
  | { ok: true; context: StepContextData }
  | { ok: false; problems: string[] };

/** Checks the call's variables against the declaration, fills defaults, computes the score. */
export async function startMapping(call: Call, mapping: CompiledMapping, now: number): Promise<MappingStart> {
  const variables = checkVariables(call.extracted_variables, mapping.variables);
  if (variables.problems.length > 0) return { ok: false, problems: variables.problems };
  const context = buildStepContext(call, now);
  context.extracted = variables.extracted; // declared defaults filled in
  if (mapping.score) context.score = await mapping.score.evaluate(context);
  return { ok: true, context };
}

export type PreparedStep =
  | { action: 'skip'; reason: string }
  /**
   * `input` is what the step executes with; `recorded` is what is stored and shown (secrets as
   * `[secret NAME]`), and what `inputHash` is of: a rotated secret is not a changed input.
   */
  | { action: 'run'; input: unknown; recorded: unknown; inputHash: string }
  | { action: 'invalid'; message: string };

/** Evaluates `when`, renders `with` and validates it with the step kind's schema. */
export async function prepareStep(step: CompiledStep, context: StepContextData): Promise<PreparedStep> {
  if (step.when && !(await step.when(context))) return { action: 'skip', reason: `when is false: ${step.whenSource}` };
  let rendered: unknown;
  try {
    rendered = await step.render(context);
  } catch (error) {
    return { action: 'invalid', message: `step ${step.id}: ${(error as Error).message}` };
  }
  const parsed = step.kind.input.safeParse(rendered);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${['with', ...i.path].join('.')}: ${i.message}`).join('; ');
    return { action: 'invalid', message: `step ${step.id} (${step.kind.kind}): ${problems}` };
  }
  const recorded = step.usesSecrets ? describeSecrets(parsed.data) : parsed.data;
  const inputHash = createHash('sha256').update(canonicalJson(recorded)).digest('hex');
  return { action: 'run', input: parsed.data, recorded, inputHash };
}
