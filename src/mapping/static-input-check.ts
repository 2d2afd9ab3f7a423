// Load-time check of a step's `with` against its step kind's zod schema, as far as it can be
// known before a call arrives: unknown keys, missing required keys, and literal values
// (those without {{ }}) of the wrong type. Templated values are checked after rendering.
import { z } from 'zod';
import { schemaProblems } from './schema-issues.js';

export interface InputProblem {
  path: Array<string | number>;
  message: string;
  /** Point at the key rather than its value (unknown keys). */
  atKey?: boolean;
}

const hasTemplate = (value: unknown): boolean => {
  if (typeof value === 'string') return value.includes('{{');
  if (Array.isArray(value)) return value.some(hasTemplate);
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasTemplate);
  return false;
};

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: z.ZodType };
    if ((def.type === 'optional' || def.type === 'nullable' || def.type === 'default') && def.innerType) current = def.innerType;
    else return current;
  }
}

export function checkStaticInput(value: unknown, schema: z.ZodType, path: Array<string | number> = []): InputProblem[] {
  if (hasTemplate(value) && !(value !== null && typeof value === 'object' && !Array.isArray(value))) return [];
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const problems: InputProblem[] = [];
    const shape = inner.shape as Record<string, z.ZodType>;
    const catchall = (inner._zod.def as { catchall?: z.ZodType }).catchall;
    const strict = catchall?._zod.def.type === 'never';
    for (const [key, child] of Object.entries(value)) {
      const field = shape[key];
      if (field) problems.push(...checkStaticInput(child, field, [...path, key]));
      else if (strict) {
        problems.push({ path: [...path, key], message: `unknown key "${key}" (known: ${Object.keys(shape).join(', ')})`, atKey: true });
      }
    }
    for (const [key, field] of Object.entries(shape)) {
      if (!(key in value) && !field.safeParse(undefined).success) problems.push({ path: [...path, key], message: `"${key}" is required` });
    }
    return problems;
  }
  if (hasTemplate(value)) return [];
  const result = schema.safeParse(value);
  if (result.success) return [];
  const valueAt = (at: Array<string | number>) => at.slice(path.length).reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), value);
  return schemaProblems(result.error.issues, valueAt, path);
}
