// Field types the step kinds' `with` schemas share.
import { z } from 'zod';

/**
 * An optional `with` field. A template whose value is missing renders as null, so every
 * optional field takes null as "not given".
 */
export const optional = <T extends z.ZodType>(schema: T) => schema.nullish();

/** A record id as vendors return it (HubSpot and Salesforce ids are strings, Pipedrive's numbers). */
export const recordId = z.union([z.string().min(1), z.number().int().positive()]).transform(String);
export const numericId = z.coerce.number().int().positive();

/** Property values a CRM field takes; null leaves the field alone. */
export const fieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const fieldValues = z.record(z.string(), fieldValue);

/** Drops null/undefined values. */
export function present<T extends Record<string, unknown>>(values: T): { [K in keyof T]: Exclude<T[K], null | undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null && v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], null | undefined>;
  };
}
