// Templates answer plain dotted paths (`call.customer_phone`) without JSONata's evaluator; these
// tests hold that shortcut to JSONata's own answers on generated contexts, arrays and missing
// values included, in both a whole-value template and text interpolation.
import fc from 'fast-check';
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { EXPRESSION_FUNCTIONS } from '../src/mapping/expression-functions.js';
import { compileCondition, compileTemplate } from '../src/mapping/template.js';

// The property tests are bounded by their number of runs; the timeout only catches a hang. A few
// seconds on an idle machine, it took over 50 s on two busy cores (load average 8–11).
const PROPERTY_TIMEOUT_MS = 300_000;
const NAMES = ['a', 'b', 'id', 'x_1'] as const;
const name = fc.constantFrom(...NAMES);

// JSON values nested a few levels: objects keyed by NAMES, arrays of them, scalars, null.
const { value: jsonValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)),
    fc.dictionary(name, tie('value'), { maxKeys: 4 }),
    fc.array(tie('value'), { maxLength: 3 }),
  ),
}));
const context = fc.dictionary(name, jsonValue, { maxKeys: 4 });
const path = fc.array(name, { minLength: 2, maxLength: 4 }).map((names) => names.join('.'));

/** What a template gives for JSONata's answer: plain JSON, null for "no value". */
async function viaJsonata(source: string, ctx: object): Promise<unknown> {
  const value: unknown = await jsonata(source).evaluate(ctx);
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}

async function textViaJsonata(source: string, ctx: object): Promise<string> {
  const value: unknown = await jsonata(source).evaluate(ctx);
  if (value === undefined || value === null) return '<>';
  return `<${typeof value === 'object' ? JSON.stringify(value) : String(value)}>`;
}

describe('plain dotted paths', () => {
  it('give what JSONata gives, as a whole value and inside text', async () => {
    await fc.assert(
      fc.asyncProperty(context, path, async (ctx, source) => {
        expect(await compileTemplate(`{{ ${source} }}`)(ctx)).toEqual(await viaJsonata(source, ctx));
        expect(await compileTemplate(`<{{${source}}}>`)(ctx)).toBe(await textViaJsonata(source, ctx));
      }),
      { numRuns: 2_000 },
    );
  }, PROPERTY_TIMEOUT_MS);

  it('map over arrays as JSONata does', async () => {
    const ctx = { transfers: [{ to: '+1' }, { to: '+2' }], steps: { list: { ids: [1, 2] } } };
    expect(await compileTemplate('{{ transfers.to }}')(ctx)).toEqual(['+1', '+2']);
    expect(await compileTemplate('{{ steps.list.ids }}')(ctx)).toEqual([1, 2]);
  });

  it('read only own properties, never the prototype chain', async () => {
    expect(await compileTemplate('{{ call.constructor }}')({ call: {} })).toBeNull();
    expect(await compileTemplate('{{ call.toString }}')({ call: { id: 1 } })).toBeNull();
  });

  it('leave keywords to JSONata', async () => {
    expect(await compileTemplate('{{ call.id and true }}')({ call: { id: 1 } })).toBe(true);
    expect(await compileCondition('extracted.status', [])({ extracted: { status: true } })).toBe(true);
    expect(await compileCondition('extracted.status', [])({ extracted: { status: 'no' } })).toBe(true);
    expect(await compileCondition('extracted.missing', [])({ extracted: {} })).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Expressions beyond plain paths (fast-expression.ts): generated from the operators, literals and
// functions it answers, plus some it leaves to JSONata, on contexts with missing values, nulls,
// arrays, objects and awkward numbers. Whatever it answers must be JSONata's answer, and where
// JSONata raises an error, so must the template.

const textValue = fc.oneof(fc.string({ maxLength: 5 }), fc.constantFrom('', ' ', 'Dana Whitfield', 'hot', 'a  b\t', 'ß'));
const numberValue = fc.oneof(
  fc.integer({ min: -5, max: 200 }),
  fc.constantFrom(0, -0, 0.5, 1.5, 2.5, -2.5, 0.1, 1e21, 1.7e308, 5e-324),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const { value: richValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(textValue, numberValue, fc.boolean(), fc.constant(null)),
    fc.dictionary(name, tie('value'), { maxKeys: 3 }),
    fc.array(tie('value'), { maxLength: 3 }),
  ),
}));
const richContext = fc.dictionary(name, richValue, { maxKeys: 4 });

const literal = fc.oneof(
  // Braces would end the template's {{ }} (its own syntax, not the expression's).
  textValue.filter((t) => !/[{}]/.test(t)).map((t) => JSON.stringify(t)),
  numberValue.filter((n) => n >= 0 && !Object.is(n, -0)).map((n) => String(n)),
  fc.constantFrom('true', 'false', 'null'),
);
const namePath = fc.array(name, { minLength: 1, maxLength: 3 }).map((names) => names.join('.'));
const OPERATORS = ['+', '-', '*', '/', '%', '=', '!=', '<', '<=', '>', '>=', '&', 'and', 'or', 'in'] as const;
const ONE_ARG = ['$lowercase', '$uppercase', '$trim', '$round', '$boolean', '$exists', '$string', '$not'] as const;
const TWO_ARGS = ['$substringBefore', '$substringAfter', '$round', '$default', '$formatPhone'] as const;

const { expr: expression } = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(namePath, literal),
    fc.tuple(tie('expr'), fc.constantFrom(...OPERATORS), tie('expr')).map(([l, op, r]) => `(${l} ${op} ${r})`),
    fc.tuple(tie('expr'), fc.array(tie('expr'), { maxLength: 3 })).map(([l, items]) => `(${l} in [${items.join(', ')}])`),
    fc.tuple(tie('expr'), tie('expr'), fc.option(tie('expr'))).map(([c, t, e]) => (e === null ? `(${c} ? ${t})` : `(${c} ? ${t} : ${e})`)),
    tie('expr').map((e) => `-(${e})`),
    fc.tuple(fc.constantFrom(...ONE_ARG), tie('expr')).map(([f, a]) => `${f}(${a})`),
    fc.tuple(fc.constantFrom(...TWO_ARGS), tie('expr'), tie('expr')).map(([f, a, b]) => `${f}(${a}, ${b})`),
  ),
}));

/** JSONata with aftercall's functions registered, as the template compiles it. */
function reference(source: string) {
  const expr = jsonata(source);
  for (const [fnName, fn] of Object.entries(EXPRESSION_FUNCTIONS)) expr.registerFunction(fnName, fn);
  return expr;
}

/** A value as a template keeps it, or the error's JSONata code. */
async function outcome(run: () => unknown): Promise<{ value: unknown } | { error: unknown }> {
  try {
    const value = await run();
    return { value: value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown) };
  } catch (error) {
    return { error: (error as { code?: unknown }).code ?? String(error) };
  }
}

describe('expressions', () => {
  it('give what JSONata gives (or raise its error), as a whole value, inside text and as a condition', async () => {
    await fc.assert(
      fc.asyncProperty(richContext, expression, async (ctx, source) => {
        const expected = reference(source);
        expect(await outcome(() => compileTemplate(`{{ ${source} }}`)(ctx))).toEqual(await outcome(() => expected.evaluate(ctx)));
        expect(await outcome(() => compileTemplate(`<{{${source}}}>`)(ctx))).toEqual(
          await outcome(async () => {
            const value: unknown = await expected.evaluate(ctx);
            return value === undefined || value === null ? '<>' : `<${typeof value === 'object' ? JSON.stringify(value) : String(value)}>`;
          }),
        );
        expect(await outcome(() => compileCondition(source, [])(ctx))).toEqual(
          await outcome(async () => (await reference(`$boolean((${source}))`).evaluate(ctx)) === true),
        );
      }),
      { numRuns: 3_000 },
    );
  }, PROPERTY_TIMEOUT_MS);

  it('are answered without JSONata\'s evaluator where they can be: a mapping renders synchronously', () => {
    const ctx = { call: { duration: 185, customer_phone: '+14155550142' }, input: { customer_name: 'Dana Whitfield' }, score: { band: 'hot', value: 72 } };
    const render = compileTemplate({
      first: "{{ $substringBefore(input.customer_name, ' ') }}",
      status: "{{ score.band = 'cold' ? 'UNQUALIFIED' : 'IN_PROGRESS' }}",
      minutes: 'AI call ({{ $round(call.duration / 60) }} min), {{ $default(input.company, input.customer_name) }}',
    });
    expect(render(ctx)).toEqual({ first: 'Dana', status: 'IN_PROGRESS', minutes: 'AI call (3 min), Dana Whitfield' });
    expect(compileCondition('score.band in ["hot", "warm"] and call.customer_phone != null', [])(ctx)).toBe(true);
    // An array on the path: JSONata's sequence semantics, so JSONata answers (a promise).
    expect(compileTemplate('{{ $substringBefore(input.customer_name, " ") }}')({ input: [{ customer_name: 'A B' }] })).toBeInstanceOf(Promise);
  });

  it('keep order and values when JSONata answers a part in the middle of an object, a list or a text', async () => {
    const ctx = { call: { id: 'c1', transfers: [{ to: '+1' }, { to: '+2' }] }, score: { value: 7 } };
    const render = compileTemplate({
      first: '{{ call.id }}',
      list: ['{{ score.value + 1 }}', '{{ call.transfers.to }}', '{{ score.value }}'],
      text: 'id {{ call.id }}, to {{ call.transfers.to }}, score {{ score.value * 2 }}',
      last: "{{ call.id & '!' }}",
    });
    const rendered = render(ctx);
    expect(rendered).toBeInstanceOf(Promise);
    expect(await rendered).toEqual({ first: 'c1', list: [8, ['+1', '+2'], 7], text: 'id c1, to ["+1","+2"], score 14', last: 'c1!' });
    expect(Object.keys((await rendered) as object)).toEqual(['first', 'list', 'text', 'last']);
  });
});
