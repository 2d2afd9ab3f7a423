// Load-time check of what an expression reads and calls, against what exists when it runs:
// the context's top-level names (step-context.ts), aftercall's and JSONata's functions, the
// declared extracted variables and the declared outputs of earlier steps. JSONata itself
// accepts all of these and answers "nothing" (or throws) only when a call arrives.
import type jsonata from 'jsonata';
import { z } from 'zod';
import { EXPRESSION_FUNCTIONS } from './expression-functions.js';
import { STEP_CONTEXT_NAMES } from './step-context.js';

/** JSONata 2.x's built-in functions (its static frame, plus $now and $millis bound per evaluation). */
export const JSONATA_FUNCTIONS: readonly string[] = [
  'abs', 'append', 'assert', 'average', 'base64decode', 'base64encode', 'boolean', 'ceil', 'clone', 'contains', 'count',
  'decodeUrl', 'decodeUrlComponent', 'distinct', 'each', 'encodeUrl', 'encodeUrlComponent', 'error', 'eval', 'exists',
  'filter', 'floor', 'formatBase', 'formatInteger', 'formatNumber', 'fromMillis', 'join', 'keys', 'length', 'lookup',
  'lowercase', 'map', 'match', 'max', 'merge', 'millis', 'min', 'not', 'now', 'number', 'pad', 'parseInteger', 'power',
  'random', 'reduce', 'replace', 'reverse', 'round', 'shuffle', 'sift', 'single', 'sort', 'split', 'spread', 'sqrt',
  'string', 'substring', 'substringAfter', 'substringBefore', 'sum', 'toMillis', 'trim', 'type', 'uppercase', 'zip',
];

const KNOWN_FUNCTIONS = new Set([...Object.keys(EXPRESSION_FUNCTIONS), ...JSONATA_FUNCTIONS]);

export interface StepOutput {
  kind: string;
  /** The step kind's declared output; undefined: not declared, any field is accepted. */
  output: z.ZodType | undefined;
}

export interface ExpressionScope {
  /** The steps before this one, by id. */
  earlier: ReadonlyMap<string, StepOutput>;
  /** Every step id of the mapping, to tell a later step from a missing one. */
  all: ReadonlySet<string>;
  /** The extracted variables declared under `variables`. */
  variables: ReadonlySet<string>;
}

export interface ExpressionProblem {
  severity: 'error' | 'warning';
  message: string;
  code: 'unknown-function' | 'unknown-name' | 'undeclared-variable' | 'unknown-step' | 'later-step' | 'unknown-step-field';
}

type Node = jsonata.ExprNode & Record<string, unknown>;

const isNode = (value: unknown): value is Node => value !== null && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string';

/** Every problem of one parsed expression (the AST of `jsonata(source).ast()`). */
export function expressionProblems(ast: jsonata.ExprNode, scope: ExpressionScope): ExpressionProblem[] {
  const problems: ExpressionProblem[] = [];
  const bound = boundVariables(ast);
  const error = (code: ExpressionProblem['code'], message: string) => problems.push({ severity: 'error', message, code });

  const checkFunction = (name: string) => {
    if (KNOWN_FUNCTIONS.has(name) || bound.has(name)) return;
    const hint = closest(name, [...KNOWN_FUNCTIONS]);
    error(
      'unknown-function',
      `unknown function $${name}${hint ? ` (did you mean $${hint}?)` : ''}; aftercall adds ${Object.keys(EXPRESSION_FUNCTIONS)
        .map((f) => `$${f}`)
        .join(', ')} to JSONata's built-ins`,
    );
  };

  // A path that starts at the context's top (not inside a filter, where names are relative).
  const checkPath = (steps: Node[]) => {
    const names = steps.map((s) => (s.type === 'name' ? String(s.value) : null));
    const top = names[0]!;
    if (!(STEP_CONTEXT_NAMES as readonly string[]).includes(top)) {
      const hint = closest(top, STEP_CONTEXT_NAMES);
      error('unknown-name', `unknown name "${top}"${hint ? ` (did you mean ${hint}?)` : ''}; expressions read ${STEP_CONTEXT_NAMES.join(', ')}`);
      return;
    }
    if (top === 'extracted' && names[1] && !scope.variables.has(names[1])) {
      problems.push({
        severity: 'warning',
        code: 'undeclared-variable',
        message: `extracted.${names[1]} is not declared under variables${scope.variables.size > 0 ? ` (declared: ${[...scope.variables].join(', ')})` : ''}`,
      });
    }
    if (top === 'steps' && names[1]) checkStepReference(names[1], names.slice(2));
  };

  const checkStepReference = (id: string, fields: Array<string | null>) => {
    const step = scope.earlier.get(id);
    if (!step) {
      if (scope.all.has(id)) error('later-step', `steps.${id} refers to a later step; a step can only read earlier steps`);
      else error('unknown-step', `steps.${id} refers to no step`);
      return;
    }
    let schema = step.output;
    let path = `steps.${id}`;
    for (const field of fields) {
      const shape = schema && objectShape(schema);
      if (!shape || field === null) return;
      if (!(field in shape)) {
        error('unknown-step-field', `${path} has no field "${field}" (${step.kind} gives ${Object.keys(shape).join(', ')})`);
        return;
      }
      schema = shape[field];
      path += `.${field}`;
    }
  };

  const visit = (node: unknown, root: boolean): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n, root);
      return;
    }
    if (!isNode(node)) return;
    switch (node.type as string) {
      case 'path': {
        const steps = (node.steps ?? []) as Node[];
        if (root && steps[0]?.type === 'name') checkPath(steps);
        steps.forEach((step, i) => {
          if (step.type !== 'name') visit(step, root && i === 0);
          relative(step);
        });
        break;
      }
      case 'name':
        if (root) checkPath([node]);
        break;
      case 'function':
      case 'partial':
        if (node.procedure?.type === 'variable') checkFunction(String(node.procedure.value));
        else visit(node.procedure, root);
        visit(node.arguments, root);
        break;
      case 'apply':
        visit(node.lhs, root);
        if (isNode(node.rhs) && node.rhs.type === 'variable') checkFunction(String(node.rhs.value));
        else visit(node.rhs, root);
        break;
      case 'bind':
        visit(node.rhs, root);
        break;
      case 'binary':
        visit(node.lhs, root);
        visit(node.rhs, root);
        break;
      case 'condition':
        visit(node.condition, root);
        visit(node.then, root);
        visit(node.else, root);
        break;
      case 'block':
        visit(node.expressions, root);
        break;
      case 'unary':
        visit(node.expression, root);
        visit(node.expressions, root);
        visit(node.lhs, root); // an object constructor's [key, value] pairs
        break;
      default:
        // Lambdas, transforms, sorts…: their names are relative to a context met at run time,
        // but a function they call must still exist.
        for (const [key, value] of Object.entries(node)) if (key !== 'type' && key !== 'value') visit(value, false);
        return;
    }
    relative(node);
  };
  // Filters, predicates and group-bys read names relative to the step they follow.
  const relative = (node: Node) => {
    visit(node.stages, false);
    visit(node.predicate, false);
    visit(node.group, false);
  };

  visit(ast, true);
  return problems;
}

/** Names an expression binds itself: `$x := …`, lambda parameters, `@$x` and `#$i` on a path. */
function boundVariables(ast: unknown): Set<string> {
  const names = new Set<string>();
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.type === 'bind' && isNode(n.lhs) && n.lhs.type === 'variable') names.add(String(n.lhs.value));
    if (n.type === 'lambda' && Array.isArray(n.arguments)) for (const a of n.arguments as Node[]) names.add(String(a.value));
    for (const key of ['focus', 'index'] as const) if (typeof n[key] === 'string') names.add(n[key]);
    for (const value of Object.values(n)) if (value !== null && typeof value === 'object') walk(value);
  };
  walk(ast);
  return names;
}

/** The fields of an object schema (through optional, nullable and defaults), else null. */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | null {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodObject) return current.shape as Record<string, z.ZodType>;
    const def = current._zod.def as { type: string; innerType?: z.ZodType };
    if (!def.innerType || !['optional', 'nullable', 'default'].includes(def.type)) return null;
    current = def.innerType;
  }
}

/** The candidate within two edits of `name` (a typo), if exactly one is closest. */
function closest(name: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}
