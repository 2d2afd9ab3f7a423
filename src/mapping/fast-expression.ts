// A synchronous evaluator for the part of JSONata most mapping expressions are written in:
// paths of plain names, literals, comparisons, arithmetic, `&`, `and`/`or`, `in`, `? :`, and calls
// of aftercall's own functions and a few string/number built-ins. JSONata's evaluator is generic
// and asynchronous (a promise per node); this walks the same syntax tree (JSONata's own parse) as
// plain function calls. It answers only where its answer is JSONata's: anything it is not sure of
// — an array met on a path (sequence semantics), an operand of a type JSONata would reject or
// coerce, a non-finite number, a function that throws — gives DEFER, and the caller asks JSONata,
// which gives the answer (or the error) it always did. test/mapping-template.test.ts holds this to
// JSONata's answers on generated expressions and contexts.
import { asString, BUILT_INS, DEFER, effectiveBoolean, isObject, type Fn } from './jsonata-values.js';

export type FastExpression = (context: object) => unknown;

/** The fields of JSONata's syntax tree (`jsonata(source).ast()`) read here. */
interface Node {
  type: string;
  value?: unknown;
  position?: number;
  steps?: Node[];
  lhs?: Node;
  rhs?: Node;
  expression?: Node;
  expressions?: Node[];
  condition?: Node;
  then?: Node;
  else?: Node;
  arguments?: Node[];
  procedure?: Node;
}

/**
 * The node's keys, besides type, value and position. A key not listed (predicate, stages, group,
 * focus, keepArray, …) means a construct this evaluator does not know: the expression is left to
 * JSONata entirely.
 */
const KEYS: Record<string, readonly string[]> = {
  string: [],
  number: [],
  value: [],
  name: [],
  path: ['steps'],
  binary: ['lhs', 'rhs'],
  unary: ['expression', 'expressions'],
  condition: ['condition', 'then', 'else'],
  block: ['expressions'],
  function: ['arguments', 'procedure', 'name'],
  variable: [],
};

function known(node: Node): boolean {
  const extra = KEYS[node.type];
  return extra !== undefined && Object.keys(node).every((key) => key === 'type' || key === 'value' || key === 'position' || extra.includes(key));
}

/** Compiles `source`'s syntax tree, or null when it uses anything not answered here. */
export function compileFast(ast: unknown, functions: Readonly<Record<string, Fn>>): FastExpression | null {
  return compile(ast as Node, functions);
}

function compile(node: Node, functions: Readonly<Record<string, Fn>>): FastExpression | null {
  if (!known(node)) return null;
  const sub = (child: Node | undefined) => (child ? compile(child, functions) : null);
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value': {
      const value = node.value;
      return () => value;
    }
    case 'path': {
      const names = node.steps?.map((step) => (step.type === 'name' && known(step) && typeof step.value === 'string' ? step.value : null));
      if (!names?.length || names.some((n) => n === null)) return null;
      return (ctx) => walk(ctx, names as string[]);
    }
    case 'block': {
      if (node.expressions?.length !== 1) return null;
      return sub(node.expressions[0]);
    }
    case 'condition': {
      const test = sub(node.condition);
      const then = sub(node.then);
      const otherwise = node.else ? sub(node.else) : () => undefined;
      if (!test || !then || !otherwise) return null;
      return (ctx) => {
        const c = test(ctx);
        if (c === DEFER || Array.isArray(c)) return DEFER;
        return effectiveBoolean(c) ? then(ctx) : otherwise(ctx);
      };
    }
    case 'unary':
      return node.value === '-' ? negate(sub(node.expression)) : null;
    case 'binary':
      return binary(node, functions);
    case 'function':
      return call(node, functions);
    default:
      return null;
  }
}

/** The value at `names`; undefined where a name is missing; DEFER where an array is met. */
function walk(context: object, names: readonly string[]): unknown {
  let value: unknown = context;
  for (const name of names) {
    if (Array.isArray(value)) return DEFER;
    if (!isObject(value) || !Object.hasOwn(value, name)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return Array.isArray(value) ? DEFER : value;
}

function negate(operand: FastExpression | null): FastExpression | null {
  if (!operand) return null;
  return (ctx) => {
    const v = operand(ctx);
    if (v === undefined) return undefined;
    return typeof v === 'number' && Number.isFinite(v) ? -v : DEFER;
  };
}

const ARITHMETIC: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
};

const COMPARE: Record<string, (a: string | number, b: string | number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function binary(node: Node, functions: Readonly<Record<string, Fn>>): FastExpression | null {
  const op = node.value as string;
  const left = compile(node.lhs!, functions);
  // `x in [a, b]`: the list constructor is answered here only in this place.
  const right = op === 'in' && node.rhs?.type === 'unary' && node.rhs.value === '[' ? list(node.rhs, functions) : compile(node.rhs!, functions);
  if (!left || !right) return null;

  if (op === 'and' || op === 'or') {
    return (ctx) => {
      const l = left(ctx);
      if (l === DEFER || Array.isArray(l)) return DEFER;
      const lb = effectiveBoolean(l) ?? false;
      if (op === 'and' ? !lb : lb) return lb;
      const r = right(ctx);
      if (r === DEFER || Array.isArray(r)) return DEFER;
      return effectiveBoolean(r) ?? false;
    };
  }
  // Both sides evaluated (as JSONata does for these operators), then `apply`.
  const onBoth = (apply: (l: unknown, r: unknown) => unknown): FastExpression => (ctx) => {
    const l = left(ctx);
    if (l === DEFER) return DEFER;
    const r = right(ctx);
    return r === DEFER ? DEFER : apply(l, r);
  };
  const arithmetic = ARITHMETIC[op];
  if (arithmetic) {
    const number = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
    return onBoth((l, r) => {
      if ((l !== undefined && !number(l)) || (r !== undefined && !number(r))) return DEFER;
      if (l === undefined || r === undefined) return undefined;
      const result = arithmetic(l as number, r as number);
      return Number.isFinite(result) ? result : DEFER;
    });
  }
  const compare = COMPARE[op];
  if (compare) {
    const comparable = (v: unknown) => v === undefined || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
    return onBoth((l, r) => {
      if (!comparable(l) || !comparable(r)) return DEFER;
      if (l === undefined || r === undefined) return undefined;
      if (typeof l !== typeof r) return DEFER;
      return compare(l as string | number, r as string | number);
    });
  }
  switch (op) {
    case '=':
    case '!=':
      return onBoth((l, r) => {
        if (l === undefined || r === undefined) return false;
        if (isObject(l) || isObject(r)) return DEFER; // deep equality: JSONata's
        return op === '=' ? l === r : l !== r;
      });
    case '&':
      return onBoth((l, r) => {
        const ls = l === undefined ? '' : asString(l);
        const rs = r === undefined ? '' : asString(r);
        return ls === DEFER || rs === DEFER ? DEFER : ls + rs;
      });
    case 'in':
      return onBoth((l, r) => {
        if (l === undefined || r === undefined) return false;
        return (Array.isArray(r) ? r : [r]).includes(l);
      });
    default:
      return null;
  }
}

/** `[a, "b", 3]` as the right side of `in`: the items that have a value; nested lists deferred. */
function list(node: Node, functions: Readonly<Record<string, Fn>>): FastExpression | null {
  if (!known(node) || node.expression) return null;
  const items = (node.expressions ?? []).map((item) => (item.type === 'unary' && item.value === '[' ? null : compile(item, functions)));
  if (items.some((item) => item === null)) return null;
  return (ctx) => {
    const out: unknown[] = [];
    for (const item of items as FastExpression[]) {
      const v = item(ctx);
      if (v === DEFER || Array.isArray(v)) return DEFER;
      if (v !== undefined) out.push(v);
    }
    return out;
  };
}

function call(node: Node, functions: Readonly<Record<string, Fn>>): FastExpression | null {
  const procedure = node.procedure;
  if ((node as { name?: unknown }).name !== undefined) return null;
  if (!procedure || procedure.type !== 'variable' || !known(procedure) || typeof procedure.value !== 'string') return null;
  const args = (node.arguments ?? []).map((arg) => compile(arg, functions));
  if (args.some((arg) => arg === null)) return null;
  const compiled = args as FastExpression[];
  const evaluateArgs = (ctx: object): unknown[] | null => {
    const values: unknown[] = [];
    for (const arg of compiled) {
      const v = arg(ctx);
      if (v === DEFER || Array.isArray(v)) return null;
      values.push(v);
    }
    return values;
  };
  const own = Object.hasOwn(functions, procedure.value) ? functions[procedure.value]! : undefined;
  if (own) {
    // aftercall's functions (expression-functions.ts) are pure: one that throws is asked again
    // through JSONata, which reports the error as it always did.
    return (ctx) => {
      const values = evaluateArgs(ctx);
      if (!values) return DEFER;
      try {
        return settled(own(...values));
      } catch {
        return DEFER;
      }
    };
  }
  const builtIn = Object.hasOwn(BUILT_INS, procedure.value) ? BUILT_INS[procedure.value]! : undefined;
  if (!builtIn) return null;
  const required = builtIn.args.length - (builtIn.optional ?? 0);
  if (compiled.length < required || compiled.length > builtIn.args.length) return null;
  return (ctx) => {
    const values = evaluateArgs(ctx);
    if (!values) return DEFER;
    for (let i = 0; i < values.length; i++) {
      if (values[i] === undefined && i === 0) continue;
      if (!builtIn.args[i]!(values[i])) return DEFER;
    }
    if (values[0] === undefined) return undefined;
    return settled(builtIn.run(...values));
  };
}

/** A function's answer, or DEFER for what JSONata treats in ways of its own: lists, NaN, ±Infinity. */
function settled(result: unknown): unknown {
  if (Array.isArray(result) || result instanceof Promise) return DEFER;
  return typeof result === 'number' && !Number.isFinite(result) ? DEFER : result;
}
