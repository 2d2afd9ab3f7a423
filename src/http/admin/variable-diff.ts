// What changed in a call's extracted variables from one revision to the next, for the call page.
import type { Scalar } from '../../payload/call.js';

export interface VariableChange {
  name: string;
  kind: 'added' | 'removed' | 'changed';
  /** The earlier value; absent when the variable was added. */
  before?: Scalar;
  /** The later value; absent when the variable was removed. */
  after?: Scalar;
}

/** Same type and same value: `1` and `"1"` differ, as do `false` and `null`. */
function sameScalar(a: Scalar, b: Scalar): boolean {
  return typeof a === typeof b && a === b;
}

/**
 * The variables added, removed or changed from `before` to `after`, sorted by name (code-unit
 * order, the same on every machine); unchanged ones are left out. Only own keys count.
 */
export function variableDiff(before: Record<string, Scalar>, after: Record<string, Scalar>): VariableChange[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const changes: VariableChange[] = [];
  for (const name of names) {
    const had = Object.hasOwn(before, name);
    const has = Object.hasOwn(after, name);
    if (had && !has) changes.push({ name, kind: 'removed', before: before[name] });
    else if (!had && has) changes.push({ name, kind: 'added', after: after[name] });
    else if (had && has && !sameScalar(before[name]!, after[name]!)) changes.push({ name, kind: 'changed', before: before[name], after: after[name] });
  }
  return changes;
}
