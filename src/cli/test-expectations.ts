// What `aftercall test` compares: a planned payload (the replay dry run) against a test's
// `expect`, each difference a failure at the line of the expectation it breaks.
import type { Expectation } from '../mapping/mapping-test-schema.js';
import type { MappingPlan, StepPlan } from '../mapping/plan-mapping.js';
import type { FilePlan } from './replay-command.js';

/** A key path in the test file. */
export type Path = Array<string | number>;

/** One expectation that did not hold, at its line in the test file. */
export interface Failure {
  line: number;
  what: string;
  expected: unknown;
  actual: unknown;
}

const MISSING = Symbol('missing');

/** A description rather than a value, printed as is (values are printed as JSON). */
class Said {
  constructor(readonly text: string) {}
}
const said = (text: string) => new Said(text);

/** Where `actual` breaks `expect`; `lineOf` gives the test-file line of an expectation's path. */
export function unmetExpectations(expect: Expectation, actual: FilePlan, lineOf: (path: Path) => number): Failure[] {
  const failures: Failure[] = [];
  const fail = (path: Path, what: string, expected: unknown, got: unknown) => failures.push({ line: lineOf(path), what, expected, actual: got });
  const matched = new Map(actual.matched.map((m) => [m.mapping, m] as const));
  const notMatched = new Map(actual.notMatched.map((n) => [n.mapping, n.reason] as const));
  const matchState = (name: string) =>
    said(matched.has(name) ? 'matched' : notMatched.has(name) ? `not matched: ${notMatched.get(name)}` : 'no mapping of that name');

  for (const [j, name] of (expect.matched ?? []).entries()) {
    if (!matched.has(name)) fail(['matched', j], `${name}: matches`, said('matched'), matchState(name));
  }
  const unmatched = Array.isArray(expect.not_matched)
    ? expect.not_matched.map((name, j) => [name, null, ['not_matched', j]] as const)
    : Object.entries(expect.not_matched ?? {}).map(([name, reason]) => [name, reason, ['not_matched', name]] as const);
  for (const [name, reason, path] of unmatched) {
    if (!notMatched.has(name)) fail([...path], `${name}: does not match`, said(reason ? `not matched: …${reason}…` : 'not matched'), matchState(name));
    else if (reason && !notMatched.get(name)!.includes(reason)) fail([...path], `${name}: why it does not match`, said(`…${reason}…`), said(notMatched.get(name)!));
  }
  for (const [name, want] of Object.entries(expect.mappings ?? {})) {
    const path = ['mappings', name];
    const got = matched.get(name);
    if (!got) {
      fail(path, `${name}: matches`, said('matched'), matchState(name));
      continue;
    }
    compareMapping(name, want, got, path, fail);
  }
  return failures;
}

function compareMapping(
  name: string,
  want: NonNullable<Expectation['mappings']>[string],
  got: MappingPlan,
  path: Path,
  fail: (path: Path, what: string, expected: unknown, actual: unknown) => void,
): void {
  if (want.status && want.status !== got.status) {
    fail([...path, 'status'], `${name}: status`, said(want.status), said(got.problems ? `${got.status}: ${got.problems.join('; ')}` : got.status));
  }
  for (const [k, text] of (want.problems ?? []).entries()) {
    if (!(got.problems ?? []).some((p) => p.includes(text))) fail([...path, 'problems', k], `${name}: variables problems`, said(`…${text}…`), got.problems ?? []);
  }
  if (want.score) {
    for (const key of ['value', 'band'] as const) {
      if (want.score[key] === undefined) continue;
      const actual = got.score ? got.score[key] : said('no score');
      if (actual !== want.score[key]) fail([...path, 'score', key], `${name}: score.${key}`, want.score[key], actual);
    }
  }
  for (const [id, expected] of Object.entries(want.steps ?? {})) {
    const stepPath = [...path, 'steps', id];
    const step = got.steps.find((s) => s.id === id);
    if (!step) {
      fail(stepPath, `${name}: step ${id}`, said('a step'), said(got.status === 'ok' ? `no step "${id}"` : `no steps: ${got.status}`));
      continue;
    }
    const want = typeof expected === 'string' ? { status: expected } : expected;
    const status = shownStatus(step);
    if (want.status && want.status !== status) {
      fail(typeof expected === 'string' ? stepPath : [...stepPath, 'status'], `${name}: step ${id}`, said(want.status), said(step.reason ? `${status} — ${step.reason}` : status));
    }
    if (want.reason !== undefined && !(step.reason ?? '').includes(want.reason)) {
      fail([...stepPath, 'reason'], `${name}: step ${id} reason`, said(`…${want.reason}…`), said(step.reason ?? `(none: ${status})`));
    }
    if (want.input !== undefined) {
      for (const d of subsetDiff(want.input, step.input === undefined ? MISSING : step.input, [])) {
        fail([...stepPath, 'input', ...d.path], `${name}: step ${id} input${d.path.map((k) => `.${k}`).join('')}`, d.expected, d.actual);
      }
    }
  }
}

function shownStatus(step: StepPlan): string {
  return step.status === 'planned' ? 'run' : step.status;
}

/** Where `actual` differs from `expected`: objects key by key (extra keys allowed), arrays element by element. */
function subsetDiff(expected: unknown, actual: unknown, path: Path): Array<{ path: Path; expected: unknown; actual: unknown }> {
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return [{ path, expected, actual }];
    return Object.entries(expected).flatMap(([k, v]) => subsetDiff(v, k in actual ? actual[k] : MISSING, [...path, k]));
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [{ path, expected, actual }];
    return expected.flatMap((v, i) => subsetDiff(v, actual[i], [...path, i]));
  }
  return Object.is(expected, actual) || (expected === 0 && actual === 0) ? [] : [{ path, expected, actual }];
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An expected or actual value as a failure prints it. */
export function showValue(value: unknown): string {
  if (value === MISSING) return '(missing)';
  if (value instanceof Said) return value.text;
  return JSON.stringify(value) ?? String(value);
}
