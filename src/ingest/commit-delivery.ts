// A read body's validation, mapping match and one durable commit (or quarantine), shared by live deliveries and replays.
import { serializeCall } from '../payload/content-hash.js';
import type { Call, OtherPlatform } from '../payload/call.js';
import { parsePayload, type PayloadIssue } from '../payload/parse-payload.js';
import { platformPayload } from '../payload/platforms/index.js';
import { isDocumentedSample, SKIPPED_TEST_REASON } from '../payload/test-request.js';
import { callKey, NO_MAPPING, type PlannedRun } from '../store/store.js';
import type { DeliveryRequest, ReceiveDeps } from './delivery-contract.js';
import type { JsonBody } from './json-body.js';
import { matchMappings } from './match.js';

export type CommitRequest = Pick<DeliveryRequest, 'requestId' | 'testMarker' | 'receives' | 'platform' | 'senderHeaders'>;

export type CommitDeps = Pick<ReceiveDeps, 'store' | 'mappings' | 'schemaMode' | 'testDeliveries' | 'logger' | 'metrics' | 'onAccepted'>;

/** A platform's body that is no end-of-call data, as parsePayload tells it. */
export type OtherEvent = NonNullable<Extract<ReturnType<typeof parsePayload>, { ok: false }>['other']>;

export type QuarantineReason = 'malformed-json' | 'invalid-payload' | 'unknown-event';

export function createDeliveryCommitter(deps: CommitDeps, now: () => number) {
  /** The receipt id of a kept rejected body, or null when it could not be kept. */
  async function quarantine(req: CommitRequest, sender: string, raw: Buffer, reason: QuarantineReason, issues: PayloadIssue[]): Promise<number | null> {
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

  async function commit(req: CommitRequest, sender: string, raw: Buffer, json: JsonBody) {
    const parsed = parsePayload(json.value, deps.schemaMode, { sourceText: json.text, receives: req.receives, platform: req.platform });
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

  /**
   * The newest revision when it came from an event that carries all this one does and more
   * (its body read back: retention may have purged it, then the delivery is taken as usual).
   */
  async function supersedingRevision(platform: OtherPlatform, sender: string, call: Call): Promise<number | null> {
    const payload = platformPayload(platform);
    const later = payload.supersededBy?.[call.event ?? ''];
    if (!later) return null;
    const latest = (await deps.store.getCallPayloads(callKey(call))).find((p) => p.sender === sender);
    if (!latest?.body) return null;
    const event = payload.classify(JSON.parse(latest.body) as Record<string, unknown>);
    return event.kind === 'call' && event.event !== null && later.includes(event.event) ? latest.revision : null;
  }

  return { commit, quarantine };
}

function noMatchReason(notMatched: Array<{ mapping: string; reason: string }>): string {
  if (notMatched.length === 0) return 'no mapping matched: no mappings are loaded';
  return `no mapping matched: ${notMatched.map((n) => `${n.mapping}: ${n.reason}`).join('; ')}`;
}
