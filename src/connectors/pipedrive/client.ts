// Pipedrive through the `pipedrive` SDK (API v2 for persons, deals and activities; notes exist
// only in v1): configuration, API objects kept across steps, and what Pipedrive's errors mean.
// The SDK is imported on first use (it takes most of a second to load).
import { z } from 'zod';
import type { v1, v2 } from 'pipedrive';
import { actionOf, classifyCommon, classifyFailure } from '../classify-failure.js';
import { ClientPool, stepAgent, withPooledClient, type Pooled, type StepAgent } from '../client-pool.js';
import { baseUrl, envConfig, type ConnectorConfigOf } from '../connector-config.js';
import { connectorStep, PermanentError, type ConnectorInstance, type StepContext } from '../connector.js';
import { evidenceOf, ExchangeLog, withEvidence, type VendorExchange } from '../evidence.js';
import { lazyImport } from '../load-sdk.js';
import { header, parseRetryAfter } from '../response-headers.js';

export const pipedriveEnv = envConfig(
  z.object({
    PIPEDRIVE_API_TOKEN: z.string().describe('Personal API token (Personal preferences → API), sent as the x-api-token header.'),
    PIPEDRIVE_BASE_URL: baseUrl
      .optional()
      .describe('API base without /v1 or /api/v2; unset: https://api.pipedrive.com (your company domain, https://acme.pipedrive.com, works too).'),
  }),
);

export interface PipedriveApis {
  persons: v2.PersonsApi;
  deals: v2.DealsApi;
  activities: v2.ActivitiesApi;
  notes: v1.NotesApi;
}

/** The SDK's axios instance (protected in its types). */
interface AxiosLike {
  interceptors: { response: { clear(): void; use(onFulfilled: (response: AxiosResponseLike) => unknown): unknown } };
}

interface AxiosConfigLike {
  method?: string;
  url?: string;
  baseURL?: string;
  params?: Record<string, unknown>;
}

interface AxiosResponseLike {
  status: number;
  headers: unknown;
  data: unknown;
  config?: AxiosConfigLike;
}

/** The output of Pipedrive's add steps. */
export const pipedriveRecord = z.object({ id: z.number().int().describe('Pipedrive record id.') });

/** The SDK, imported on first use; exported for the lookup's preload (it answers within a deadline). */
export const loadPipedrive = lazyImport(() => import('pipedrive'));

interface PooledPipedrive extends Pooled {
  agent: StepAgent;
  apis: PipedriveApis;
  /** The last answer read on this client: the evidence of a step whose code then fails on it. */
  log: ExchangeLog;
  configs: Array<{ baseOptions?: unknown }>;
}

export type PipedriveConfig = ConnectorConfigOf<typeof pipedriveEnv.schema>;

export interface PipedriveConnector extends ConnectorInstance {
  /**
   * Runs `work` with the Pipedrive APIs until the step's deadline (axios gets the timeout and the
   * abort signal); Pipedrive errors come back as TransientError / PermanentError. The API objects
   * and their keep-alive connections are kept for later steps.
   */
  withApis<T>(ctx: StepContext, action: string, work: (api: PipedriveApis) => Promise<T>): Promise<T>;
}

/** Pipedrive for one company: its API objects with their keep-alive agent, lent one step at a time. */
export function createPipedriveConnector(config: PipedriveConfig): PipedriveConnector {
  const base = config.PIPEDRIVE_BASE_URL ?? 'https://api.pipedrive.com';
  const https = /^https:/i.test(base);
  const pool = new ClientPool<PooledPipedrive>();
  return {
    async withApis(ctx, action, work) {
      const { v1: V1, v2: V2 } = await loadPipedrive();
      const create = (): PooledPipedrive => {
        const configV2 = new V2.Configuration({ apiKey: config.PIPEDRIVE_API_TOKEN, basePath: `${base}/api/v2` });
        const configV1 = new V1.Configuration({ apiKey: config.PIPEDRIVE_API_TOKEN, basePath: `${base}/v1` });
        const log = new ExchangeLog();
        return {
          agent: stepAgent(base),
          configs: [configV1, configV2],
          log,
          apis: {
            persons: keepErrors(new V2.PersonsApi(configV2), log),
            deals: keepErrors(new V2.DealsApi(configV2), log),
            activities: keepErrors(new V2.ActivitiesApi(configV2), log),
            notes: keepErrors(new V1.NotesApi(configV1), log),
          },
        };
      };
      let lent: PooledPipedrive | undefined;
      try {
        return await withPooledClient(ctx, pool, base, create, (pooled, signal) => {
          lent = pooled;
          pooled.log.last = undefined;
          // Every request of this step: its timeout, its deadline signal and the client's agent.
          const options = { timeout: ctx.timeoutMs, signal, ...(https ? { httpsAgent: pooled.agent } : { httpAgent: pooled.agent }) };
          for (const c of pooled.configs) c.baseOptions = options;
          return work(pooled.apis);
        });
      } catch (error) {
        const e = error as { config?: AxiosConfigLike; response?: AxiosResponseLike } | null;
        const exchange = evidenceOf(error) ?? axiosExchange(e?.config, e?.response) ?? lent?.log.last;
        throw withEvidence(classifyPipedriveError(`Pipedrive (${actionOf(error, action)})`, error), exchange);
      }
    },
    close: () => pool.close(),
  };
}

/** The step kinds of Pipedrive. */
export const pipedriveStep = connectorStep<PipedriveConnector, PipedriveConfig>();

/** An axios request and its answer as evidence (the SDK builds full URLs; params may come apart). */
function axiosExchange(config: AxiosConfigLike | undefined, response: AxiosResponseLike | undefined): VendorExchange | undefined {
  if (!config?.url) return undefined;
  let url: URL;
  try {
    url = new URL(config.url, config.baseURL);
  } catch {
    return undefined;
  }
  for (const [name, value] of Object.entries(config.params ?? {})) if (value !== undefined && value !== null) url.searchParams.append(name, String(value));
  return { method: config.method ?? 'get', url, ...(response ? { status: response.status, body: response.data } : {}) };
}

/**
 * The SDK's error interceptor rejects with the response body alone (status and Retry-After
 * lost). Replace it: errors stay AxiosErrors, successes still resolve to the body.
 */
function keepErrors<A extends object>(api: A, log: ExchangeLog): A {
  const axios = (api as unknown as { axios: AxiosLike }).axios;
  axios.interceptors.response.clear();
  axios.interceptors.response.use((response) => {
    log.last = axiosExchange(response.config, response);
    return response.data;
  });
  return api;
}

interface AxiosErrorLike {
  isAxiosError?: boolean;
  code?: string;
  message?: string;
  response?: { status: number; headers: unknown; data: unknown };
}

export function classifyPipedriveError(action: string, error: unknown) {
  const e = error as AxiosErrorLike | null;
  if (e?.response) {
    return classifyFailure(action, {
      status: e.response.status,
      detail: pipedriveMessage(e.response.data),
      retryAfterMs: parseRetryAfter(header(e.response.headers, 'retry-after')),
    });
  }
  const common = classifyCommon(action, error);
  if (common) return common;
  if (e?.code === 'ERR_CANCELED') return classifyFailure(action, { network: 'no answer in time' });
  return classifyFailure(action, { network: e?.code ?? e?.message ?? String(error) });
}

/** `{success: false, error, error_info, code}` → "code: error (error_info)". */
function pipedriveMessage(data: unknown): string {
  if (typeof data === 'string') return data;
  const d = (data ?? {}) as { error?: unknown; error_info?: unknown; code?: unknown };
  const text = typeof d.error === 'string' ? d.error : JSON.stringify(data);
  const code = typeof d.code === 'string' ? `${d.code}: ` : '';
  return `${code}${text}${typeof d.error_info === 'string' ? ` (${d.error_info})` : ''}`;
}

/** Pipedrive answers `{success, data}`; the record id is in data.id. */
export function dataId(result: unknown): number {
  const id = (result as { data?: { id?: unknown } } | null)?.data?.id;
  // The answer itself is the step's evidence (withPipedrive attaches it).
  if (typeof id !== 'number') throw new PermanentError('Pipedrive answered without a record id');
  return id;
}
