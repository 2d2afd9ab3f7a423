// A zod error as the exact failing paths a sender is told (`lead.campaign.name`, `transcript[3].text`),
// written once for post-call bodies, pre-call requests and the inbound-call request.
import type { z } from 'zod';

export interface PayloadIssue {
  /** Dotted path into the payload, e.g. `lead.campaign.allowed_hours_start_time`. */
  path: string;
  message: string;
}

export function payloadIssues(error: z.ZodError): PayloadIssue[] {
  return error.issues.flatMap(describeIssue);
}

function describeIssue(issue: z.core.$ZodIssue): PayloadIssue[] {
  const base = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: joinPath(base, key), message: 'unknown key' }));
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // Drop branches that failed only because the value is not of their type at all (the
    // string branch of an array transcript); if one branch is left, its issues are the story.
    const plausible = issue.errors.filter((branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0));
    if (plausible.length === 1) {
      return plausible[0]!.flatMap((i) => describeIssue({ ...i, path: [...issue.path, ...i.path] }));
    }
    return [{ path: base, message: unionMessage(issue) }];
  }
  return [{ path: base, message: issue.message }];
}

function unionMessage(issue: z.core.$ZodIssueInvalidUnion): string {
  const expected = new Set<string>();
  for (const branch of issue.errors) {
    for (const i of branch) if (i.code === 'invalid_type') expected.add(i.expected);
  }
  return expected.size > 0 ? `expected ${[...expected].join(' or ')}` : issue.message;
}

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, key) => joinPath(acc, key), '');
}

export function joinPath(base: string, key: PropertyKey): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${String(key)}` : String(key);
}
