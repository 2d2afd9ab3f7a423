// The `<connector>.<record>.find_by_phone` lookups (inbound-call variables, also usable as steps)
// keep one contract: read only, so run for every revision; output `found` and the record's
// fields, each null when the record lacks it, and all of them when no record has the number.
import { z } from 'zod';
import type { StepContext, StepDefinition } from './connector.js';

interface PhoneLookup<Schema extends z.ZodType, C, F extends z.ZodRawShape> {
  /** `hubspot.contact.find_by_phone`: its middle part names the record in `found`'s description. */
  kind: string;
  description: string;
  input: Schema;
  preload(): Promise<unknown>;
  /** The output after `found`, in order. */
  fields: F;
  /** The record with the number, by the names of `fields`; undefined when none has it. */
  find(req: z.output<Schema>, ctx: StepContext, connector: C): Promise<Record<string, unknown> | undefined>;
  /** The fields that are not null when no record has the number. */
  none?(): Record<string, unknown>;
}

/** Fields that are a string or null, with no description of their own. */
export function nullableStrings<K extends string>(...names: K[]): Record<K, z.ZodNullable<z.ZodString>> {
  return Object.fromEntries(names.map((name) => [name, z.string().nullable()])) as Record<K, z.ZodNullable<z.ZodString>>;
}

/** The step kind of a lookup: what `find` gives, projected on `fields`. */
export function phoneLookup<Schema extends z.ZodType, C, F extends z.ZodRawShape>(spec: PhoneLookup<Schema, C, F>): StepDefinition<Schema, C> {
  const { kind, description, input, preload, fields, find, none } = spec;
  const names = Object.keys(fields);
  return {
    kind,
    description,
    input,
    defaultRepeat: 'always',
    preload,
    output: z.object({ found: z.boolean().describe(`Whether a ${kind.split('.')[1]} has that number.`), ...fields }),
    async execute(req, ctx, connector) {
      const match = await find(req, ctx, connector);
      const values = match ?? none?.() ?? {};
      return { found: match !== undefined, ...Object.fromEntries(names.map((name) => [name, values[name] ?? null])) };
    },
  };
}
