// JSONata's rules for values, as fast-expression.ts needs them: truthiness, string conversion,
// and the built-in functions it answers itself, each giving JSONata's answer; where one could
// not, the answer is DEFER.

/** "Ask JSONata": this expression, on this context, is not answered here. */
export const DEFER: unique symbol = Symbol('evaluate with JSONata');

export type Fn = (...args: unknown[]) => unknown;

export const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null;

/** JSONata's $boolean of a value that is not an array (arrays are deferred before this). */
export function effectiveBoolean(value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value.length > 0;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'boolean') return value;
  if (isObject(value)) return Object.keys(value).length > 0;
  return false; // null
}

/** JSONata's $string of a scalar; DEFER for objects (its JSON form has rules of its own). */
export function asString(value: unknown): string | typeof DEFER {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(15)));
  if (typeof value === 'boolean' || value === null) return String(value);
  return DEFER;
}

/** JSONata's $round: half to even, `precision` decimal places (negative: tens, hundreds…). */
function round(arg: number, precision: number | undefined): number {
  let value = arg;
  if (precision) {
    const [mantissa, exponent] = value.toString().split('e');
    value = Number(`${mantissa}e${exponent ? Number(exponent) + precision : precision}`);
  }
  let result = Math.round(value);
  if (Math.abs(result - value) === 0.5 && Math.abs(result % 2) === 1) result -= 1;
  if (precision) {
    const [mantissa, exponent] = result.toString().split('e');
    result = Number(`${mantissa}e${exponent ? Number(exponent) - precision : -precision}`);
  }
  return Object.is(result, -0) ? 0 : result;
}

/** JSONata's $trim: runs of space, tab, CR and LF become one space, none at either end. */
function trim(text: string): string {
  let out = text.replace(/[ \t\n\r]+/gm, ' ');
  if (out.startsWith(' ')) out = out.slice(1);
  if (out.endsWith(' ')) out = out.slice(0, -1);
  return out;
}

const isString = (v: unknown) => typeof v === 'string';
const isNumber = (v: unknown) => typeof v === 'number';

/**
 * Built-ins answered here, by the types JSONata's signatures accept: the first argument may be
 * missing (the answer is then nothing, as in JSONata), every other one must be present and of
 * its type; anything else is deferred, and JSONata raises its signature error.
 */
export const BUILT_INS: Record<string, { args: Array<(v: unknown) => boolean>; optional?: number; run: Fn }> = {
  substringBefore: {
    args: [isString, isString],
    run: (text, chars) => {
      const at = (text as string).indexOf(chars as string);
      return at > -1 ? (text as string).slice(0, at) : text;
    },
  },
  substringAfter: {
    args: [isString, isString],
    run: (text, chars) => {
      const at = (text as string).indexOf(chars as string);
      return at > -1 ? (text as string).slice(at + (chars as string).length) : text;
    },
  },
  lowercase: { args: [isString], run: (text) => (text as string).toLowerCase() },
  uppercase: { args: [isString], run: (text) => (text as string).toUpperCase() },
  trim: { args: [isString], run: (text) => trim(text as string) },
  round: { args: [isNumber, isNumber], optional: 1, run: (n, precision) => round(n as number, precision as number | undefined) },
  boolean: { args: [(v) => !Array.isArray(v)], run: (v) => effectiveBoolean(v) },
};
