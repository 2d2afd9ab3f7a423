// A connector's configuration: the environment variables it reads, as a zod object whose
// fields are `.describe()`d (docs/connectors.md is generated from it), and what is missing.
import { z } from 'zod';

export type Env = Record<string, string | undefined>;

export type Parsed<T> = { ok: true; config: Readonly<T> } | { ok: false; missing: string };

export interface EnvConfig<S extends z.ZodObject = z.ZodObject> {
  schema: S;
  /** The validated values, frozen, or the variables to set (or fix), e.g. "HUBSPOT_ACCESS_TOKEN". */
  parse(env: Env): Parsed<z.output<S>>;
}

/** The configuration of a connector: its values, frozen, or what is missing. */
export type ConnectorConfigOf<S extends z.ZodObject> = Readonly<z.output<S>>;

/**
 * A connector's variables as a zod object (every field `.describe()`d: docs/connectors.md is
 * generated from it). Blank values count as unset. `check` adds rules across variables
 * (e.g. "a token, or a client id and secret") and returns what is missing. Parsed once, when
 * the connectors are built (connector-registry.ts), not per step.
 */
export function envConfig<S extends z.ZodObject>(schema: S, check?: (values: z.output<S>) => string | null): EnvConfig<S> {
  const names = Object.keys(schema.shape);
  return {
    schema,
    parse(env) {
      const values = Object.fromEntries(names.map((name) => [name, env[name]?.trim() ? env[name].trim() : undefined]));
      const parsed = schema.safeParse(values);
      if (!parsed.success) {
        const problems = new Map<string, string>(); // the first problem of each variable
        for (const issue of parsed.error.issues) {
          const name = String(issue.path[0]);
          if (!problems.has(name)) problems.set(name, values[name] === undefined ? name : `${name} (${issue.message})`);
        }
        return { ok: false, missing: joinNames([...problems.values()]) };
      }
      const missing = check?.(parsed.data) ?? null;
      return missing ? { ok: false, missing } : { ok: true, config: Object.freeze(parsed.data) };
    },
  };
}

/** "A", "A and B", "A, B and C". */
export function joinNames(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** An http(s) URL without a trailing slash (the SDKs append paths to it). */
export const baseUrl = z
  .string()
  .url('must be a URL like https://sandbox.example.com')
  .refine((v) => /^https?:\/\//i.test(v), 'must start with http:// or https://')
  .transform((v) => v.replace(/\/+$/, ''));

/**
 * A variable that replaces a vendor's URL, for a local stub (or `use`): `what` it is and the URL
 * used while it is unset, said the same way for every such variable.
 */
export function stubUrl(what: string, unset: string, use = 'a local stub') {
  return baseUrl.optional().describe(`${what}; unset: ${unset}. For ${use}.`);
}
