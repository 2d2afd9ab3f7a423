// HubSpot through @hubspot/api-client: its configuration, and the connector built from it, which
// keeps the clients and write batches of its steps (errors.ts says what HubSpot's errors mean). The SDK (≈50 MB) is imported on first use so start-up and the CLI stay fast.
import { z } from 'zod';
import type { BasicApi, BatchApi, createConfiguration, PromiseConfigurationOptions, SearchApi } from '@hubspot/api-client/lib/codegen/crm/objects/index.js';
import { actionOf } from '../classify-failure.js';
import { ClientPool, stepAgent, withPooledClient, type Pooled, type StepAgent } from '../client-pool.js';
import { envConfig, stubUrl, type ConnectorConfigOf } from '../connector-config.js';
import { connectorStep, type ConnectorInstance, type StepContext } from '../connector.js';
import { evidenceOf, ExchangeLog, withEvidence } from '../evidence.js';
import { lazyImport } from '../load-sdk.js';
import { classifyHubSpotError } from './errors.js';
import { createWriteBatches, type WriteBatches } from './write-batches.js';

export const hubspotEnv = envConfig(
  z.object({
    HUBSPOT_ACCESS_TOKEN: z.string().describe('Private app access token (Settings → Integrations → Private apps), with the CRM scopes the steps use.'),
    HUBSPOT_BASE_URL: stubUrl('API base URL', 'https://api.hubapi.com', 'a sandbox proxy or a local stub'),
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
  /** The connector's write batches: creates and updates of steps running at once (write-batches.ts). */
  batches: WriteBatches;
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

/** The output of HubSpot's create and upsert steps: `steps.<id>.id` feeds associations. */
export const hubspotRecord = z.object({
  id: z.string().describe('HubSpot record id.'),
  created: z.boolean().describe('True when this step created the record, false when it found it (or an earlier attempt had made it).'),
});

/**
 * The SDK's CRM objects API, its client configurator and aftercall's transport for it, imported
 * on first use. A configuration is made as `new Client(...)` makes the one of `client.crm.objects`
 * (the configurator's auth, base URL and middleware) but with aftercall's `httpApi`: the SDK takes
 * no transport through Client, and a call-time `httpApi` is ignored (13.x sends through the
 * configuration's). Each call is given options that make the configured middleware run: in 13.x
 * a call without call-time middleware runs none of it, so the User-Agent header was silently
 * skipped (HubSpot/hubspot-api-nodejs#671, fixed in 14.0.1); appending none of our own keeps the
 * configured ones in force. Exported for the lookup's preload (it answers within a deadline).
 */
export const loadHubSpot = lazyImport(async () => {
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
  /** The last request sent on this client: the evidence of a step that fails. */
  log: ExchangeLog;
}

export type HubSpotConfig = ConnectorConfigOf<typeof hubspotEnv.schema>;

export interface HubSpotConnector extends ConnectorInstance {
  /**
   * Runs `work` with a HubSpot client until the step's deadline. The client and its keep-alive
   * connections are kept for later steps; the SDK takes no AbortSignal, so at the deadline the
   * client's agent is retired (its requests destroyed) and the client discarded. HubSpot errors
   * come back as TransientError / PermanentError. The SDK's own retries are not configured: they
   * ignore Retry-After; the worker retries.
   */
  withClient<T>(ctx: StepContext, action: string, work: (hubspot: HubSpot) => Promise<T>): Promise<T>;
}

/** HubSpot for one account: its clients (each with a keep-alive agent, lent one step at a time) and its write batches. */
export function createHubSpotConnector(config: HubSpotConfig): HubSpotConnector {
  const base = config.HUBSPOT_BASE_URL ?? 'https://api.hubapi.com';
  const pool = new ClientPool<PooledHubSpot>();
  const batches = createWriteBatches();
  return {
    async withClient(ctx, action, work) {
      const makeClient = await loadHubSpot();
      const create = (): PooledHubSpot => {
        const agent = stepAgent(base);
        const log = new ExchangeLog();
        return { agent, log, ...makeClient(config.HUBSPOT_ACCESS_TOKEN, base, agent, log) };
      };
      let lent: PooledHubSpot | undefined;
      try {
        return await withPooledClient(ctx, pool, base, create, (client, signal) => {
          lent = client;
          client.log.last = undefined;
          return work({ ...client, batches, signal });
        });
      } catch (error) {
        // A batch's error carries the exchange of the client it went out on (write-batches.ts).
        throw withEvidence(classifyHubSpotError(`HubSpot (${actionOf(error, action)})`, error), evidenceOf(error) ?? lent?.log.last);
      }
    },
    close: () => pool.close(),
  };
}

/** The step kinds of HubSpot. */
export const hubspotStep = connectorStep<HubSpotConnector, HubSpotConfig>();

/** Property values as HubSpot takes them: strings; null and undefined leave a property alone. */
export function hubspotProperties(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === null || value === undefined) continue;
    out[key] = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return out;
}
