// HubSpot through @hubspot/api-client: configuration, clients kept across steps, and what HubSpot's
// errors mean. The SDK (≈50 MB) is imported on first use so start-up and the CLI stay fast.
import { z } from 'zod';
import type { BasicApi, BatchApi, createConfiguration, PromiseConfigurationOptions, SearchApi } from '@hubspot/api-client/lib/codegen/crm/objects/index.js';
import { ClientPool, stepAgent, type Pooled, type StepAgent } from '../client-pool.js';
import { type StepContext } from '../connector.js';
import { parseRetryAfter } from '../response-headers.js';
import { evidenceOf, ExchangeLog, withEvidence } from '../evidence.js';
import { actionOf, classifyCommon, classifyFailure } from '../classify-failure.js';
import { baseUrl, envConfig } from '../connector-config.js';
import { header } from '../response-headers.js';
import { lazyImport } from '../load-sdk.js';
import { withPooledClient } from '../client-pool.js';

export const hubspotEnv = envConfig(
  'HubSpot',
  z.object({
    HUBSPOT_ACCESS_TOKEN: z.string().describe('Private app access token (Settings → Integrations → Private apps), with the CRM scopes the steps use.'),
    HUBSPOT_BASE_URL: baseUrl.optional().describe('API base URL; unset: https://api.hubapi.com. For a sandbox proxy or a local stub.'),
  }).describe(
    'Creates and updates of steps running at the same moment are sent together, as one batch request ' +
      '(`/crm/v3/objects/<type>/batch/create` or `…/batch/update`, up to 100 records; the same scopes), which spares ' +
      "HubSpot's per-request rate limit; each step still gets its own record, error and retry. A step alone uses the single-record endpoint.",
  ),
);

/**
 * The SDK's generated CRM objects API (the one `client.crm.objects` is), on a configuration of
 * aftercall's making, and the options each call is given (crm.ts).
 */
export interface HubSpot extends HubSpotApis {
  /** The configuration's values joined: writes batch only with steps of the same account. */
  configKey: string;
  /** The step's deadline (write-batches.ts sends nothing for a step past it). */
  signal: AbortSignal;
  /** The last request sent on the client: a batch's failure carries it to every step of the batch. */
  log: ExchangeLog;
}

interface HubSpotApis {
  basicApi: BasicApi;
  searchApi: SearchApi;
  batchApi: BatchApi;
  options: PromiseConfigurationOptions;
}

/**
 * The SDK's CRM objects API, its client configurator and aftercall's transport for it, imported
 * on first use. A configuration is made as `new Client(...)` makes the one of `client.crm.objects`
 * (the configurator's auth, base URL and middleware) but with aftercall's `httpApi`: the SDK takes
 * no transport through Client, and a call-time `httpApi` is ignored (13.x sends through the
 * configuration's). Each call is given options that make the configured middleware run: in 13.x
 * a call without call-time middleware runs none of it, so the User-Agent header was silently
 * skipped (HubSpot/hubspot-api-nodejs#671, fixed in 14.0.1); appending none of our own keeps the
 * configured ones in force.
 */
/** The output of HubSpot's create and upsert steps: `steps.<id>.id` feeds associations. */
export const hubspotRecord = z.object({
  id: z.string().describe('HubSpot record id.'),
  created: z.boolean().describe('True when this step created the record, false when it found it (or an earlier attempt had made it).'),
});

const loadHubSpot = lazyImport(async () => {
  const [crm, { ApiClientConfigurator }, { NodeHttpLibrary }] = await Promise.all([
    import('@hubspot/api-client/lib/codegen/crm/objects/index.js'),
    import('@hubspot/api-client/lib/src/configuration/ApiClientConfigurator.js'),
    import('./http-library.js'),
  ]);
  const options: PromiseConfigurationOptions = { middleware: [], middlewareMergeStrategy: 'append' };
  return (accessToken: string, basePath: string, agent: StepAgent, log: ExchangeLog): HubSpotApis => {
    // As ObjectsDiscovery does; the configurator's middleware type names an interface of the
    // request context where the generated code names the class, hence the cast.
    const params = ApiClientConfigurator.getParams({ accessToken, basePath }, crm.ServerConfiguration, crm.Observable, crm.Observable);
    const configuration = crm.createConfiguration({ ...(params as ConfigurationParameters), httpApi: new NodeHttpLibrary(agent, log) });
    return {
      basicApi: new crm.BasicApi(configuration),
      searchApi: new crm.SearchApi(configuration),
      batchApi: new crm.BatchApi(configuration),
      options,
    };
  };
});

type ConfigurationParameters = NonNullable<Parameters<typeof createConfiguration>[0]>;

interface PooledHubSpot extends Pooled, HubSpotApis {
  agent: StepAgent;
  configKey: string;
  /** The last request sent on this client: the evidence of a step that fails. */
  log: ExchangeLog;
}

/** HubSpot clients by token and base URL, each with its keep-alive agent, lent one step at a time. */
const pool = new ClientPool<PooledHubSpot>();

/** Closes the kept HubSpot clients and their connections (at shutdown). */
export const closeHubSpotClients = () => pool.close();

/**
 * Runs `work` with a HubSpot client until the step's deadline. The client and its keep-alive
 * connections are kept for later steps with the same configuration; the SDK takes no
 * AbortSignal, so at the deadline the client's agent is retired (its requests destroyed) and the
 * client discarded. HubSpot errors come back as TransientError / PermanentError. The SDK's own
 * retries are not configured: they ignore Retry-After; the worker retries.
 */
export async function withHubSpot<T>(ctx: StepContext, action: string, work: (hubspot: HubSpot) => Promise<T>): Promise<T> {
  const config = hubspotEnv.read();
  const makeClient = await loadHubSpot();
  const base = config.HUBSPOT_BASE_URL ?? 'https://api.hubapi.com';
  const configKey = `${base}\n${config.HUBSPOT_ACCESS_TOKEN}`;
  const create = (): PooledHubSpot => {
    const agent = stepAgent(base);
    const log = new ExchangeLog();
    return { agent, configKey, log, ...makeClient(config.HUBSPOT_ACCESS_TOKEN, base, agent, log) };
  };
  let lent: PooledHubSpot | undefined;
  try {
    return await withPooledClient(ctx, pool, configKey, create, (client, signal) => {
      lent = client;
      client.log.last = undefined;
      return work({ ...client, signal });
    });
  } catch (error) {
    // A batch's error carries the exchange of the client it went out on (write-batches.ts).
    throw withEvidence(classifyHubSpotError(`HubSpot (${actionOf(error, action)})`, error), evidenceOf(error) ?? lent?.log.last);
  }
}

interface ApiExceptionLike {
  code: number;
  body: unknown;
  headers: Record<string, string>;
}

function isApiException(error: unknown): error is ApiExceptionLike {
  const e = error as Partial<ApiExceptionLike> | null;
  return typeof e?.code === 'number' && typeof e.headers === 'object';
}

/** HubSpot's ApiException carries the status, the parsed body and the headers. */
export function classifyHubSpotError(action: string, error: unknown) {
  if (isApiException(error)) {
    return classifyFailure(action, {
      status: error.code,
      detail: hubspotMessage(error.body),
      retryAfterMs: parseRetryAfter(header(error.headers, 'retry-after')),
    });
  }
  return classifyCommon(action, error) ?? classifyFailure(action, { network: error instanceof Error ? error.message : String(error) });
}

/** `{status, message, category, errors: [{message}]}` → "CATEGORY: message (detail; detail)". */
export function hubspotMessage(body: unknown): string {
  if (typeof body === 'string') return body;
  const b = (body ?? {}) as { message?: unknown; category?: unknown; errors?: Array<{ message?: unknown }> };
  const details = Array.isArray(b.errors) ? b.errors.map((e) => e.message).filter((m) => typeof m === 'string' && m !== b.message) : [];
  const text = [typeof b.message === 'string' ? b.message : JSON.stringify(body), details.length ? `(${details.join('; ')})` : '']
    .filter(Boolean)
    .join(' ');
  return typeof b.category === 'string' ? `${b.category}: ${text}` : text;
}

/** The HubSpot status of an error thrown inside `withHubSpot`'s work, if it is one. */
export function hubspotStatus(error: unknown): number | undefined {
  return isApiException(error) ? error.code : undefined;
}

/** Property values as HubSpot takes them: strings; null and undefined leave a property alone. */
export function hubspotProperties(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === null || value === undefined) continue;
    out[key] = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return out;
}
