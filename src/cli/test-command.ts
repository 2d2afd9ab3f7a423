// `aftercall test [paths…]`: runs mapping test files (default: MAPPINGS_DIR/tests/*.yaml)
// without sending anything. Each test plans a payload as `replay --dry-run` does, optionally a
// second revision with the worker's repeat rule, and compares the plan with its expectations.
// Exit 0: all passed; 1: a test failed (or its mappings do not load); 2: usage or test-file error.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { createConnectors, stepKinds, type StepKinds } from '../connectors/index.js';
import { formatProblem, listMappingFiles, loadMappingFiles, MappingLoadError, type CompiledMapping } from '../mapping/load-mappings.js';
import { nodeOffset } from '../mapping/yaml-positions.js';
import { mappingTestFileSchema, type MappingTest } from '../mapping/mapping-test-schema.js';
import type { SchemaMode } from '../payload/schema.js';
import type { EarlierEffect } from '../store/store.js';
import { configOrExit, type CliContext } from './cli-config.js';
import { replayPayload, type FilePlan } from './replay-command.js';
import { isPlainObject, showValue, unmetExpectations, type Failure, type Path } from './test-expectations.js';

export interface TestRunOptions {
  mappingsDir: string;
  schemaMode: SchemaMode;
  print: (line: string) => void;
}

class TestFileError extends Error {}

/** Runs every test file under `paths` and prints the results; resolves to the exit code. */
export async function runMappingTests(paths: string[], options: TestRunOptions): Promise<number> {
  const { print } = options;
  let files: string[];
  try {
    files = collectTestFiles(paths.length > 0 ? paths : [join(options.mappingsDir, 'tests')]);
  } catch (error) {
    print((error as Error).message);
    return 2;
  }
  const mappingSets = new Map<string, CompiledMapping[] | MappingLoadError>();
  const counts = { passed: 0, failed: 0, fileErrors: 0, tests: 0 };
  for (const file of files) {
    try {
      await runFile(file, options, mappingSets, counts);
    } catch (error) {
      if (!(error instanceof TestFileError)) throw error;
      counts.fileErrors++;
      print(`✗ ${error.message}`);
    }
  }
  const errors = counts.fileErrors > 0 ? `, ${plural(counts.fileErrors, 'test file')} with errors` : '';
  print(`\n${counts.passed} passed, ${counts.failed} failed${errors} (${plural(counts.tests, 'test')} in ${plural(files.length, 'file')})`);
  if (counts.fileErrors > 0) return 2;
  return counts.failed > 0 ? 1 : 0;
}

function collectTestFiles(paths: string[]): string[] {
  return paths.flatMap((p) => {
    if (!existsSync(p)) throw new Error(`aftercall test: ${p} does not exist`);
    if (!statSync(p).isDirectory()) return [p];
    const found = readdirSync(p)
      .filter((f) => /\.ya?ml$/i.test(f))
      .sort()
      .map((f) => join(p, f));
    if (found.length === 0) throw new Error(`aftercall test: no test files (*.yaml) in ${p}`);
    return found;
  });
}

async function runFile(
  file: string,
  options: TestRunOptions,
  mappingSets: Map<string, CompiledMapping[] | MappingLoadError>,
  counts: { passed: number; failed: number; tests: number },
): Promise<void> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (path: Path) => lineCounter.linePos(nodeOffset(doc as Document, path)).line;
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new TestFileError(`${file}:${lineCounter.linePos(e.pos[0]).line} ${e.message.split('\n')[0]}`);
  }
  const parsed = mappingTestFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const lines = parsed.error.issues.flatMap((issue) => {
      const path = issue.path.map((k) => (typeof k === 'number' ? k : String(k)));
      const key = path.join('.') || '(file)';
      // An unknown key is pointed at where it is written.
      if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `${file}:${lineOf([...path, k])} ${key}: unknown key "${k}"`);
      return [`${file}:${lineOf(path)} ${key}: ${issueMessage(issue)}`];
    });
    throw new TestFileError(lines.join('\n  '));
  }
  const spec = parsed.data;
  const here = dirname(file);
  const mappingsDir = resolve(here, spec.mappings ?? '..');
  let mappings = mappingSets.get(mappingsDir);
  if (!mappings) {
    try {
      mappings = loadMappingFiles(listMappingFiles(mappingsDir), kindsWithoutConfig());
    } catch (error) {
      if (!(error instanceof MappingLoadError)) throw new TestFileError(`${file}:${lineOf(['mappings'])} mappings: ${(error as Error).message}`);
      mappings = error;
    }
    mappingSets.set(mappingsDir, mappings);
  }
  if (mappings instanceof MappingLoadError) {
    counts.tests += spec.tests.length;
    counts.failed += spec.tests.length;
    options.print(`✗ ${file}: the mappings under test do not load`);
    for (const p of mappings.problems) options.print(`    ${formatProblem(p)}`);
    return;
  }

  // A test file's problems (its payload) stop that file; its tests' failures do not.
  for (const [i, test] of spec.tests.entries()) {
    const at = (...path: Path) => ['tests', i, ...path];
    const base = loadPayload(test, spec.fixture, here, (path) => `${file}:${lineOf(at(...path))}`);
    const failures: Failure[] = [];
    const first = await plan(base, test, mappings, options, 1, () => null, (path) => `${file}:${lineOf(at(...path))}`);
    failures.push(...unmetExpectations(test.expect, first, (path) => lineOf(at('expect', ...path))));
    if (test.revision2) {
      const second = await plan(
        applyOverrides(base, test.revision2.overrides ?? {}),
        test,
        mappings,
        options,
        2,
        earlierEffects(first, test),
        (path) => `${file}:${lineOf(at('revision2', ...path))}`,
      );
      failures.push(...unmetExpectations(test.revision2.expect, second, (path) => lineOf(at('revision2', 'expect', ...path))));
    }
    counts.tests++;
    if (failures.length === 0) {
      counts.passed++;
      options.print(`✓ ${file} › ${test.name}`);
      continue;
    }
    counts.failed++;
    options.print(`✗ ${file} › ${test.name}`);
    for (const f of failures) {
      options.print(`    ${file}:${f.line} ${f.what}`);
      options.print(`      expected: ${showValue(f.expected)}`);
      options.print(`      actual:   ${showValue(f.actual)}`);
    }
  }
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  // Each alternative's first problem, e.g. `b: runs` for a step: one of "run"|"skipped"|"invalid", or an object.
  if (issue.code === 'invalid_union' && issue.errors.length > 0) return issue.errors.map((branch) => (branch[0] ? issueMessage(branch[0]) : 'invalid')).join(', or ');
  return issue.message.replace(/^Invalid input: expected (\w+), received undefined$/, 'missing (expected $1)').replace(/^Invalid input: /, '');
}

/** Step kinds as `aftercall test` needs them: nothing is sent, so no vendor credentials. */
function kindsWithoutConfig(): StepKinds {
  return new Map([...stepKinds(createConnectors({}))].map(([name, kind]) => [name, { ...kind, missingConfig: undefined }]));
}

function loadPayload(test: MappingTest, fileFixture: string | undefined, here: string, where: (path: Path) => string): unknown {
  const fixture = test.fixture ?? fileFixture;
  if (test.payload && test.fixture) throw new TestFileError(`${where(['payload'])} give either payload or fixture, not both`);
  let payload: unknown = test.payload;
  if (!payload) {
    if (!fixture) throw new TestFileError(`${where([])} the test has neither a fixture nor a payload`);
    const path = resolve(here, fixture);
    try {
      payload = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new TestFileError(`${where(test.fixture ? ['fixture'] : [])} fixture ${fixture}: ${(error as Error).message}`);
    }
  }
  return applyOverrides(payload, test.overrides ?? {});
}

async function plan(
  payload: unknown,
  test: MappingTest,
  mappings: CompiledMapping[],
  options: TestRunOptions,
  revision: number,
  earlierEffect: (mapping: string, stepId: string) => EarlierEffect | null,
  where: (path: Path) => string,
): Promise<FilePlan> {
  const result = await replayPayload('', payload, mappings, {
    dryRun: true,
    schemaMode: options.schemaMode,
    stepTimeoutMs: 0,
    plan: { revision, earlierEffect, plannedOutput: (mapping, stepId) => test.outputs?.[mapping]?.[stepId] },
  });
  if (!result.valid) {
    const issues = (result.issues ?? []).map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ');
    throw new TestFileError(`${where(['overrides'])} the test's payload (revision ${revision}) is invalid: ${issues}`);
  }
  return result;
}

/** What revision 1 did, as the worker finds it in the store: planned steps executed with their answers. */
function earlierEffects(first: FilePlan, test: MappingTest): (mapping: string, stepId: string) => EarlierEffect | null {
  return (mapping, stepId) => {
    const step = first.matched.find((m) => m.mapping === mapping)?.steps.find((s) => s.id === stepId);
    if (step?.status !== 'planned') return null;
    return { revision: 1, outcome: 'succeeded', inputHash: step.inputHash ?? null, output: test.outputs?.[mapping]?.[stepId] ?? null };
  };
}

/**
 * The payload with `overrides` merged in: objects key by key, anything else replaced; a dotted
 * key is a path (`extracted_variables.lead_quality: high`).
 */
export function applyOverrides(payload: unknown, overrides: Record<string, unknown>): unknown {
  const result: unknown = structuredClone(payload);
  if (!isPlainObject(result)) return result;
  for (const [key, value] of Object.entries(overrides)) {
    const parts = key.split('.');
    let target: Record<string, unknown> = result;
    for (const part of parts.slice(0, -1)) {
      if (!isPlainObject(target[part]) && !Array.isArray(target[part])) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1]!;
    target[last] = isPlainObject(value) && isPlainObject(target[last]) ? applyOverrides(target[last], value) : structuredClone(value);
  }
  return result;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export function registerTestCommand(program: Command, ctx: CliContext): void {
  program
    .command('test')
    .description('Run mapping test files (default: MAPPINGS_DIR/tests) without sending anything; exit 1 on a failure')
    .argument('[paths...]', 'test files or folders of *.yaml')
    .action(async (paths: string[]) => {
      const config = configOrExit(ctx);
      ctx.exitCode = await runMappingTests(paths, {
        mappingsDir: config.MAPPINGS_DIR,
        schemaMode: config.SCHEMA_MODE,
        print: ctx.print,
      });
    });
}
