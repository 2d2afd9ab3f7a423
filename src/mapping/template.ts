// `{{ expr }}` templates and `when` conditions, compiled once at load with JSONata.
// A string that is exactly "{{ expr }}" keeps the value's type; inside text it interpolates.
import jsonata from 'jsonata';
import { EXPRESSION_FUNCTIONS } from './expression-functions.js';

export type Render = (context: object) => Promise<unknown>;

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

/** What a compiled expression offers: JSONata's `evaluate`, sometimes answered without it. */
interface Expression {
  evaluate(context: object): unknown;
}

/**
 * `call.customer_phone`, `steps.contact.id`: a dotted path of plain names, most of what
 * mappings hold. JSONata's evaluator is generic and asynchronous; walking plain objects gives
 * the same answer for a fraction of the cost. Arrays (sequence semantics: mapping, flattening)
 * go to JSONata. Keywords are excluded: `true`, `null`, … are literals, `and`/`or`/`in` operators.
 */
const PLAIN_PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const KEYWORDS = new Set(['and', 'or', 'in', 'true', 'false', 'null', 'function']);
const NOT_PLAIN = Symbol('not a plain path value');

function plainPath(source: string): string[] | null {
  if (!PLAIN_PATH.test(source)) return null;
  const names = source.split('.');
  return names.some((n) => KEYWORDS.has(n)) ? null : names;
}

/** The value at `names`, undefined where a name is missing, NOT_PLAIN where an array is met. */
function walk(context: object, names: readonly string[]): unknown {
  let value: unknown = context;
  for (const name of names) {
    if (Array.isArray(value)) return NOT_PLAIN;
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, name)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return Array.isArray(value) ? NOT_PLAIN : value;
}

function compileExpression(source: string, path: Array<string | number>): Expression {
  try {
    const trimmed = source.trim();
    const expr = jsonata(trimmed);
    for (const [name, fn] of Object.entries(EXPRESSION_FUNCTIONS)) expr.registerFunction(name, fn);
    const names = plainPath(trimmed);
    if (!names) return expr;
    return {
      evaluate(context) {
        const value = walk(context, names);
        return value === NOT_PLAIN ? expr.evaluate(context) : value;
      },
    };
  } catch (error) {
    const e = error as { message?: string; position?: number };
    const at = typeof e.position === 'number' ? ` at character ${e.position}` : '';
    throw new ExpressionError(`invalid expression "${source.trim()}": ${e.message ?? String(error)}${at}`, path);
  }
}

/** Compiles a value tree (the step's `with`) into a function that renders it. */
export function compileTemplate(value: unknown, path: Array<string | number> = []): Render {
  if (typeof value === 'string') return compileString(value, path);
  if (Array.isArray(value)) {
    const items = value.map((v, i) => compileTemplate(v, [...path, i]));
    return async (ctx) => Promise.all(items.map((render) => render(ctx)));
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, compileTemplate(v, [...path, k])] as const);
    return async (ctx) => {
      const out: Record<string, unknown> = {};
      for (const [k, render] of entries) out[k] = await render(ctx);
      return out;
    };
  }
  return async () => value;
}

function compileString(text: string, path: Array<string | number>): Render {
  const whole = WHOLE.exec(text);
  if (whole && !whole[1]!.includes('{{')) {
    const expr = compileExpression(whole[1]!, path);
    return async (ctx) => plain(await expr.evaluate(ctx));
  }
  if (!text.includes('{{')) return async () => text;
  const parts: Array<string | Expression> = [];
  let last = 0;
  for (const m of text.matchAll(PART)) {
    parts.push(text.slice(last, m.index));
    parts.push(compileExpression(m[1]!, path));
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return async (ctx) => {
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : asText(await part.evaluate(ctx));
    return out;
  };
}

/** A `when` condition: JSONata truthiness, and a missing value is false. */
export function compileCondition(source: string, path: Array<string | number>): (context: object) => Promise<boolean> {
  compileExpression(source, path); // reports syntax errors at the user's own positions
  const expr = compileExpression(`$boolean((${source}))`, path);
  return async (ctx) => (await expr.evaluate(ctx)) === true;
}

function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** JSONata sequences carry extra properties and undefined means "no value": make plain JSON. */
function plain(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as unknown;
}
