// Secrets in http.request headers: `{{ $secret('CRM_API_KEY') }}` names an environment variable
// declared in HTTP_SECRETS. The value never enters a rendered input: `$secret` renders to a
// marker that only this process can make (it carries a random nonce), the step input is stored,
// shown and hashed with the marker as `[secret CRM_API_KEY]`, and http.request swaps the value
// in as it sends. So the database, the Runs page, the API and the logs never see it, and a
// payload cannot forge a marker to have a secret sent somewhere.
import { randomBytes } from 'node:crypto';

export type Env = Record<string, string | undefined>;

const NONCE = randomBytes(12).toString('hex');
const MARKER = new RegExp(`\u27e6secret ([A-Za-z_][A-Za-z0-9_]*) ${NONCE}\u27e7`, 'g');
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The variable naming which environment variables `$secret` may read. */
export const SECRETS_VARIABLE = 'HTTP_SECRETS';

/** `$secret(name)`: the marker of the secret, resolved only when http.request sends. */
export function secretMarker(name: unknown): string {
  const text = String(name);
  if (!NAME.test(text)) throw new Error(`$secret: ${JSON.stringify(name)} is not an environment variable name`);
  return `\u27e6secret ${text} ${NONCE}\u27e7`;
}

/** The names HTTP_SECRETS declares. */
export function declaredSecrets(env: Env = process.env): string[] {
  return (env[SECRETS_VARIABLE] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `value` with every marker as `[secret NAME]`: what is stored, shown and hashed. */
export function describeSecrets<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\u27e6') ? value.replace(MARKER, '[secret $1]') : value) as T;
  if (Array.isArray(value)) return value.map(describeSecrets) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describeSecrets(v)])) as T;
  }
  return value;
}

/** `text` with every marker replaced by its secret's value; throws naming a secret that is not declared or not set. */
export function revealSecrets(text: string, env: Env = process.env): string {
  if (!text.includes('\u27e6')) return text;
  const declared = declaredSecrets(env);
  return text.replace(MARKER, (_, name: string) => {
    const value = env[name];
    if (!declared.includes(name)) throw new Error(`secret ${name} is not declared in ${SECRETS_VARIABLE}`);
    if (!value) throw new Error(`secret ${name} is declared in ${SECRETS_VARIABLE} but not set`);
    return value;
  });
}

/** `text` with the values of the declared secrets replaced by `[secret NAME]` (a vendor may echo a header back). */
export function redactSecretValues(text: string, env: Env = process.env): string {
  if (!env[SECRETS_VARIABLE]) return text;
  let out = text;
  for (const name of declaredSecrets(env)) {
    const value = env[name];
    // Very short values would match ordinary text; such a secret is no secret anyway.
    if (value && value.length >= 6) out = out.split(value).join(`[secret ${name}]`);
  }
  return out;
}

const CALL = /\$secret\s*\(/g;

/** Whether a `with` tree calls `$secret` anywhere (only such steps' inputs need describing). */
export function usesSecrets(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('$secret');
  if (Array.isArray(value)) return value.some(usesSecrets);
  if (value !== null && typeof value === 'object') return Object.values(value).some(usesSecrets);
  return false;
}
const LITERAL_CALL = /\$secret\s*\(\s*(['"])([^'"]*)\1\s*\)/g;

/**
 * Load-time problems of `$secret` in a step's `with` (paths relative to it): only in http.request
 * headers, with a literal name, declared in HTTP_SECRETS and set.
 */
export function secretProblems(kind: string, withValue: unknown, env: Env = process.env): Array<{ path: Array<string | number>; message: string }> {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  const declared = declaredSecrets(env);
  const visit = (value: unknown, path: Array<string | number>) => {
    if (typeof value === 'string') {
      const calls = [...value.matchAll(CALL)].length;
      if (calls === 0) return;
      const inHeader = kind === 'http.request' && path.length === 3 && path[0] === 'with' && path[1] === 'headers';
      if (!inHeader) {
        problems.push({ path, message: '$secret is allowed only in the headers of an http.request step' });
        return;
      }
      const literals = [...value.matchAll(LITERAL_CALL)];
      if (literals.length !== calls) problems.push({ path, message: "$secret takes the variable's name as a quoted literal, e.g. $secret('CRM_API_KEY')" });
      for (const m of literals) {
        const name = m[2]!;
        if (!declared.includes(name)) {
          problems.push({
            path,
            message: `secret ${name} is not declared in ${SECRETS_VARIABLE} (declared: ${declared.length ? declared.join(', ') : 'none'})`,
          });
        } else if (!env[name]) {
          problems.push({ path, message: `secret ${name} is declared in ${SECRETS_VARIABLE} but not set` });
        }
      }
      return;
    }
    if (Array.isArray(value)) value.forEach((v, i) => visit(v, [...path, i]));
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, [...path, k]);
  };
  visit(withValue, ['with']);
  return problems;
}
