// `aftercall check` as a function: mapping files and folders in, every problem out (errors
// and warnings, each with file, line and column), nothing printed. The service's start,
// `aftercall check` and `aftercall test` share the loader, so what passes here loads there.
import { statSync } from 'node:fs';
import { createConnectors, stepKinds, type StepKinds } from '../connectors/index.js';
import { compileMappingFiles, listMappingFiles, type CompiledMapping, type MappingProblem } from './load-mappings.js';

export interface Problem {
  file: string;
  line: number;
  column: number;
  severity: 'error' | 'warning';
  message: string;
  /** The key the problem is about, e.g. `steps.0.with.to` ('' for the whole file). */
  key: string;
  /** A stable name of the kind of problem, for editors and scripts (e.g. `unknown-function`). */
  code?: string;
}

export interface CheckResult {
  /** The mapping files checked, in order, each with its mapping when it loads (warnings allowed). */
  files: Array<{ path: string; mapping: CompiledMapping | null }>;
  /** The mappings that load, in file order. */
  mappings: CompiledMapping[];
  problems: Problem[];
}

export interface CheckOptions {
  kinds?: StepKinds;
  /** The environment the connectors' configuration is read from, as the service reads it. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Checks mapping files and folders (a folder: its `*.yaml` and `*.yml` files, as MAPPINGS_DIR
 * is read). A path that does not exist is a problem with code `not-found`.
 */
export function checkMappings(paths: readonly string[], options: CheckOptions = {}): CheckResult {
  const problems: Problem[] = [];
  const files: string[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      problems.push({ file: path, line: 0, column: 0, severity: 'error', key: '', message: 'no such file or folder', code: 'not-found' });
      continue;
    }
    if (!isDirectory) files.push(path);
    else {
      const found = listMappingFiles(path);
      if (found.length === 0) problems.push({ file: path, line: 0, column: 0, severity: 'warning', key: '', message: 'no mapping files (*.yaml) in this folder', code: 'no-files' });
      files.push(...found);
    }
  }
  const env = options.env ?? process.env;
  const results = compileMappingFiles(files, options.kinds ?? stepKinds(createConnectors(env)), env);
  for (const r of results) problems.push(...[...r.problems, ...r.warnings].sort(byPosition).map(asProblem));
  return {
    files: results.map((r) => ({ path: r.file, mapping: r.mapping })),
    mappings: results.flatMap((r) => (r.mapping ? [r.mapping] : [])),
    problems,
  };
}

const byPosition = (a: MappingProblem, b: MappingProblem) => a.line - b.line || a.column - b.column;

function asProblem(p: MappingProblem): Problem {
  return {
    file: p.file,
    line: p.line,
    column: p.column,
    severity: p.severity ?? 'error',
    message: p.message,
    key: p.key,
    ...(p.code ? { code: p.code } : {}),
  };
}
