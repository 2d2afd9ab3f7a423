// `{{ expr }}` templates and `when` conditions, compiled once at load with JSONata.
// A string that is exactly "{{ expr }}" keeps the value's type; inside text it interpolates.
import jsonata from 'jsonata';
import { EXPRESSION_FUNCTIONS } from './expression-functions.js';
import { compileFast } from './fast-expression.js';
import { DEFER } from './jsonata-values.js';

/** Renders with a context: the value, or a promise of it when JSONata's evaluator was needed. */
export type Render = (context: object) => unknown;

export class ExpressionError extends Error {
  constructor(
    message: string,
    /** Where in the mapping's `with` tree (or `when`) the expression sits. */
    readonly path: Array<string | number>,
  ) {
    super(message);
    this.name = 'ExpressionError';
  }
}

const WHOLE = /^\s*\{\{([\s\S]*?)\}\}\s*$/;
const PART = /\{\{([\s\S]*?)\}\}/g;

/**
 * A compiled expression: answered synchronously by fast-expression.ts where it can (most mapping
 * expressions; JSONata's evaluator is the bulk of a mapping's evaluation time), else by JSONata,
 * whose answer is a promise.
 */
type Expression = (context: object) => unknown;

/** Parses with JSONata; a syntax error is an ExpressionError saying where. */
export function parseExpression(source: string, path: Array<string | number>): jsonata.Expression {
  try {
    return jsonata(source.trim());
  } catch (error) {
    const e = error as { message?: string; position?: number };
    const at = typeof e.position === 'number' ? ` at character ${e.position}` : '';
    throw new ExpressionError(`invalid expression "${source.trim()}": ${e.message ?? String(error)}${at}`, path);
  }
}

function compileExpression(source: string, path: Array<string | number>): Expression {
  const expr = parseExpression(source, path);
  for (const [name, fn] of Object.entries(EXPRESSION_FUNCTIONS)) expr.registerFunction(name, fn);
  const fast = compileFast(expr.ast(), EXPRESSION_FUNCTIONS);
  if (!fast) return (ctx) => expr.evaluate(ctx);
  return (ctx) => {
    const value = fast(ctx);
    return value === DEFER ? expr.evaluate(ctx) : value;
  };
}

/**
 * Compiles a value tree (the step's `with`) into a function that renders it: the value, or a
 * promise of it when an expression needed JSONata's evaluator.
 */
export function compileTemplate(value: unknown, path: Array<string | number> = []): Render {
  if (typeof value === 'string') return compileString(value, path);
  if (Array.isArray(value)) {
    const items = value.map((v, i) => [i, compileTemplate(v, [...path, i])] as const);
    return (ctx) => renderEntries(items, [], ctx);
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, compileTemplate(v, [...path, k])] as const);
    return (ctx) => renderEntries(entries, {}, ctx);
  }
  return () => value;
}

/** Every `{{ expression }}` of a value tree (the step's `with`), as compileTemplate reads them, with where it sits. */
export function templateExpressions(value: unknown, path: Array<string | number> = []): Array<{ source: string; path: Array<string | number> }> {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole && !whole[1]!.includes('{{')) return [{ source: whole[1]!.trim(), path }];
    return [...value.matchAll(PART)].map((m) => ({ source: m[1]!.trim(), path }));
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => templateExpressions(v, [...path, i]));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => templateExpressions(v, [...path, k]));
  return [];
}

/** Fills `out` entry by entry, in order; from the first entry that answers a promise, awaits. */
function renderEntries<K extends string | number>(entries: ReadonlyArray<readonly [K, Render]>, out: Record<K, unknown>, ctx: object): unknown {
  for (let i = 0; i < entries.length; i++) {
    const [key, render] = entries[i]!;
    const value = render(ctx);
    if (value instanceof Promise) return finishEntries(entries, out, ctx, i, value);
    out[key] = value;
  }
  return out;
}

async function finishEntries<K extends string | number>(
  entries: ReadonlyArray<readonly [K, Render]>,
  out: Record<K, unknown>,
  ctx: object,
  from: number,
  pending: Promise<unknown>,
): Promise<unknown> {
  out[entries[from]![0]] = await pending;
  for (let i = from + 1; i < entries.length; i++) out[entries[i]![0]] = await entries[i]![1](ctx);
  return out;
}

function compileString(text: string, path: Array<string | number>): Render {
  const whole = WHOLE.exec(text);
  if (whole && !whole[1]!.includes('{{')) {
    const expr = compileExpression(whole[1]!, path);
    return (ctx) => {
      const value = expr(ctx);
      return value instanceof Promise ? value.then(plain) : plain(value);
    };
  }
  if (!text.includes('{{')) return () => text;
  const parts: Array<string | Expression> = [];
  let last = 0;
  for (const m of text.matchAll(PART)) {
    parts.push(text.slice(last, m.index));
    parts.push(compileExpression(m[1]!, path));
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return (ctx) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const value = part(ctx);
      if (value instanceof Promise) return finishText(parts, ctx, i, out, value);
      out += asText(value);
    }
    return out;
  };
}

async function finishText(parts: ReadonlyArray<string | Expression>, ctx: object, from: number, start: string, pending: Promise<unknown>): Promise<string> {
  let out = start + asText(await pending);
  for (let i = from + 1; i < parts.length; i++) {
    const part = parts[i]!;
    out += typeof part === 'string' ? part : asText(await part(ctx));
  }
  return out;
}

/** A compiled `when`: true or false, or a promise of it when JSONata's evaluator was needed. */
export type Condition = (context: object) => boolean | Promise<boolean>;

/** A `when` condition: JSONata truthiness, and a missing value is false. */
export function compileCondition(source: string, path: Array<string | number>): Condition {
  compileExpression(source, path); // reports syntax errors at the user's own positions
  const expr = compileExpression(`$boolean((${source}))`, path);
  return (ctx) => {
    const value = expr(ctx);
    return value instanceof Promise ? value.then((v) => v === true) : value === true;
  };
}

function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** JSONata sequences carry extra properties and undefined means "no value": make plain JSON. */
function plain(value: unknown): unknown {
  if (value === undefined) return null;
  // A string, boolean or finite number is its own JSON; -0 and non-finite numbers are not.
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0))) return value;
  return JSON.parse(JSON.stringify(value)) as unknown;
}
