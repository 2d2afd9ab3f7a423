// Parsed JSON → validated, normalized Call, or the list of exact failing paths.
import type { z } from 'zod';
import type { Call } from './call.js';
import { normalizeCall } from './normalize.js';
import { lenientSchemas, strictSchemas, type SchemaMode } from './schema.js';

export interface PayloadIssue {
  /** Dotted path into the payload, e.g. `lead.campaign.allowed_hours_start_time`. */
  path: string;
  message: string;
}

export type ParseResult =
  | { ok: true; call: Call; unknownKeys: string[] }
  | { ok: false; issues: PayloadIssue[] };

const MAX_ISSUES = 50;

export interface ParseOptions {
  /**
   * The JSON text `body` was parsed from. A text that cannot spell a reserved key (none of
   * the names, no `\u` escape) skips the walk over every key: most of a payload's cost.
   */
  sourceText?: string;
}

/** Every way a JSON text can spell a reserved key: the names themselves or a `\u` escape. */
const MAY_HOLD_RESERVED_KEY = /__proto__|constructor|prototype|\\u/;

export function parsePayload(body: unknown, mode: SchemaMode, options: ParseOptions = {}): ParseResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, issues: [{ path: '', message: 'payload must be a JSON object' }] };
  }
  if (options.sourceText === undefined || MAY_HOLD_RESERVED_KEY.test(options.sourceText)) {
    const unsafe = findUnsafeKeys(body);
    if (unsafe.length > 0) return { ok: false, issues: unsafe };
  }
  const isEnvelope = 'event' in body && 'data' in body;
  const strict = isEnvelope ? strictSchemas.envelope : strictSchemas.call;
  const result = strict.safeParse(body);
  if (result.success) return { ok: true, call: toCall(result.data), unknownKeys: [] };

  const issues = result.error.issues.flatMap(describeIssue);
  const onlyUnknownKeys = result.error.issues.every((i) => i.code === 'unrecognized_keys');
  if (mode === 'warn' && onlyUnknownKeys) {
    // Same rules, unknown keys stripped: senders may add fields before the schema knows them.
    const lenient = (isEnvelope ? lenientSchemas.envelope : lenientSchemas.call).safeParse(body);
    if (lenient.success) {
      return { ok: true, call: toCall(lenient.data), unknownKeys: issues.map((i) => i.path) };
    }
  }
  return { ok: false, issues: issues.slice(0, MAX_ISSUES) };
}

const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 32;

/**
 * JSON.parse keeps `__proto__` as an own key, but copying it (as zod's records do) would set a
 * prototype or silently drop the value. Reject such keys, and absurd nesting, up front.
 */
function findUnsafeKeys(value: unknown, path = '', depth = 0): PayloadIssue[] {
  if (typeof value !== 'object' || value === null) return [];
  if (depth > MAX_DEPTH) return [{ path, message: `nested deeper than ${MAX_DEPTH} levels` }];
  const issues: PayloadIssue[] = [];
  for (const key of Object.keys(value)) {
    const child = Array.isArray(value) ? `${path}[${key}]` : joinPath(path, key);
    if (RESERVED_KEYS.has(key)) issues.push({ path: child, message: 'reserved key name' });
    else issues.push(...findUnsafeKeys((value as Record<string, unknown>)[key], child, depth + 1));
    if (issues.length >= MAX_ISSUES) break;
  }
  return issues;
}

type Parsed = z.infer<typeof strictSchemas.call> | z.infer<typeof strictSchemas.envelope>;

function toCall(data: Parsed): Call {
  return 'event' in data && 'data' in data ? normalizeCall(data.data, data.event) : normalizeCall(data);
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

function joinPath(base: string, key: PropertyKey): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${String(key)}` : String(key);
}
