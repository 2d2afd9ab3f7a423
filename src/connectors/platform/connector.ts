// The platform connector built from its configuration: the shared HTTP client, the phone-number
// directory, and the id rules of the API it speaks.
import { z } from 'zod';
import { connectorStep, PermanentError, TransientError, type ConnectorInstance, type StepContext, type StepDefinition } from '../connector.js';
import { createPlatformClient, type PlatformClient } from './client.js';
import { E164, platformTarget, SMS_BODY_LIMIT, type PlatformApi, type PlatformConfig } from './config.js';
import { createPhoneNumberDirectory, type PhoneNumberDirectory } from './phone-numbers.js';

export interface PlatformConnector extends ConnectorInstance {
  config: PlatformConfig;
  client: PlatformClient;
  phoneNumbers: PhoneNumberDirectory;
}

export function createPlatformConnector(config: PlatformConfig): PlatformConnector {
  const client = createPlatformClient(config);
  return { config, client, phoneNumbers: createPhoneNumberDirectory(client), close: () => client.close() };
}

/** The step kinds of the platform. */
export const platformStep = connectorStep<PlatformConnector, PlatformConfig>();

/**
 * What a step that sends declares (a call, an SMS: the platform can neither take it back nor
 * deduplicate it, and its request goes with `sends: true`): a new revision of the call does not
 * send again, and a send that got no answer is reported for an operator, not repeated.
 */
export const SENDS = { defaultRepeat: 'never', safeToRepeat: false } as const;

/**
 * The output of a step that makes something on the platform (a call, a lead, an SMS): the
 * platform's id of `what` as field `idField`, and its status, each null when the answer lacks it.
 */
export function platformRecord<K extends string>(idField: K, what: string, status: string) {
  const fields = {
    [idField]: z.string().nullable().describe(`The platform's id of ${what}.`),
    status: z.string().nullable().describe(status),
  } as { [F in K | 'status']: z.ZodNullable<z.ZodString> };
  return z.object(fields);
}

/** An id as a mapping writes it: a number (classic) or a UUID (2.0). */
export const platformId = z.union([z.number().int().positive(), z.string().trim().min(1)]).transform(String);

/** A phone number a step calls, texts or adds. */
export const phoneNumber = z.string().regex(E164, 'must be an E.164 phone number like +4915123456789');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `value` as the API takes it: the classic API's ids are integers, 2.0's are UUIDs. A wrong
 * kind fails the step naming the field (the platform would only say "not found").
 */
export function apiId(api: PlatformApi, kind: string, field: string, value: string): number | string {
  if (api === 'classic') {
    if (!/^\d+$/.test(value)) throw new PermanentError(`${kind}: with.${field} must be a numeric id on the classic API (got "${value}")`);
    return Number(value);
  }
  if (!UUID.test(value)) throw new PermanentError(`${kind}: with.${field} must be a UUID on Famulor 2.0 (got "${value}")`);
  return value;
}

/** The SMS body limit of the configured API. */
export function smsBodyLimit(config: Pick<PlatformConfig, 'PLATFORM' | 'PLATFORM_BASE_URL'>): number {
  return SMS_BODY_LIMIT[platformTarget(config).api];
}

/** `{data: {...}}` → its data; an object answer as it is. */
export function unwrap(answer: unknown): Record<string, unknown> {
  if (answer && typeof answer === 'object' && !Array.isArray(answer)) {
    const data = (answer as { data?: unknown }).data;
    return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : (answer as Record<string, unknown>);
  }
  return {};
}

/** A field of an answer as a string id, or null. */
export function idOf(value: unknown): string | null {
  return typeof value === 'number' || (typeof value === 'string' && value !== '') ? String(value) : null;
}

/** A field of an answer as a string, or null. */
export function textOf(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Famulor 2.0's path of a campaign's leads, or of one of them (ids as apiId gives them). */
export function campaignLeads(campaign: number | string, lead?: number | string): string {
  return `/campaigns/${encodeURIComponent(String(campaign))}/leads${lead === undefined ? '' : `/${encodeURIComponent(String(lead))}`}`;
}

/** The `with` fields that name an existing lead: its id, and on Famulor 2.0 its campaign. */
interface LeadRef {
  lead_id: string;
  campaign_id?: string | null;
}

/**
 * The path of the existing lead `req` names (ids as apiId checks them): `classic` of its id on
 * the classic API; on Famulor 2.0 within its campaign, so with.campaign_id is required there.
 */
function leadPath(api: PlatformApi, kind: string, req: LeadRef, classic: (lead: number | string) => string): string {
  const lead = apiId(api, kind, 'lead_id', req.lead_id);
  if (api === 'classic') return classic(lead);
  if (!req.campaign_id) throw new PermanentError(`${kind}: with.campaign_id is required on Famulor 2.0 (leads are addressed within their campaign)`);
  return campaignLeads(apiId(api, kind, 'campaign_id', req.campaign_id), lead);
}

/** A step on an existing lead (platform.lead.update, .delete), as it says what is its own. */
interface LeadStep<Schema extends z.ZodType<LeadRef>> extends Omit<StepDefinition<Schema, PlatformConnector, PlatformConfig>, 'defaultRepeat' | 'output' | 'execute'> {
  /** The output's field besides the lead's id, and what it means. */
  outcome: { field: string; description: string };
  /** The lead's path on the classic API, of its id (2.0's is within its campaign). */
  classicPath(lead: number | string): string;
  /** Sends the step's request for the lead at `path`: the outcome. */
  perform(req: z.output<Schema>, path: string, ctx: StepContext, client: PlatformClient): Promise<boolean>;
}

/**
 * A step on an existing lead: its output is `{ id, <outcome> }`, and a new revision of the call
 * repeats it when its input changed.
 */
export function leadStep<Schema extends z.ZodType<LeadRef>>(spec: LeadStep<Schema>) {
  const { outcome, classicPath, perform, ...step } = spec;
  return platformStep<Schema>({
    ...step,
    defaultRepeat: 'on-change',
    output: z.object({ id: z.string().describe('The lead.'), [outcome.field]: z.boolean().describe(outcome.description) }),
    async execute(req, ctx, { client }) {
      const path = leadPath(client.api, spec.kind, req, classicPath);
      return { id: req.lead_id, [outcome.field]: await perform(req, path, ctx, client) };
    },
  });
}

/**
 * `ctx` with what is left of its time since `started`, for the next request of a step that
 * makes several (the sender lookup, then the send): the step keeps one deadline.
 */
export function timeLeft(ctx: StepContext, started: number): StepContext {
  const left = ctx.timeoutMs - (Date.now() - started);
  // Nothing of the next request has been sent: it may be tried again.
  if (left <= 0) throw new TransientError(`no time left of the step's ${ctx.timeoutMs} ms for its next request`);
  return Object.create(ctx, { timeoutMs: { value: left, enumerable: true } }) as StepContext;
}
