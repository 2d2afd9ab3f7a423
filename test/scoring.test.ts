import { describe, expect, it } from 'vitest';
import { checkVariables, normalizeDeclaration } from '../src/mapping/variables.js';
import { compileScore, scoreSchema } from '../src/scoring/score.js';

const score = (spec: unknown) => compileScore(scoreSchema.parse(spec));
const ctx = (extracted: Record<string, unknown>, call: Record<string, unknown> = {}) => ({ extracted, call });

describe('lead scoring', () => {
  const spec = {
    weights: { budget: 0.002, decision_maker: 15 },
    rules: [
      { when: 'extracted.lead_quality = "high"', add: 40 },
      { when: 'call.duration > 120', add: 10 },
      { when: 'extracted.status = false', set: 0 },
    ],
    bands: { hot: 60, warm: 30, cold: 0 },
  };

  it('adds weights and rules in order and picks the band', async () => {
    const hot = await score(spec).evaluate(ctx({ budget: 10_000, decision_maker: true, lead_quality: 'high', status: true }, { duration: 125 }));
    expect(hot).toEqual({
      value: 85,
      band: 'hot',
      fired: [
        { source: 'weight budget', add: 20 },
        { source: 'weight decision_maker', add: 15 },
        { source: 'extracted.lead_quality = "high"', add: 40 },
        { source: 'call.duration > 120', add: 10 },
      ],
    });
    const warm = await score(spec).evaluate(ctx({ budget: 5_000, decision_maker: true, status: true }, { duration: 130 }));
    expect(warm).toMatchObject({ value: 35, band: 'warm' });
  });

  it('a boolean weight counts only when true; missing and non-numeric values count nothing', async () => {
    const result = await score(spec).evaluate(ctx({ budget: 'lots', decision_maker: false, status: true }, { duration: 10 }));
    expect(result).toEqual({ value: 0, band: 'cold', fired: [] });
  });

  it('`set` overrides what came before; the range clamps', async () => {
    const zero = await score(spec).evaluate(ctx({ budget: 50_000, lead_quality: 'high', status: false }, { duration: 500 }));
    expect(zero.value).toBe(0);
    expect(zero.fired.at(-1)).toEqual({ source: 'extracted.status = false', set: 0 });
    const capped = await score(spec).evaluate(ctx({ budget: 1_000_000, status: true }));
    expect(capped).toMatchObject({ value: 100, band: 'hot' });
    const custom = await score({ start: 5, min: -10, max: 10, rules: [{ when: 'true', add: -50 }] }).evaluate(ctx({}));
    expect(custom).toEqual({ value: -10, band: null, fired: [{ source: 'true', add: -50 }] });
  });

  it('rejects min above max', () => {
    expect(scoreSchema.safeParse({ min: 10, max: 5 }).success).toBe(false);
  });
});

describe('variables declaration', () => {
  const decl = normalizeDeclaration({
    status: 'boolean',
    summary: 'string',
    lead_quality: { type: 'string', enum: ['low', 'medium', 'high'], optional: true },
    budget: { type: 'number', optional: true, default: 0 },
  });

  it('accepts fitting variables and fills declared defaults', () => {
    expect(checkVariables({ status: true, summary: 'ok', lead_quality: 'high', extra: 1 }, decl)).toEqual({
      problems: [],
      extracted: { status: true, summary: 'ok', lead_quality: 'high', extra: 1, budget: 0 },
    });
  });

  it('names every problem exactly', () => {
    expect(checkVariables({ status: 'yes', lead_quality: 'hot', budget: '5k' }, decl).problems).toEqual([
      'extracted.status: expected boolean, got "yes"',
      'extracted.summary: missing (declared string)',
      'extracted.lead_quality: "hot" is not one of "low", "medium", "high"',
      'extracted.budget: expected number, got "5k"',
    ]);
    expect(checkVariables({ status: null, summary: 'x' }, decl).problems).toEqual(['extracted.status: missing (declared boolean)']);
  });
});
