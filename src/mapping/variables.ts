// The `variables:` declaration of a mapping: which extracted variables a use case expects.
// A call whose variables break it gets a run marked `invalid-variables` with every problem.
import { z } from 'zod';
import type { Scalar } from '../payload/call.js';

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const variableSpecSchema = z.union([
  z.enum(['string', 'number', 'boolean']),
  z.strictObject({
    type: z.enum(['string', 'number', 'boolean']),
    enum: z.array(scalar).min(1).optional().describe('The only values allowed.'),
    optional: z.boolean().default(false).describe('May be missing or null.'),
    default: scalar.optional().describe('Used when the variable is missing or null.'),
    description: z.string().optional(),
  }),
]);

/** Names as the platform enforces them: 3–16 characters, lowercase letters, digits, underscore. */
export const VARIABLE_NAME = /^[a-z0-9_]{3,16}$/;

export const variablesSchema = z
  .record(
    z.string().regex(VARIABLE_NAME, 'variable names are 3–16 characters: lowercase letters, digits, underscore'),
    variableSpecSchema,
  )
  .describe('The extracted variables this use case expects.');

export interface VariableSpec {
  type: 'string' | 'number' | 'boolean';
  enum?: Array<string | number | boolean>;
  optional: boolean;
  default?: string | number | boolean;
}

export type VariableDeclaration = Record<string, VariableSpec>;

export function normalizeDeclaration(raw: z.output<typeof variablesSchema> | undefined): VariableDeclaration {
  const out: VariableDeclaration = {};
  for (const [name, spec] of Object.entries(raw ?? {})) {
    out[name] = typeof spec === 'string' ? { type: spec, optional: false } : { ...spec };
  }
  return out;
}

/** Problems of a declaration itself (a default or enum value of the wrong type). */
export function declarationProblems(decl: VariableDeclaration): Array<{ name: string; key: string; message: string }> {
  const problems: Array<{ name: string; key: string; message: string }> = [];
  for (const [name, spec] of Object.entries(decl)) {
    if (spec.default !== undefined && typeof spec.default !== spec.type) {
      problems.push({ name, key: 'default', message: `default must be a ${spec.type}` });
    }
    if (spec.enum?.some((v) => typeof v !== spec.type)) {
      problems.push({ name, key: 'enum', message: `enum values must be of type ${spec.type}` });
    }
  }
  return problems;
}

export interface VariableCheck {
  problems: string[];
  /** The extracted variables with declared defaults filled in. */
  extracted: Record<string, Scalar>;
}

export function checkVariables(extracted: Record<string, Scalar>, decl: VariableDeclaration): VariableCheck {
  const out: Record<string, Scalar> = { ...extracted };
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(decl)) {
    const value = extracted[name];
    if (value === undefined || value === null) {
      if (spec.default !== undefined) out[name] = spec.default;
      else if (!spec.optional) problems.push(`extracted.${name}: missing (declared ${spec.type})`);
      continue;
    }
    if (typeof value !== spec.type || (spec.type === 'number' && !Number.isFinite(value))) {
      problems.push(`extracted.${name}: expected ${spec.type}, got ${JSON.stringify(value)}`);
      continue;
    }
    if (spec.enum && !spec.enum.includes(value)) {
      problems.push(`extracted.${name}: ${JSON.stringify(value)} is not one of ${spec.enum.map((v) => JSON.stringify(v)).join(', ')}`);
    }
  }
  return { problems, extracted: out };
}
