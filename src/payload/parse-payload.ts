// Parsed JSON → validated, normalized Call, or the list of exact failing paths.
// Which shape a body is, read from its keys before any schema runs (one precise error list
// instead of a union's): a chat has `conversation_id`; an event envelope has `event` or
// `type` next to `data` or `call`; anything else is a classic post-call webhook.
import { z } from 'zod';
import type { Call, Platform } from './call.js';
import type { PlatformPayload } from './platforms/platform-payload.js';
import { platformPayload } from './platforms/index.js';
import { lenientConversationSchemas, strictConversationSchemas, type RawConversation } from './conversation-schema.js';
import { normalizeCall } from './normalize.js';
import { joinPath, payloadIssues, type PayloadIssue } from './payload-issues.js';
import { CONVERSATION_ENDED, normalizeConversation, normalizeWorkspaceCall } from './normalize-conversation.js';
import { lenientSchemas, strictSchemas, type RawCall, type SchemaMode } from './schema.js';
import { lenientWorkspaceCall, strictWorkspaceCall, WORKSPACE_CALL_KEYS, type RawWorkspaceCall } from './workspace-call-schema.js';

/** What a webhook route can receive: phone calls, and chats that ended. */
export type PayloadKind = 'call' | 'conversation';
export const PAYLOAD_KINDS: readonly PayloadKind[] = ['call', 'conversation'];

export type { PayloadIssue } from './payload-issues.js';

export type ParseResult =
  | { ok: true; call: Call; unknownKeys: string[] }
  | {
      ok: false;
      issues: PayloadIssue[];
      /** An envelope's event name aftercall does not know (the body is otherwise unread). */
      unknownEvent?: string;
      /** Another platform's body that is no end-of-call data: what the receiver does with it. */
      other?: { kind: 'ignored' | 'precall' | 'unanswerable' | 'unknown-ignored'; event: string | null };
    };

const MAX_ISSUES = 50;

export interface ParseOptions {
  /**
   * The JSON text `body` was parsed from. A text that cannot spell a reserved key (none of
   * the names, no `\u` escape) skips the walk over every key: most of a payload's cost.
   */
  sourceText?: string;
  /** The kinds the route takes (default: every kind); another kind is an issue at the root. */
  receives?: readonly PayloadKind[];
  /** The platform whose route the body came in on (default: the autocalls.ai family). */
  platform?: Platform;
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
  if (options.platform && options.platform !== 'autocalls') return parsePlatformBody(platformPayload(options.platform), body as Record<string, unknown>, mode);
  const shape = readShape(body as Record<string, unknown>);
  if (shape.unknownEvent !== undefined) {
    const event = shape.unknownEvent;
    const message = `unknown event ${JSON.stringify(event)}: aftercall takes call.* and ${CONVERSATION_ENDED} events`;
    return { ok: false, issues: [{ path: shape.eventKey ?? 'event', message }], unknownEvent: event };
  }
  const receives = options.receives ?? PAYLOAD_KINDS;
  if (!receives.includes(shape.kind)) {
    return { ok: false, issues: [{ path: '', message: `this webhook URL receives ${receives.map(describeKind).join(' and ')}; the body is ${describeKind(shape.kind)}` }] };
  }
  const result = schemaFor(shape, 'strict').safeParse(body);
  if (result.success) return { ok: true, call: toCall(shape, result.data), unknownKeys: [] };

  const issues = payloadIssues(result.error);
  const onlyUnknownKeys = result.error.issues.every((i) => i.code === 'unrecognized_keys');
  if (mode === 'warn' && onlyUnknownKeys) {
    // Same rules, unknown keys stripped: senders may add fields before the schema knows them.
    const lenient = schemaFor(shape, 'warn').safeParse(body);
    if (lenient.success) {
      return { ok: true, call: toCall(shape, lenient.data), unknownKeys: issues.map((i) => i.path) };
    }
  }
  return { ok: false, issues: issues.slice(0, MAX_ISSUES) };
}

/** Another platform's body: its event read first, then the end-of-call schema. */
function parsePlatformBody(adapter: PlatformPayload, body: Record<string, unknown>, mode: SchemaMode): ParseResult {
  const event = adapter.classify(body);
  if (event.kind === 'unknown') {
    const message = `unknown ${adapter.label} event ${JSON.stringify(event.event)}`;
    if (adapter.unknownEvents === 'ignore') return { ok: false, issues: [{ path: event.path, message }], other: { kind: 'unknown-ignored', event: event.event } };
    return { ok: false, issues: [{ path: event.path, message }], unknownEvent: event.event ?? '' };
  }
  if (event.kind === 'unanswerable') {
    return { ok: false, issues: [{ path: event.path, message: `a ${adapter.label} ${event.event} request is not end-of-call data` }], other: { kind: 'unanswerable', event: event.event } };
  }
  if (event.kind !== 'call') return { ok: false, issues: [], other: { kind: event.kind, event: event.event } };
  const strict = adapter.schema.strict.safeParse(body);
  if (strict.success) return { ok: true, call: adapter.normalize(strict.data), unknownKeys: [] };
  const issues = payloadIssues(strict.error);
  if (mode === 'warn' && strict.error.issues.every((i) => i.code === 'unrecognized_keys')) {
    const lenient = adapter.schema.lenient.safeParse(body);
    if (lenient.success) return { ok: true, call: adapter.normalize(lenient.data), unknownKeys: issues.map((i) => i.path) };
  }
  return { ok: false, issues: issues.slice(0, MAX_ISSUES) };
}

function describeKind(kind: PayloadKind): string {
  return kind === 'call' ? 'calls (the post-call webhook)' : 'chats (the conversation-ended webhook)';
}

/** The body's form: bare or in an envelope, and which of the three data shapes it holds. */
interface Shape {
  kind: PayloadKind;
  data: 'classic-call' | 'workspace-call' | 'conversation';
  /** The envelope's spelling of its keys (`event` or `type`, `data` or `call`); absent when bare. */
  eventKey?: 'event' | 'type';
  dataKey?: 'data' | 'call';
  unknownEvent?: string;
}

const CALL_EVENT = /^call\.[a-z_.]+$/;

function readShape(body: Record<string, unknown>): Shape {
  if ('conversation_id' in body) return { kind: 'conversation', data: 'conversation' };
  const eventKey = 'event' in body ? 'event' : 'type' in body ? 'type' : undefined;
  const dataKey = 'data' in body ? 'data' : 'call' in body ? 'call' : undefined;
  if (!eventKey || !dataKey) return { kind: 'call', data: 'classic-call' };
  const event = body[eventKey];
  const inner = body[dataKey];
  if (event === CONVERSATION_ENDED) return { kind: 'conversation', data: 'conversation', eventKey, dataKey };
  if (typeof event === 'string' && !CALL_EVENT.test(event)) return { kind: 'call', data: 'classic-call', eventKey, dataKey, unknownEvent: event };
  // A call event, or an event that is no string (the schema names it): the 2.0 workspace call
  // is told from the classic one by keys only it has.
  const workspace = typeof inner === 'object' && inner !== null && WORKSPACE_CALL_KEYS.some((k) => k in inner);
  return { kind: 'call', data: workspace ? 'workspace-call' : 'classic-call', eventKey, dataKey };
}

const envelopes = new Map<string, z.ZodType>();

function schemaFor(shape: Shape, mode: SchemaMode): z.ZodType {
  const strict = mode === 'strict';
  const data =
    shape.data === 'conversation'
      ? (strict ? strictConversationSchemas : lenientConversationSchemas).conversation
      : shape.data === 'workspace-call'
        ? strict
          ? strictWorkspaceCall
          : lenientWorkspaceCall
        : (strict ? strictSchemas : lenientSchemas).call;
  if (!shape.eventKey || !shape.dataKey) return data;
  const key = `${mode} ${shape.data} ${shape.eventKey} ${shape.dataKey}`;
  let envelope = envelopes.get(key);
  if (!envelope) {
    const event =
      shape.data === 'conversation'
        ? z.literal(CONVERSATION_ENDED)
        : z.string().regex(CALL_EVENT, 'must be a call event such as "call.completed"');
    envelope = (strict ? z.strictObject : z.object)({ [shape.eventKey]: event, [shape.dataKey]: data });
    envelopes.set(key, envelope);
  }
  return envelope;
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

function toCall(shape: Shape, parsed: unknown): Call {
  const event = shape.eventKey ? ((parsed as Record<string, string>)[shape.eventKey] ?? null) : null;
  const data = shape.dataKey ? (parsed as Record<string, unknown>)[shape.dataKey] : parsed;
  // The schema chosen for the shape has validated `data` as that shape.
  if (shape.data === 'conversation') return normalizeConversation(data as RawConversation, event ?? CONVERSATION_ENDED);
  if (shape.data === 'workspace-call') return normalizeWorkspaceCall(data as RawWorkspaceCall, event ?? '');
  return normalizeCall(data as RawCall, event);
}
