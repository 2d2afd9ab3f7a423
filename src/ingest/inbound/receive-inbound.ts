// The inbound-call core, free of HTTP: request facts in, `{status, body}` out, in the same
// order as post-call deliveries: token (401) → content type (415) → size (413) → signature
// (401) → JSON (400) → shape (422) → the answer (200, the prompt variables). Bodies that get a
// 400/422 are stored with the reason. The answer comes within INBOUND_DEADLINE_MS whatever the
// lookups and the store do; it is stored after it is sent, so storing never delays it.
import { errorReply, type ErrorCodeName, type Reply } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { MappingRegistry } from '../../mapping/mapping-registry.js';
import type { PromptValue } from '../../mapping/inbound-section.js';
import type { InboundLookupOutcome, InboundRecordInput } from '../../store/inbound-records.js';
import type { InboundStore } from '../../store/store.js';
import { verifyBodySignature } from '../body-signature.js';
import type { DeliveryRequest, PrecallRequest } from '../delivery-contract.js';
import { readJsonBody, readWebhookBody } from '../json-body.js';
import { platformPayload } from '../../payload/platforms/index.js';
import type { WebhookTokens } from '../webhook-tokens.js';
import { defaultsOf, matchInbound, type createInboundAnswerer } from './answer-inbound.js';
import { parseInboundRequest, type InboundRequest } from './inbound-request.js';

export type InboundOutcome = 'answered' | 'deadline' | 'invalid' | 'malformed' | 'unauthorized' | 'too_large' | 'unsupported_media_type' | 'unavailable';

export interface InboundReceiveDeps {
  store: Pick<InboundStore, 'recordInbound'>;
  mappings: MappingRegistry;
  tokens: WebhookTokens;
  signingSecrets: readonly string[];
  bodyLimit: number;
  deadlineMs: number;
  answerer: ReturnType<typeof createInboundAnswerer>;
  logger: Logger;
  metrics: {
    inboundRequests: { inc(labels: { outcome: InboundOutcome }): void };
    inboundAnswerSeconds: { observe(value: number): void };
    inboundRecordFailures: { inc(): void };
  };
  now?: () => number;
  isShuttingDown?: () => boolean;
}

type InboundBase = Omit<InboundRecordInput, 'answer' | 'status' | 'outcome'>;

/** What is recorded of every request before its body is read. */
function emptyBase(requestId: string, sender: string, receivedAt: number, raw: Buffer): InboundBase {
  return { requestId, sender, receivedAt, rawBody: raw, customerPhone: null, assistantPhone: null, mappings: [], lookups: [], durationMs: 0, deadlineHit: false };
}

export type InboundRequestFacts = Omit<DeliveryRequest, 'testMarker'>;

export function createInboundReceiver(deps: InboundReceiveDeps) {
  const now = deps.now ?? Date.now;

  function fail(outcome: InboundOutcome, code: ErrorCodeName, details?: Record<string, unknown>): Reply {
    deps.metrics.inboundRequests.inc({ outcome });
    return errorReply(code, details);
  }

  function record(input: InboundRecordInput): Promise<number | null> {
    return deps.store.recordInbound(input).then(
      (r) => r.id,
      (error: unknown) => {
        deps.metrics.inboundRecordFailures.inc();
        deps.logger.error({ err: error }, 'could not store an inbound request (it was answered)');
        return null;
      },
    );
  }

  /** Stores a refused body, waiting for it at most until the deadline: its id goes in the 4xx. */
  async function keepRefused(base: InboundBase, reply: Reply): Promise<Reply> {
    const stored = record({ ...base, outcome: 'invalid', status: reply.status, answer: reply.body });
    let timer: NodeJS.Timeout | undefined;
    const id = await Promise.race([stored, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), Math.max(0, base.receivedAt + deps.deadlineMs - now()))))]);
    clearTimeout(timer);
    return id === null ? reply : { ...reply, body: { ...(reply.body as object), inbound_id: id } };
  }

  async function receive(req: InboundRequestFacts): Promise<Reply> {
    const startedAt = now();
    if (deps.isShuttingDown?.()) return fail('unavailable', 'SHUTTING_DOWN');
    const candidate = req.tokens.find((t) => t);
    const sender = candidate ? deps.tokens.senderFor(candidate) : null;
    if (!sender) return fail('unauthorized', 'UNAUTHORIZED');
    const body = await readWebhookBody(req, deps.bodyLimit);
    if (!body.ok) return fail(body.outcome, body.code, body.details);
    const { raw } = body;
    if (deps.signingSecrets.length > 0 && !verifyBodySignature(raw, req.signature, deps.signingSecrets)) return fail('unauthorized', 'BAD_SIGNATURE');

    const base = emptyBase(req.requestId, sender, startedAt, raw);
    const json = readJsonBody(raw);
    if (!json.ok) {
      deps.metrics.inboundRequests.inc({ outcome: 'malformed' });
      return keepRefused({ ...base, durationMs: now() - startedAt }, errorReply('MALFORMED_JSON', { detail: json.detail }));
    }
    const parsed = parseInboundRequest(json.value);
    if (!parsed.ok) {
      deps.metrics.inboundRequests.inc({ outcome: 'invalid' });
      return keepRefused({ ...base, durationMs: now() - startedAt }, errorReply('INVALID_INBOUND_REQUEST', { errors: parsed.issues }));
    }
    const variables = await answerRequest(base, parsed.request);
    return { status: 200, body: variables, exact: true };
  }

  /** The variables for a request read from its body, within the deadline; recorded after. */
  async function answerRequest(base: InboundBase, request: InboundRequest): Promise<Record<string, PromptValue>> {
    const startedAt = base.receivedAt;
    const mappings = matchInbound(request, deps.mappings.current());
    let variables: Record<string, PromptValue>;
    let lookups: InboundLookupOutcome[] = [];
    let deadlineHit = false;
    try {
      ({ variables, lookups, deadlineHit } = await deps.answerer.answer(base.requestId, request, mappings, startedAt));
    } catch (error) {
      // A fault of ours must not cost the caller the answer: the defaults are still right.
      deps.logger.error({ err: error }, 'inbound answer failed; answering the defaults');
      variables = defaultsOf(mappings);
      deadlineHit = true;
    }
    const durationMs = now() - startedAt;
    deps.metrics.inboundRequests.inc({ outcome: deadlineHit ? 'deadline' : 'answered' });
    deps.metrics.inboundAnswerSeconds.observe(durationMs / 1000);
    void record({
      ...base,
      outcome: 'answered',
      status: 200,
      customerPhone: request.customer_phone,
      assistantPhone: request.assistant_phone,
      answer: variables,
      mappings: mappings.map((m) => m.name),
      lookups,
      durationMs,
      deadlineHit,
    });
    return variables;
  }

  /**
   * Another platform's pre-call request, authenticated and parsed on its webhook route: read
   * by the platform's module, answered with the same variables in the platform's shape.
   */
  async function answerPlatform(req: PrecallRequest): Promise<Reply> {
    const precall = platformPayload(req.platform).precall;
    const base = emptyBase(req.requestId, req.sender, req.receivedAt, req.raw);
    const parsed = precall ? precall.parse(req.body) : { ok: false as const, issues: [{ path: '', message: 'this platform sends no pre-call request' }] };
    if (!parsed.ok) {
      deps.metrics.inboundRequests.inc({ outcome: 'invalid' });
      return keepRefused({ ...base, durationMs: now() - req.receivedAt }, errorReply('INVALID_INBOUND_REQUEST', { errors: parsed.issues }));
    }
    const variables = await answerRequest(base, parsed.request);
    return { status: 200, body: precall!.answer(variables) as Record<string, unknown>, exact: true };
  }

  return { receive, answerPlatform };
}

export type InboundReceiver = ReturnType<typeof createInboundReceiver>;
