// The ingest core, free of Express: request facts in, `{status, body}` out.
// Checks run in a fixed order, each with its own status:
//   auth (401) → content type (415) → size (413) → signature (401) → JSON (400) → schema (422)
//   → store (202 accepted / 200 duplicate / 503 when nothing could be committed)
// Nothing is acknowledged before it is committed; rejected bodies from authenticated senders
// are kept in quarantine.
import { errorReply, type ErrorCodeName, type Reply } from '../errors.js';
import type { PayloadIssue } from '../payload/parse-payload.js';
import { detectPlatform } from '../payload/platforms/index.js';
import { StoreUnavailableError } from '../store/store.js';
import { verifyBodySignature } from './body-signature.js';
import { createDeliveryCommitter, type OtherEvent } from './commit-delivery.js';
import type { DeliveryOutcome, DeliveryRequest, ReceiveDeps } from './delivery-contract.js';
import { readJsonBody, readWebhookBody, type JsonBody } from './json-body.js';
import { SIGNATURE_SCHEMES } from './signatures/index.js';

export type { DeliveryOutcome, DeliveryRequest, IngestMetrics, PrecallRequest, ReceiveDeps } from './delivery-contract.js';
export { BodyTooLargeError } from './json-body.js';

export function createDeliveryReceiver(deps: ReceiveDeps) {
  const now = deps.now ?? Date.now;
  const { commit, quarantine } = createDeliveryCommitter(deps, now);

  function fail(outcome: DeliveryOutcome, code: ErrorCodeName, details?: Record<string, unknown>): Reply {
    deps.metrics.deliveries.inc({ outcome });
    return errorReply(code, details);
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
    other: OtherEvent,
    issues: PayloadIssue[],
  ): Promise<Reply> {
    if (other.kind === 'ignored' || other.kind === 'unknown-ignored') {
      if (other.kind === 'unknown-ignored') deps.logger.warn({ platform: req.platform, event: other.event }, 'ignored an undocumented platform event');
      deps.metrics.deliveries.inc({ outcome: 'ignored' });
      return { status: 200, body: { status: 'ignored', event: other.event } };
    }
    if (other.kind === 'precall' && deps.precall && req.platform) {
      deps.metrics.deliveries.inc({ outcome: 'precall' });
      return deps.precall({ requestId: req.requestId, sender, platform: req.platform, raw, body: json.value as Record<string, unknown>, receivedAt: now() });
    }
    return fail('invalid', 'UNANSWERABLE_REQUEST', { event: other.event, errors: issues });
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

    const body = await readWebhookBody(req, deps.bodyLimit);
    if (!body.ok) return fail(body.outcome, body.code, body.details);
    const { raw } = body;
    const signature = checkSignature(req, raw);
    if (signature) return fail('unauthorized', 'BAD_SIGNATURE', signature);

    const json = readJsonBody(raw);
    if (!json.ok) {
      const receiptId = await quarantine(req, sender, raw, 'malformed-json', [{ path: '', message: json.detail }]);
      return fail('malformed', 'MALFORMED_JSON', { detail: json.detail, receipt_id: receiptId });
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
    const json = readJsonBody(receipt.rawBody);
    if (!json.ok) return { ...errorReply('MALFORMED_JSON', { detail: json.error.message }), status: 422 };
    // The receipt keeps no route: a platform's body is known by its shape.
    const platform = detectPlatform(json.value) ?? undefined;
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
