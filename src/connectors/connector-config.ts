// A connector's configuration: the environment variables it reads, as a zod object whose
// fields are `.describe()`d (docs/connectors.md is generated from it), and what is missing.
import { z } from 'zod';
import { PermanentError } from './connector.js';

export type Env = Record<string, string | undefined>;

export interface EnvConfig<S extends z.ZodObject> {
  schema: S;
  /** The variables to set (or fix), e.g. "HUBSPOT_ACCESS_TOKEN", or null when ready. */
  missing(env?: Env): string | null;
  /** The validated configuration; a PermanentError naming the variables when it is incomplete. */
  read(env?: Env): z.output<S>;
}

/**
 * A connector's variables as a zod object (every field `.describe()`d: docs/connectors.md is
 * generated from it). Blank values count as unset. `check` adds rules across variables
 * (e.g. "a token, or a client id and secret") and returns what is missing.
 */
export function envConfig<S extends z.ZodObject>(
  vendor: string,
  schema: S,
  check?: (values: z.output<S>) => string | null,
): EnvConfig<S> {
  const names = Object.keys(schema.shape);
  // Read at every step (a changed variable counts from the next step), validated only when a
  // value changed: parsing on every step is measurable CPU for nothing.
  let last: { env: Env; raw: Array<string | undefined>; result: ReturnType<typeof validate> } | null = null;
  const parse = (env: Env) => {
    const raw = names.map((name) => env[name]);
    if (last?.env === env && raw.every((value, i) => value === last!.raw[i])) return last.result;
    const result = validate(raw);
    last = { env, raw, result };
    return result;
  };
  const validate = (raw: Array<string | undefined>) => {
    const values = Object.fromEntries(names.map((name, i) => [name, raw[i]?.trim() ? raw[i]!.trim() : undefined]));
    const parsed = schema.safeParse(values);
    if (!parsed.success) {
      const problems = new Map<string, string>(); // the first problem of each variable
      for (const issue of parsed.error.issues) {
        const name = String(issue.path[0]);
        if (!problems.has(name)) problems.set(name, values[name] === undefined ? name : `${name} (${issue.message})`);
      }
      return { ok: false as const, missing: joinNames([...problems.values()]) };
    }
    const missing = check?.(parsed.data) ?? null;
    return missing ? { ok: false as const, missing } : { ok: true as const, data: parsed.data };
  };
  return {
    schema,
    missing: (env = process.env) => {
      const result = parse(env);
      return result.ok ? null : result.missing;
    },
    read: (env = process.env) => {
      const result = parse(env);
      if (!result.ok) throw new PermanentError(`${vendor} is not configured: set ${result.missing}`);
      return result.data;
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
