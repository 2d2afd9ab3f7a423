// The platform connector built from its configuration: the shared HTTP client, the phone-number
// directory, and the id rules of the API it speaks.
import { z } from 'zod';
import { connectorStep, PermanentError, TransientError, type ConnectorInstance, type StepContext } from '../connector.js';
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
