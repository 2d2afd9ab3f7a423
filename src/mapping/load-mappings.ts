// Reads mappings/*.yaml, validates each file and compiles its expressions once.
// Every problem names file, line, column and key, so `aftercall check` and the start-up
// log point straight at it.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type jsonata from 'jsonata';
import { isScalar, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { RepeatPolicy, StepKind } from '../connectors/connector.js';
import type { StepKinds } from '../connectors/index.js';
import { expressionProblems, type ExpressionScope, type StepOutput } from './expression-check.js';
import { mappingFileSchema, stepSchema, type MappingFile, type MappingStepFile } from './mapping-schema.js';
import { compileScore, type CompiledScore } from '../scoring/score.js';
import { secretProblems, usesSecrets } from './secrets.js';
import { schemaProblems } from './schema-issues.js';
import { checkStaticInput } from './static-input-check.js';
import { compileCondition, compileTemplate, ExpressionError, parseExpression, templateExpressions, type Condition, type Render } from './template.js';
import { compileInbound, type CompiledInbound } from './inbound-section.js';
import { keyOffset, nodeOffset, yamlProblems } from './yaml-positions.js';
import { declarationProblems, normalizeDeclaration, variablesSchema, type VariableDeclaration } from './variables.js';

export interface CompiledStep {
  id: string;
  kind: StepKind;
  /** Per-step overrides of the retry limits. */
  retry: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  repeat: RepeatPolicy;
  when: Condition | null;
  whenSource: string | null;
  render: Render;
  /** `with` calls `$secret`: the rendered input is stored with `[secret NAME]` (secrets.ts). */
  usesSecrets?: boolean;
}

export interface CompiledMapping {
  name: string;
  description: string | null;
  file: string;
  /** sha256 of the file's bytes (first 16 hex digits): runs record which version they used. */
  hash: string;
  enabled: boolean;
  match: MappingFile['match'];
  variables: VariableDeclaration;
  score: CompiledScore | null;
  steps: CompiledStep[];
  /** The `inbound:` section: what this mapping answers inbound-call requests with. */
  inbound: CompiledInbound | null;
}

export interface MappingProblem {
  file: string;
  line: number;
  column: number;
  key: string;
  message: string;
  /** A warning does not stop a mapping from loading (unset: an error). */
  severity?: 'error' | 'warning';
  /** A stable name of the kind of problem, where one is given (e.g. `unknown-function`). */
  code?: string;
}

export function formatProblem(p: MappingProblem): string {
  return `${p.file}:${p.line}:${p.column}${p.key ? ` ${p.key}:` : ''} ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}

export class MappingLoadError extends Error {
  constructor(readonly problems: MappingProblem[]) {
    super(`Invalid mapping files:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    this.name = 'MappingLoadError';
  }
}

export function listMappingFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/i.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** Loads every mapping file of `dir`; throws MappingLoadError listing all problems. */
export function loadMappingDir(dir: string, kinds: StepKinds, env: NodeJS.ProcessEnv = process.env): CompiledMapping[] {
  return loadMappingFiles(listMappingFiles(dir), kinds, env);
}

export interface MappingFileResult {
  file: string;
  mapping: CompiledMapping | null;
  /** Errors: the file does not load. */
  problems: MappingProblem[];
  warnings: MappingProblem[];
}

/** Compiles each file on its own; a later file reusing an earlier file's name is refused. */
export function compileMappingFiles(files: string[], kinds: StepKinds, env: NodeJS.ProcessEnv = process.env): MappingFileResult[] {
  const seen = new Map<string, string>();
  return files.map((file) => {
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch (error) {
      const message = `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
      return { file, mapping: null, problems: [{ file, line: 0, column: 0, key: '', message, code: 'unreadable' }], warnings: [] };
    }
    const result = compileMappingSource(source, file, kinds, env);
    if ('problems' in result) return { file, mapping: null, problems: result.problems, warnings: result.warnings };
    const other = seen.get(result.mapping.name);
    if (other) {
      const message = `"${result.mapping.name}" is also the name in ${basename(other)}`;
      return { file, mapping: null, problems: [{ file, line: 1, column: 1, key: 'name', message }], warnings: result.warnings };
    }
    seen.set(result.mapping.name, file);
    return { file, mapping: result.mapping, problems: [], warnings: result.warnings };
  });
}

/** All files or nothing: throws MappingLoadError listing every problem (warnings do not count). */
export function loadMappingFiles(files: string[], kinds: StepKinds, env: NodeJS.ProcessEnv = process.env): CompiledMapping[] {
  const results = compileMappingFiles(files, kinds, env);
  const problems = results.flatMap((r) => r.problems);
  if (problems.length > 0) throw new MappingLoadError(problems);
  return results.map((r) => r.mapping!);
}

/**
 * Validates and compiles one mapping file. `env` is read as the service reads it, for the
 * connectors' configuration. Every problem is reported, each step's included, not only the
 * first; warnings (an extracted variable not declared) come with either answer.
 */
export function compileMappingSource(
  source: string,
  file: string,
  kinds: StepKinds,
  env: NodeJS.ProcessEnv = process.env,
): { mapping: CompiledMapping; warnings: MappingProblem[] } | { problems: MappingProblem[]; warnings: MappingProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number | undefined) => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) return { problems: yamlProblems(doc, source, file, lineCounter), warnings: [] };
  const locate = (path: Array<string | number>, atKey = false) => ({
    ...where(atKey ? keyOffset(doc, path) ?? nodeOffset(doc, path) : nodeOffset(doc, path)),
    key: path.join('.'),
  });
  const problems: MappingProblem[] = [];
  const warnings: MappingProblem[] = [];
  const valueAt = (path: Array<string | number>): unknown => {
    const node = doc.getIn(path, true);
    return isScalar(node) ? node.value : undefined;
  };
  const report = (issues: readonly z.core.$ZodIssue[], base: Array<string | number> = []) => {
    for (const p of schemaProblems(issues, valueAt, base)) problems.push({ file, ...locate(p.path, p.atKey), message: p.message });
  };

  const raw = doc.toJS() as unknown;
  const parsed = mappingFileSchema.safeParse(raw);
  let spec: MappingFile;
  if (parsed.success) spec = parsed.data;
  else {
    report(parsed.error.issues);
    // When every step is well-formed but for unknown keys, the steps are still checked, so
    // one pass shows every problem.
    const rawSteps = (raw as { steps?: unknown } | null)?.steps;
    const steps = z.array(stepSchema.strip()).safeParse(rawSteps);
    const variables = variablesSchema.safeParse((raw as { variables?: unknown } | null)?.variables ?? {});
    if (steps.success) checkSteps(steps.data, variables.success ? normalizeDeclaration(variables.data) : null);
    return { problems: inFileOrder(problems), warnings: inFileOrder(warnings) };
  }

  const variables = normalizeDeclaration(spec.variables);
  for (const p of declarationProblems(variables)) {
    problems.push({ file, ...locate(['variables', p.name, p.key]), message: p.message });
  }
  // Score rules run before any step, with the same context.
  const ruleScope = { earlier: new Map(), all: new Set(spec.steps.map((st) => st.id)), variables: new Set(Object.keys(variables)) };
  const beforeRules = problems.length;
  spec.score?.rules.forEach((rule, i) => checkExpression(rule.when, ['score', 'rules', i, 'when'], ruleScope, true));
  let score: CompiledScore | null = null;
  try {
    score = spec.score && problems.length === beforeRules ? compileScore(spec.score) : null;
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    problems.push({ file, ...locate(error.path), message: error.message });
  }
  const steps = checkSteps(spec.steps, variables);
  let inbound: CompiledInbound | null = null;
  if (spec.inbound) {
    const compiled = compileInbound(spec.inbound);
    if ('problem' in compiled) problems.push({ file, ...locate(['inbound', ...compiled.problem.path]), message: compiled.problem.message });
    else inbound = compiled.inbound;
    spec.inbound.lookups.forEach((lookup, i) => {
      if (lookup.use === 'earlier_calls') return;
      const kind = kinds.get(lookup.use);
      const missing = kind ? kind.missingConfig?.(env, lookup.with) : `the ${lookup.use} step kind`;
      if (missing) problems.push({ file, ...locate(['inbound', 'lookups', i, 'use']), message: `lookup "${lookup.id}" (${lookup.use}) needs ${missing}`, code: 'missing-config' });
    });
  }
  if (problems.length > 0) return { problems: inFileOrder(problems), warnings: inFileOrder(warnings) };
  return {
    mapping: {
      name: spec.name,
      description: spec.description ?? null,
      file: basename(file),
      hash: createHash('sha256').update(source).digest('hex').slice(0, 16),
      enabled: spec.enabled,
      match: spec.match,
      variables,
      score,
      steps,
      inbound,
    },
    warnings: inFileOrder(warnings),
  };

  /** Reports what an expression reads or calls that will not exist when it runs. */
  function checkExpression(source: string, path: Array<string | number>, scope: ExpressionScope, warn: boolean): void {
    let ast: jsonata.ExprNode;
    try {
      ast = parseExpression(source, path).ast();
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      problems.push({ file, ...locate(path), message: error.message, code: 'expression-syntax' });
      return;
    }
    for (const p of expressionProblems(ast, scope)) {
      if (p.severity === 'error') problems.push({ file, ...locate(path), message: p.message, code: p.code });
      else if (warn) warnings.push({ file, ...locate(path), message: p.message, code: p.code, severity: 'warning' });
    }
  }

  /**
   * Checks and compiles the steps. `variables` null: the declaration is broken (reported
   * already), so undeclared names are not warned of.
   */
  function checkSteps(stepSpecs: MappingStepFile[], variables: VariableDeclaration | null): CompiledStep[] {
    const compiled: CompiledStep[] = [];
    const earlier = new Map<string, StepOutput>();
    const all = new Set(stepSpecs.map((s) => s.id));
    const declared = new Set(Object.keys(variables ?? {}));
    stepSpecs.forEach((step, i) => {
      const at = (key: Array<string | number>) => locate(['steps', i, ...key]);
      const before = problems.length;
      if (earlier.has(step.id)) problems.push({ file, ...at(['id']), message: `duplicate step id "${step.id}"` });
      const kind = kinds.get(step.use);
      // A step reads only what exists when it runs: earlier steps, declared names.
      const scope = { earlier: new Map(earlier), all, variables: declared };
      const expressions = [...templateExpressions(step.with, ['with']), ...(step.when ? [{ source: step.when, path: ['when'] }] : [])];
      for (const expression of expressions) checkExpression(expression.source, ['steps', i, ...expression.path], scope, variables !== null);
      earlier.set(step.id, { kind: step.use, output: kind?.output });
      if (!kind) {
        problems.push({ file, ...at(['use']), message: `unknown step kind "${step.use}" (known: ${[...kinds.keys()].join(', ')})` });
        return;
      }
      const missing = kind.missingConfig?.(env, step.with);
      if (missing) problems.push({ file, ...at(['use']), message: `step "${step.id}" (${step.use}) needs ${missing}`, code: 'missing-config' });
      for (const p of checkStaticInput(step.with, kind.input)) {
        problems.push({ file, ...locate(['steps', i, 'with', ...p.path], p.atKey), message: `${step.use}: ${p.message}` });
      }
      for (const p of secretProblems(step.use, step.with, env)) problems.push({ file, ...at(p.path), message: p.message });
      if (problems.length > before) return;
      compiled.push({
        id: step.id,
        kind,
        retry: { maxAttempts: step.retry?.max_attempts, baseDelayMs: step.retry?.base_delay_ms, maxDelayMs: step.retry?.max_delay_ms },
        repeat: step.repeat ?? kind.defaultRepeat,
        when: step.when ? compileCondition(step.when, ['when']) : null,
        whenSource: step.when ?? null,
        render: compileTemplate(step.with, ['with']),
        usesSecrets: usesSecrets(step.with),
      });
    });
    return compiled;
  }
}

/** In the order of the file, whichever check found them. */
const inFileOrder = (list: MappingProblem[]) => [...list].sort((a, b) => a.line - b.line || a.column - b.column);
