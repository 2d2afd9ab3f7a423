// Reads mappings/*.yaml, validates each file and compiles its expressions once.
// Every problem names file, line, column and key, so `aftercall check` and the start-up
// log point straight at it.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { RepeatPolicy, StepKind } from '../connectors/connector.js';
import type { StepKinds } from '../connectors/index.js';
import { mappingFileSchema, type MappingFile } from './mapping-schema.js';
import { compileScore, type CompiledScore } from '../scoring/score.js';
import { secretProblems, usesSecrets } from './secrets.js';
import { checkStaticInput, stepReferences } from './static-input-check.js';
import { compileCondition, compileTemplate, ExpressionError, type Condition, type Render } from './template.js';
import { declarationProblems, normalizeDeclaration, type VariableDeclaration } from './variables.js';

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
}

export interface MappingProblem {
  file: string;
  line: number;
  column: number;
  key: string;
  message: string;
}

export function formatProblem(p: MappingProblem): string {
  return `${p.file}:${p.line}:${p.column}${p.key ? ` ${p.key}:` : ''} ${p.message}`;
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
export function loadMappingDir(dir: string, kinds: StepKinds): CompiledMapping[] {
  return loadMappingFiles(listMappingFiles(dir), kinds);
}

export interface MappingFileResult {
  file: string;
  mapping: CompiledMapping | null;
  problems: MappingProblem[];
}

/** Compiles each file on its own; a later file reusing an earlier file's name is refused. */
export function compileMappingFiles(files: string[], kinds: StepKinds): MappingFileResult[] {
  const seen = new Map<string, string>();
  return files.map((file) => {
    const result = compileMappingSource(readFileSync(file, 'utf8'), file, kinds);
    if ('problems' in result) return { file, mapping: null, problems: result.problems };
    const other = seen.get(result.mapping.name);
    if (other) {
      const message = `"${result.mapping.name}" is also the name in ${basename(other)}`;
      return { file, mapping: null, problems: [{ file, line: 1, column: 1, key: 'name', message }] };
    }
    seen.set(result.mapping.name, file);
    return { file, mapping: result.mapping, problems: [] };
  });
}

/** All files or nothing: throws MappingLoadError listing every problem. */
export function loadMappingFiles(files: string[], kinds: StepKinds): CompiledMapping[] {
  const results = compileMappingFiles(files, kinds);
  const problems = results.flatMap((r) => r.problems);
  if (problems.length > 0) throw new MappingLoadError(problems);
  return results.map((r) => r.mapping!);
}

export function compileMappingSource(
  source: string,
  file: string,
  kinds: StepKinds,
): { mapping: CompiledMapping } | { problems: MappingProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number | undefined) => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => ({ file, ...where(e.pos[0]), key: '', message: e.message.split('\n')[0] ?? e.message })),
    };
  }
  const locate = (path: Array<string | number>, atKey = false) => ({
    ...where(atKey ? keyOffset(doc, path) ?? nodeOffset(doc, path) : nodeOffset(doc, path)),
    key: path.join('.'),
  });

  const parsed = mappingFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.flatMap((issue) => {
        const path = issue.path.map((k) => (typeof k === 'number' ? k : String(k)));
        if (issue.code === 'unrecognized_keys') {
          return issue.keys.map((k) => ({ file, ...locate([...path, k], true), message: `unknown key "${k}"` }));
        }
        if (issue.code === 'invalid_key') {
          // A record key that breaks its pattern (e.g. a variable name): say why, at the key.
          return [{ file, ...locate(path, true), message: issue.issues[0]?.message ?? issue.message }];
        }
        return [{ file, ...locate(path), message: issue.message }];
      }),
    };
  }

  const spec = parsed.data;
  const problems: MappingProblem[] = [];
  const variables = normalizeDeclaration(spec.variables);
  for (const p of declarationProblems(variables)) {
    problems.push({ file, ...locate(['variables', p.name, p.key]), message: p.message });
  }
  let score: CompiledScore | null = null;
  try {
    score = spec.score ? compileScore(spec.score) : null;
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    problems.push({ file, ...locate(error.path), message: error.message });
  }

  const steps: CompiledStep[] = [];
  const ids = new Set<string>();
  spec.steps.forEach((step, i) => {
    const at = (key: Array<string | number>) => locate(['steps', i, ...key]);
    if (ids.has(step.id)) problems.push({ file, ...at(['id']), message: `duplicate step id "${step.id}"` });
    // A step reads only the outputs of steps before it.
    for (const ref of [...stepReferences(step.with, ['with']), ...stepReferences(step.when ?? '', ['when'])]) {
      if (ids.has(ref.id)) continue;
      const later = spec.steps.some((s) => s.id === ref.id);
      problems.push({
        file,
        ...at(ref.path),
        message: later ? `steps.${ref.id} refers to a later step; a step can only read earlier steps` : `steps.${ref.id} refers to no step`,
      });
    }
    ids.add(step.id);
    const kind = kinds.get(step.use);
    if (!kind) {
      problems.push({ file, ...at(['use']), message: `unknown step kind "${step.use}" (known: ${[...kinds.keys()].join(', ')})` });
      return;
    }
    const missing = kind.missingConfig?.();
    if (missing) problems.push({ file, ...at(['use']), message: `step "${step.id}" (${step.use}) needs ${missing}` });
    for (const p of checkStaticInput(step.with, kind.input)) {
      problems.push({ file, ...locate(['steps', i, 'with', ...p.path], p.atKey), message: `${step.use}: ${p.message}` });
    }
    for (const p of secretProblems(step.use, step.with)) problems.push({ file, ...at(p.path), message: p.message });
    try {
      steps.push({
        id: step.id,
        kind,
        retry: { maxAttempts: step.retry?.max_attempts, baseDelayMs: step.retry?.base_delay_ms, maxDelayMs: step.retry?.max_delay_ms },
        repeat: step.repeat ?? kind.defaultRepeat,
        when: step.when ? compileCondition(step.when, ['when']) : null,
        whenSource: step.when ?? null,
        render: compileTemplate(step.with, ['with']),
        usesSecrets: usesSecrets(step.with),
      });
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      problems.push({ file, ...at(error.path), message: error.message });
    }
  });
  if (problems.length > 0) return { problems };
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
    },
  };
}

/** Offset of the deepest existing node on `path` (a key without a value points at the key). */
export function nodeOffset(doc: Document, path: Array<string | number>): number {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return node.range[0];
    const key = n > 0 ? keyOffset(doc, path.slice(0, n)) : undefined;
    if (key !== undefined) return key;
  }
  return 0;
}

/** Offset of the key itself of the last element of `path`, when it is a mapping key. */
function keyOffset(doc: Document, path: Array<string | number>): number | undefined {
  const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
  const items = (parent as { items?: Array<{ key?: { value?: unknown; range?: number[] } }> } | null)?.items;
  return items?.find((item) => item.key?.value === path[path.length - 1])?.key?.range?.[0];
}
