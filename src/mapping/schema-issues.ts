// zod's issues as a mapping author reads them: the value given and the values allowed
// ("complete" is not one of …), the branch of a union that was meant rather than "Invalid
// input", each at the path of the key it is about.
import type { z } from 'zod';

export interface SchemaProblem {
  path: Array<string | number>;
  message: string;
  /** Point at the key rather than its value (unknown keys, bad record keys). */
  atKey?: boolean;
}

type Issue = z.core.$ZodIssue;

/** `valueAt(path)` reads the value the author wrote there (for the message). */
export function schemaProblems(issues: readonly Issue[], valueAt: (path: Array<string | number>) => unknown, base: Array<string | number> = []): SchemaProblem[] {
  return issues.flatMap((issue) => describe(issue, valueAt, [...base, ...issue.path.map((k) => (typeof k === 'number' ? k : String(k)))]));
}

function describe(issue: Issue, valueAt: (path: Array<string | number>) => unknown, path: Array<string | number>): SchemaProblem[] {
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({ path: [...path, k], message: `unknown key "${k}"`, atKey: true }));
    case 'invalid_key':
      return [{ path, message: issue.issues[0]?.message ?? issue.message, atKey: true }];
    case 'invalid_value': {
      const given = valueAt(path);
      const allowed = issue.values.map((v) => String(v));
      const hint = typeof given === 'string' ? allowed.find((v) => v.startsWith(given) || given.startsWith(v)) : undefined;
      const what = given === undefined ? 'must be' : `${JSON.stringify(given)} is not`;
      return [{ path, message: `${what} one of ${allowed.join(', ')}${hint ? ` (did you mean ${hint}?)` : ''}` }];
    }
    case 'invalid_union': {
      // The branch that got furthest: not one that failed on the value's type at its root.
      const branches = issue.errors.filter((b) => !b.every((i) => i.code === 'invalid_type' && i.path.length === 0));
      if (branches.length === 0) {
        const expected = [...new Set(issue.errors.flat().map((i) => (i.code === 'invalid_type' ? i.expected : null)).filter(Boolean))];
        return [{ path, message: expected.length > 0 ? `expected ${expected.join(' or ')}` : issue.message }];
      }
      const depth = (b: readonly Issue[]) => Math.max(...b.map((i) => i.path.length));
      const best = branches.reduce((a, b) => (depth(b) > depth(a) ? b : a));
      return schemaProblems(best, valueAt, path);
    }
    default:
      return [{ path, message: issue.message }];
  }
}
