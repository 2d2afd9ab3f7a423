// The connector contract: a connector is registered as a spec and built from its validated,
// frozen configuration; its step kinds validate their rendered input with zod and execute on the
// built instance. Connectors classify failures; only the worker decides whether and when to retry.
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { ConnectorConfigOf, EnvConfig } from './connector-config.js';

export type RepeatPolicy = 'on-change' | 'never' | 'always';

export interface StepContext {
  logger: Logger;
  /** Aborts when the step's timeout passes or the service shuts down. */
  signal: AbortSignal;
  timeoutMs: number;
  /** Stable across retries of the same step of the same run: receivers can dedupe on it. */
  idempotencyKey: string;
}

export interface StepKind<Schema extends z.ZodType = z.ZodType> {
  /** `connector.action`, the value of `use:` in a mapping step. */
  kind: string;
  description: string;
  input: Schema;
  /** What a new revision of a call does with this step when the mapping does not say. */
  defaultRepeat: RepeatPolicy;
  execute(input: z.output<Schema>, ctx: StepContext): Promise<unknown>;
  /**
   * False for side effects the vendor cannot deduplicate (an SMS, an email): a step found
   * `started` but never finished after a crash is then not sent again blindly; the run goes
   * to the dead letter with STEP_OUTCOME_UNKNOWN for an operator to check and retry.
   */
  safeToRepeat?: boolean;
  /**
   * What a later step can read as `steps.<id>` (fields `.describe()`d); `aftercall check`
   * refuses a reference to a field it does not declare.
   */
  output?: z.ZodType;
  /**
   * Names what configuration is missing (e.g. an API token variable), or null when ready.
   * `env` is read as the service reads it; `input` is the step's `with` as written (values
   * may still hold {{ }}), when known, for settings a step may give itself (a sender).
   */
  missingConfig?(env?: NodeJS.ProcessEnv, input?: Record<string, unknown>): string | null;
  /**
   * Who a step's requests go to, for the per-connector limit on steps running at once (the
   * worker's bulkhead); unset: the connector (`hubspot` of `hubspot.contact.upsert`).
   */
  bulkheadKey?(input: z.output<Schema>): string;
  /**
   * Loads what the first execution would (the vendor SDK), for kinds that must answer within a
   * deadline from their first use (inbound-call lookups).
   */
  preload?(): Promise<unknown>;
}

/**
 * A step kind as a connector declares it: `execute` is given the connector's instance (its
 * clients, caches and batches, built once from its configuration). The registry binds it into
 * a StepKind, with `missingConfig` derived from the connector's variables.
 */
export interface StepDefinition<Schema extends z.ZodType = z.ZodType, C = unknown, Cfg = unknown>
  extends Omit<StepKind<Schema>, 'execute' | 'missingConfig'> {
  execute(input: z.output<Schema>, ctx: StepContext, connector: C): Promise<unknown>;
  /**
   * A setting the step may give itself or take from the configuration (a sender): what is
   * missing for `input` (the step's `with` as written) once the variables are complete.
   */
  needs?(config: Cfg, input: Record<string, unknown>): string | null;
}

/** What a connector keeps between steps; `close` ends it at shutdown (steps may run again after: clients are made anew). */
export interface ConnectorInstance {
  close?(): void | Promise<void>;
}

/**
 * A connector as registered (src/connectors/index.ts): its variables, its step kinds and the
 * constructor that builds it from its validated, frozen configuration.
 */
export interface ConnectorSpec<C extends ConnectorInstance = ConnectorInstance, Cfg = unknown> {
  /** The part of a step kind before the first dot: `hubspot` of `hubspot.contact.upsert`. */
  name: string;
  /** For people: "HubSpot" (docs, and "HubSpot is not configured"). */
  title: string;
  /** The environment variables it reads; none: nothing to configure. */
  config?: EnvConfig<z.ZodObject>;
  steps: ReadonlyArray<StepDefinition<z.ZodType, C, Cfg>>;
  create(config: Cfg): C;
}

/** A connector built for a service (or a CLI command): its step kinds bound to its instance. */
export interface Connector {
  name: string;
  steps: StepKind[];
  /**
   * Closes the SDK clients and keep-alive connections the connector keeps between steps (at
   * shutdown, after the worker stopped). Steps may run again later: clients are made anew.
   */
  close?(): void | Promise<void>;
}

/** May pass on retry: network errors, timeouts, 429, 5xx. */
export class TransientError extends Error {
  readonly transient = true;
  /** The message without the vendor's words (they can echo what was sent), for log lines. */
  summary?: string;
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'TransientError';
  }
}

/** Will fail again the same way: 4xx, invalid input, rejected credentials, an answer of a shape the code does not know. */
export class PermanentError extends Error {
  readonly transient = false;
  /** The message without the vendor's words (they can echo what was sent), for log lines. */
  summary?: string;
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

/** What a log line may say of a failure: its summary when the message quotes the vendor. */
export function loggableMessage(error: unknown): string | undefined {
  const summary = (error as { summary?: unknown } | null)?.summary;
  return typeof summary === 'string' ? summary : undefined;
}

/** `hubspot.contact.upsert` → `hubspot`. */
export function connectorOf(kind: string): string {
  return kind.split('.')[0] ?? kind;
}

/** A step kind made without a connector spec (an embedder's or a test's own connector). */
export function defineStep<Schema extends z.ZodType>(step: StepKind<Schema>): StepKind {
  return step as unknown as StepKind;
}

/** The step kinds of connector `C` (configuration `Cfg`), each written `connectorStep<C, Cfg>()({...})`. */
export function connectorStep<C, Cfg = unknown>() {
  return <Schema extends z.ZodType>(step: StepDefinition<Schema, C, Cfg>): StepDefinition<z.ZodType, C, Cfg> =>
    step as unknown as StepDefinition<z.ZodType, C, Cfg>;
}

/** A connector's registration, its configuration typed from its variables' schema. */
export function defineConnector<S extends z.ZodObject, C extends ConnectorInstance>(spec: {
  name: string;
  title: string;
  config: EnvConfig<S>;
  steps: ReadonlyArray<StepDefinition<z.ZodType, C, ConnectorConfigOf<S>>>;
  create(config: ConnectorConfigOf<S>): C;
}): ConnectorSpec {
  return spec as unknown as ConnectorSpec;
}
