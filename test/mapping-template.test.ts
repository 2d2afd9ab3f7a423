// Templates answer plain dotted paths (`call.customer_phone`) without JSONata's evaluator; these
// tests hold that shortcut to JSONata's own answers on generated contexts, arrays and missing
// values included, in both a whole-value template and text interpolation.
import fc from 'fast-check';
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { compileCondition, compileTemplate } from '../src/mapping/template.js';

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
  });

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
