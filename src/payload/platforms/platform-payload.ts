// What aftercall knows of another voice-AI platform's webhook bodies: which event a body is,
// the strict schema of the end-of-call event(s), and its normalization into the one `Call`.
// One module per platform beside this file; the registry is ./index.ts. Sources are cited in
// test/fixtures/platforms/<platform>/README.md and docs/platforms.md.
import type { z } from 'zod';
import type { Call, OtherPlatform } from '../call.js';
import type { InboundRequest } from '../../ingest/inbound/inbound-request.js';
import type { PayloadIssue } from '../payload-issues.js';

/** What a body is, read from its event field before any schema runs. */
export type PlatformEvent =
  /** An end-of-call event: validated by `schema`, normalized, stored. */
  | { kind: 'call'; event: string | null }
  /** A documented event aftercall does not act on (live updates): answered 2xx, nothing stored. */
  | { kind: 'ignored'; event: string }
  /** The platform's pre-call variables request: answered by the inbound-variables mechanism. */
  | { kind: 'precall'; event: string }
  /** A request/response message that needs an answer aftercall does not give (tool calls): 400. */
  | { kind: 'unanswerable'; event: string; path: string }
  /** An event no source documents: `unknownEvents` says what happens to it. */
  | { kind: 'unknown'; event: string | null; path: string };

export interface PlatformPayload<Raw = unknown> {
  platform: OtherPlatform;
  /** As the vendor writes its name, for messages and docs. */
  label: string;
  classify(body: Record<string, unknown>): PlatformEvent;
  /** The end-of-call body: strict refuses unknown keys, lenient strips them (SCHEMA_MODE=warn). */
  schema: { strict: z.ZodType<Raw>; lenient: z.ZodType<Raw> };
  normalize(raw: Raw): Call;
  /**
   * Undocumented events: `quarantine` (422, kept, replayable) where the platform retries a
   * refusal, `ignore` (200, counted, logged) where it does not and would only disable the URL.
   */
  unknownEvents: 'quarantine' | 'ignore';
  /**
   * End-of-call events a later one carries all of, and more (Retell: `call_ended` ⊂
   * `call_analyzed`). A retry of the lesser event arriving after the greater one is answered
   * `superseded` instead of becoming a newest revision without the analysis.
   */
  supersededBy?: Readonly<Record<string, readonly string[]>>;
  /** The pre-call request read as the inbound mechanism's request, and its answer in the platform's shape. */
  precall?: {
    parse(body: Record<string, unknown>): { ok: true; request: InboundRequest } | { ok: false; issues: PayloadIssue[] };
    answer(variables: Record<string, unknown>): unknown;
  };
}
