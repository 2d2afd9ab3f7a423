// The delivery core's request facts, deps and outcomes, apart so the inbound core and the commit step share them.
import type { Reply } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MappingRegistry } from '../mapping/mapping-registry.js';
import type { OtherPlatform } from '../payload/call.js';
import type { PayloadKind } from '../payload/parse-payload.js';
import type { SchemaMode } from '../payload/schema.js';
import type { TestDeliveryMode } from '../payload/test-request.js';
import type { SenderHeaders, Store } from '../store/store.js';
import type { SignatureScheme } from './signatures/signature-scheme.js';
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
