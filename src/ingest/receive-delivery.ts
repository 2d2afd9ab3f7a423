// The ingest core, free of Express: request facts in, `{status, body}` out.
// Checks run in a fixed order, each with its own status:
//   auth (401) → content type (415) → size (413) → signature (401) → JSON (400) → schema (422)
//   → store (202 accepted / 200 duplicate / 503 when nothing could be committed)
// Nothing is acknowledged before it is committed; rejected bodies from authenticated senders
// are kept in quarantine.
import { errorReply, type ErrorCodeName, type Reply } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MappingRegistry } from '../mapping/mapping-registry.js';
import { matchMappings } from './match.js';
import { serializeCall } from '../payload/content-hash.js';
import { parsePayload, type PayloadIssue, type PayloadKind } from '../payload/parse-payload.js';
import type { SchemaMode } from '../payload/schema.js';
import { isDocumentedSample, SKIPPED_TEST_REASON, type TestDeliveryMode } from '../payload/test-request.js';
import { callKey, NO_MAPPING, StoreUnavailableError, type PlannedRun, type SenderHeaders, type Store } from '../store/store.js';
import { verifyBodySignature } from './body-signature.js';
import { SIGNATURE_SCHEMES } from './signatures/index.js';
import type { SignatureScheme } from './signatures/signature-scheme.js';
import type { OtherPlatform } from '../payload/call.js';
import { detectPlatform, platformPayload } from '../payload/platforms/index.js';
import type { Call } from '../payload/call.js';
import type { WebhookTokens } from './webhook-tokens.js';

export interface DeliveryRequest {
  requestId: string;
  /** Candidate tokens from the path, the `?token=` query and `Authorization: Bearer`. */
  tokens: Array<string | undefined>;
  contentType: string | undefined;
  contentLength: number | undefined;
  signature: string | undefined;
  /** `X-Aftercall-Test: true` marks a test delivery explicitly. */
  testMarker: string | undefined;
  /** What the route takes (its entry in WEBHOOK_ROUTES); every kind when absent (a replay). */
  receives?: readonly PayloadKind[];
  /** The platform whose route it came in on; absent: the autocalls.ai family's routes. */
  platform?: OtherPlatform;
  /** A request header by its lower-case name (the platform's signature headers). */
  header?(name: string): string | undefined;
  /** The headers kept with the receipt (sender-headers.ts), made only once it is stored; a replay has the original's. */
  senderHeaders?(): SenderHeaders | undefined;
  /** Reads the whole body; rejects with BodyTooLargeError beyond `limit`. */
  readBody(limit: number): Promise<Buffer>;
}

export class BodyTooLargeError extends Error {}

/** A platform's pre-call request as the delivery path read it: authenticated, its JSON parsed. */
export interface PrecallRequest {
  requestId: string;
  sender: string;
  platform: OtherPlatform;
  raw: Buffer;
  body: Record<string, unknown>;
  receivedAt: number;
}

export type DeliveryOutcome =
  | 'accepted'
  | 'duplicate'
  | 'invalid'
  | 'malformed'
  | 'unauthorized'
  | 'too_large'
  | 'unsupported_media_type'
  | 'unavailable'
  /** Another platform's event that is no end-of-call data (live updates): answered 2xx, not stored. */
  | 'ignored'
  /** A pre-call variables request on a platform's URL, answered by the inbound mechanism. */
  | 'precall';

/** What the core counts; the service passes its Prometheus metrics. */
export interface IngestMetrics {
  deliveries: { inc(labels: { outcome: DeliveryOutcome }): void };
  unknownKeys: { inc(value: number): void };
  ingestSeconds: { observe(value: number): void };
}

export interface ReceiveDeps {
  store: Store;
  mappings: MappingRegistry;
  tokens: WebhookTokens;
  signingSecrets: readonly string[];
  /** Each platform's own signing secrets (`<PLATFORM>_WEBHOOK_SECRETS`); none: its signature is not checked. */
  platformSecrets?: Partial<Record<OtherPlatform, readonly string[]>>;
  /** A platform's scheme as configured, where it differs from SIGNATURE_SCHEMES (Vapi's HMAC plan). */
  signatureSchemes?: Partial<Record<OtherPlatform, SignatureScheme>>;
  /** Answers a platform's pre-call request (the inbound-call mechanism); absent: 400. */
  precall?: (request: PrecallRequest) => Promise<Reply>;
  bodyLimit: number;
  schemaMode: SchemaMode;
  /** What test deliveries do (TEST_DELIVERIES); default `run`. */
  testDeliveries?: TestDeliveryMode;
  logger: Logger;
  metrics: IngestMetrics;
  now?: () => number;
  /** Told when a known sender's delivery arrives, before its body is read (the worker yields to deliveries). */
  onDelivery?: () => void;
  /** Told after a commit that created runs (wakes the worker). */
  onAccepted?: () => void;
  isShuttingDown?: () => boolean;
}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json$/i;

/** application/json or application/*+json, in UTF-8 (the only charset JSON has, RFC 8259). */
function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const [media = '', ...params] = value.split(';').map((p) => p.trim());
  if (!JSON_MEDIA_TYPE.test(media)) return false;
  const charset = params.find((p) => /^charset\s*=/i.test(p));
  return !charset || /^charset\s*=\s*"?utf-?8"?$/i.test(charset);
}
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** A body read as JSON, with its text (parsePayload skips work the text shows is not needed). */
interface JsonBody {
  payload: unknown;
  text: string;
}

/** Throws a TypeError for bytes that are not UTF-8, a SyntaxError for text that is not JSON. */
function readJson(raw: Buffer): JsonBody {
  const text = utf8.decode(raw);
  return { payload: JSON.parse(text), text };
}

export function createDeliveryReceiver(deps: ReceiveDeps) {
  const now = deps.now ?? Date.now;

  function fail(outcome: DeliveryOutcome, code: ErrorCodeName, details?: Record<string, unknown>): Reply {
    deps.metrics.deliveries.inc({ outcome });
    return errorReply(code, details);
  }

  async function quarantine(
    req: DeliveryRequest,
    sender: string,
    raw: Buffer,
    reason: 'malformed-json' | 'invalid-payload' | 'unknown-event',
    issues: PayloadIssue[],
  ): Promise<number | null> {
    try {
      const { receiptId } = await deps.store.quarantineDelivery({
        requestId: req.requestId,
        sender,
        receivedAt: now(),
        rawBody: raw,
        reason,
        issues,
        headers: req.senderHeaders?.(),
      });
      return receiptId;
    } catch (error) {
      // The sender still learns what is wrong; it keeps the body and will resend.
      deps.logger.error({ err: error }, 'could not quarantine a rejected delivery');
      return null;
    }
  }

  /** Validation, planning and the durable commit, shared by live deliveries and replays. */
  async function commit(req: Pick<DeliveryRequest, 'requestId' | 'testMarker' | 'receives' | 'platform' | 'senderHeaders'>, sender: string, raw: Buffer, json: JsonBody) {
    const parsed = parsePayload(json.payload, deps.schemaMode, { sourceText: json.text, receives: req.receives, platform: req.platform });
    if (!parsed.ok) return { ok: false as const, issues: parsed.issues, unknownEvent: parsed.unknownEvent, other: parsed.other };
    if (parsed.unknownKeys.length > 0) {
      deps.metrics.unknownKeys.inc(parsed.unknownKeys.length);
      deps.logger.warn({ unknown_keys: parsed.unknownKeys }, 'accepted a payload with unknown keys (SCHEMA_MODE=warn)');
    }
    const call = parsed.call;
    const isTest = /^(1|true|yes)$/i.test(req.testMarker ?? '') || isDocumentedSample(call);
    const { matched, notMatched } = matchMappings(call, deps.mappings.current());
    const callId = call.id;
    const skipTest = isTest && deps.testDeliveries === 'skip';
    const queued = skipTest ? 0 : matched.length;
    // A call no mapping takes still shows up in the run history, saying why.
    const runs: PlannedRun[] = matched.length
      ? matched.map((m) => ({ mappingName: m.name, mappingHash: m.hash, ...(skipTest ? { skipReason: SKIPPED_TEST_REASON } : {}) }))
      : [{ mappingName: NO_MAPPING, mappingHash: '', skipReason: noMatchReason(notMatched) }];
    const superseding = req.platform ? await supersedingRevision(req.platform, sender, call) : null;
    if (superseding !== null) return { ok: true as const, callId, isTest, result: { outcome: 'superseded' as const, revision: superseding }, queued: 0 };
    const serialized = serializeCall(call);
    const result = await deps.store.acceptDelivery({
      requestId: req.requestId,
      sender,
      receivedAt: now(),
      rawBody: raw,
      call,
      contentHash: serialized.hash,
      callJson: serialized.json,
      isTest,
      runs,
      headers: req.senderHeaders?.(),
    });
    if (result.outcome === 'accepted' && queued > 0) deps.onAccepted?.();
    return { ok: true as const, callId, isTest, result, queued };
  }

  /** Null when the body's signature holds (or none is asked for); else what is wrong with it. */
  function checkSignature(req: DeliveryRequest, raw: Buffer): Record<string, unknown> | null {
    if (!req.platform) {
      return deps.signingSecrets.length > 0 && !verifyBodySignature(raw, req.signature, deps.signingSecrets) ? {} : null;
    }
    const secrets = deps.platformSecrets?.[req.platform] ?? [];
    const scheme = deps.signatureSchemes?.[req.platform] ?? SIGNATURE_SCHEMES[req.platform];
    if (secrets.length === 0 || !scheme) return null;
    const check = scheme.verify({ raw, header: (name) => req.header?.(name), secrets, now: now() });
    return check.ok ? null : { detail: `${scheme.headers.join(' / ')}: ${SIGNATURE_PROBLEMS[check.reason]}` };
  }

  /** A platform's body that is no end-of-call data: ignored (2xx), answered as a pre-call request, or refused. */
  async function answerOther(
    req: DeliveryRequest,
    sender: string,
    raw: Buffer,
    json: JsonBody,
    other: NonNullable<Extract<ReturnType<typeof parsePayload>, { ok: false }>['other']>,
    issues: PayloadIssue[],
  ): Promise<Reply> {
    if (other.kind === 'ignored' || other.kind === 'unknown-ignored') {
      if (other.kind === 'unknown-ignored') deps.logger.warn({ platform: req.platform, event: other.event }, 'ignored an undocumented platform event');
      deps.metrics.deliveries.inc({ outcome: 'ignored' });
      return { status: 200, body: { status: 'ignored', event: other.event } };
    }
    if (other.kind === 'precall' && deps.precall && req.platform) {
      deps.metrics.deliveries.inc({ outcome: 'precall' });
      return deps.precall({ requestId: req.requestId, sender, platform: req.platform, raw, body: json.payload as Record<string, unknown>, receivedAt: now() });
    }
    return fail('invalid', 'UNANSWERABLE_REQUEST', { event: other.event, errors: issues });
  }

  /**
   * The newest revision when it came from an event that carries all this one does and more
   * (its body read back: retention may have purged it, then the delivery is taken as usual).
   */
  async function supersedingRevision(platform: OtherPlatform, sender: string, call: Call): Promise<number | null> {
    const later = platformPayload(platform).supersededBy?.[call.event ?? ''];
    if (!later) return null;
    const latest = (await deps.store.getCallPayloads(callKey(call))).find((p) => p.sender === sender);
    if (!latest?.body) return null;
    const event = platformPayload(platform).classify(JSON.parse(latest.body) as Record<string, unknown>);
    return event.kind === 'call' && event.event !== null && later.includes(event.event) ? latest.revision : null;
  }

  /** The sender of the first token given, or null when it is unknown (or none is given). */
  function senderFor(tokens: DeliveryRequest['tokens']): string | null {
    const candidate = tokens.find((t) => t);
    return candidate ? deps.tokens.senderFor(candidate) : null;
  }

  async function receive(req: DeliveryRequest): Promise<Reply> {
    const started = process.hrtime.bigint();
    if (deps.isShuttingDown?.()) return fail('unavailable', 'SHUTTING_DOWN');

    const sender = senderFor(req.tokens);
    if (!sender) return fail('unauthorized', 'UNAUTHORIZED');
    // Only known senders make the worker give way: a stranger's flood is the rate limiter's.
    deps.onDelivery?.();

    if (!isJsonContentType(req.contentType)) {
      return fail('unsupported_media_type', 'UNSUPPORTED_MEDIA_TYPE', { content_type: req.contentType ?? null });
    }
    if (req.contentLength !== undefined && req.contentLength > deps.bodyLimit) {
      return fail('too_large', 'PAYLOAD_TOO_LARGE', { limit_bytes: deps.bodyLimit });
    }
    let raw: Buffer;
    try {
      raw = await req.readBody(deps.bodyLimit);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return fail('too_large', 'PAYLOAD_TOO_LARGE', { limit_bytes: deps.bodyLimit });
      throw error;
    }
    const signature = checkSignature(req, raw);
    if (signature) return fail('unauthorized', 'BAD_SIGNATURE', signature);

    let json: JsonBody;
    try {
      json = readJson(raw);
    } catch (error) {
      const detail = error instanceof TypeError ? 'the body is not valid UTF-8' : (error as Error).message;
      const receiptId = await quarantine(req, sender, raw, 'malformed-json', [{ path: '', message: detail }]);
      return fail('malformed', 'MALFORMED_JSON', { detail, receipt_id: receiptId });
    }

    let committed: Awaited<ReturnType<typeof commit>>;
    try {
      committed = await commit(req, sender, raw, json);
      if (!committed.ok && committed.other) return answerOther(req, sender, raw, json, committed.other, committed.issues);
      if (!committed.ok && committed.unknownEvent !== undefined) {
        // Kept like any invalid body: replayable once a release knows the event.
        const receiptId = await quarantine(req, sender, raw, 'unknown-event', committed.issues);
        return fail('invalid', 'UNKNOWN_EVENT', { event: committed.unknownEvent, errors: committed.issues, receipt_id: receiptId });
      }
      if (!committed.ok) {
        const receiptId = await quarantine(req, sender, raw, 'invalid-payload', committed.issues);
        return fail('invalid', 'INVALID_PAYLOAD', { errors: committed.issues, receipt_id: receiptId });
      }
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        deps.logger.error({ err: error }, 'store unavailable: delivery refused with 503');
        return fail('unavailable', 'STORE_UNAVAILABLE');
      }
      throw error;
    }

    const { callId, result, isTest, queued } = committed;
    deps.metrics.ingestSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    if (result.outcome === 'duplicate' || result.outcome === 'superseded') {
      deps.metrics.deliveries.inc({ outcome: 'duplicate' });
      return { status: 200, body: { status: result.outcome, call_id: callId, revision: result.revision } };
    }
    deps.metrics.deliveries.inc({ outcome: 'accepted' });
    return {
      status: 202,
      body: { status: 'accepted', call_id: callId, revision: result.revision, runs: queued, test: isTest },
    };
  }

  /**
   * Re-validates a quarantined body under the current schema and mode; on success it is
   * accepted like a fresh delivery (dedupe included) and the receipt marked replayed.
   */
  async function replayQuarantined(receiptId: number, requestId: string): Promise<Reply> {
    const receipt = await deps.store.getReceipt(receiptId);
    if (!receipt || receipt.outcome !== 'quarantined' || !receipt.rawBody) {
      return errorReply('RECEIPT_NOT_FOUND', { receipt_id: receiptId });
    }
    let json: JsonBody;
    try {
      json = readJson(receipt.rawBody);
    } catch (error) {
      return { ...errorReply('MALFORMED_JSON', { detail: (error as Error).message }), status: 422 };
    }
    // The receipt keeps no route: a platform's body is known by its shape.
    const platform = detectPlatform(json.payload) ?? undefined;
    const committed = await commit({ requestId, testMarker: undefined, platform, senderHeaders: () => receipt.headers ?? undefined }, receipt.sender, receipt.rawBody, json);
    if (!committed.ok && committed.unknownEvent !== undefined) {
      return errorReply('UNKNOWN_EVENT', { event: committed.unknownEvent, errors: committed.issues });
    }
    if (!committed.ok) return errorReply('INVALID_PAYLOAD', { errors: committed.issues });
    await deps.store.markReplayed(receiptId, now());
    const { result, callId } = committed;
    return {
      status: result.outcome === 'accepted' ? 202 : 200,
      body: { status: result.outcome, call_id: callId, revision: result.revision },
    };
  }

  return { receive, replayQuarantined, senderFor };
}

export type DeliveryReceiver = ReturnType<typeof createDeliveryReceiver>;

const SIGNATURE_PROBLEMS = {
  missing: 'no signature header',
  malformed: 'the signature header is not in the platform\'s format',
  mismatch: 'the signature does not match the body',
  stale: 'the signature\'s timestamp is outside the allowed window',
} as const;

function noMatchReason(notMatched: Array<{ mapping: string; reason: string }>): string {
  if (notMatched.length === 0) return 'no mapping matched: no mappings are loaded';
  return `no mapping matched: ${notMatched.map((n) => `${n.mapping}: ${n.reason}`).join('; ')}`;
}
