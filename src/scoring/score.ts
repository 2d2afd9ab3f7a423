// Lead scoring: a start value, weights on extracted variables, rules that add or set,
// clamped to a range, then a band (hot / warm / cold …). Conditions compile once at load.
import { z } from 'zod';
import { compileCondition } from '../mapping/template.js';

export const scoreSchema = z
  .strictObject({
    start: z.number().default(0).describe('The value before weights and rules.'),
    min: z.number().default(0).describe('Lowest possible score.'),
    max: z.number().default(100).describe('Highest possible score.'),
    weights: z
      .record(z.string(), z.number())
      .default({})
      .describe('Points per unit of a numeric extracted variable, or points when a boolean one is true.'),
    rules: z
      .array(
        z.union([
          z.strictObject({ when: z.string().min(1), add: z.number(), description: z.string().optional() }),
          z.strictObject({ when: z.string().min(1), set: z.number(), description: z.string().optional() }),
        ]),
      )
      .default([])
      .describe('Applied in order: `add` points, or `set` the score, when the condition holds.'),
    bands: z
      .record(z.string(), z.number())
      .default({})
      .describe('Band name → lowest score of the band, e.g. { hot: 60, warm: 30, cold: 0 }.'),
  })
  .refine((s) => s.min <= s.max, { message: 'min must not exceed max', path: ['min'] });

export type ScoreSpec = z.output<typeof scoreSchema>;

export interface ScoreResult {
  value: number;
  band: string | null;
  /** What contributed, in order. */
  fired: Array<{ source: string; add?: number; set?: number }>;
}

export interface CompiledScore {
  evaluate(context: { extracted: Record<string, unknown> } & object): Promise<ScoreResult>;
}

export function compileScore(spec: ScoreSpec): CompiledScore {
  const rules = spec.rules.map((rule, i) => ({
    rule,
    test: compileCondition(rule.when, ['score', 'rules', i, 'when']),
  }));
  // Highest threshold first, so the first band whose floor is reached wins.
  const bands = Object.entries(spec.bands).sort((a, b) => b[1] - a[1]);
  return {
    async evaluate(context) {
      let value = spec.start;
      const fired: ScoreResult['fired'] = [];
      for (const [name, weight] of Object.entries(spec.weights)) {
        const v = context.extracted[name];
        const points = typeof v === 'number' && Number.isFinite(v) ? v * weight : v === true ? weight : 0;
        if (points !== 0) {
          value += points;
          fired.push({ source: `weight ${name}`, add: round(points) });
        }
      }
      for (const { rule, test } of rules) {
        if (!(await test(context))) continue;
        if ('set' in rule) {
          value = rule.set;
          fired.push({ source: rule.when, set: rule.set });
        } else {
          value += rule.add;
          fired.push({ source: rule.when, add: rule.add });
        }
      }
      value = round(Math.min(spec.max, Math.max(spec.min, value)));
      const band = bands.find(([, floor]) => value >= floor)?.[0] ?? null;
      return { value, band, fired };
    },
  };
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}
