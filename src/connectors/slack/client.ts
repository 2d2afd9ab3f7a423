// Slack through its official clients: @slack/web-api (chat.postMessage with a bot token) and
// @slack/webhook (incoming webhook URLs). Configuration, clients kept across steps (each with its
// keep-alive agent, requests on node:http via step-fetch.ts), and what Slack's answers mean.
// Both SDKs' own retries are off (retries: 0, rate-limited calls rejected at once): only the
// worker retries, and it honours Retry-After.
import { z } from 'zod';
import type { IncomingWebhook } from '@slack/webhook';
import type { Logger as SlackLogger, LogLevel, WebClient } from '@slack/web-api';
import { ClientPool, stepAgent, withPooledClient, type Pooled, type StepAgent } from '../client-pool.js';
import { baseUrl, envConfig, type ConnectorConfigOf } from '../connector-config.js';
import { connectorStep, PermanentError, TransientError, type ConnectorInstance, type StepContext } from '../connector.js';
import { sendContext } from '../deadline.js';
import { withEvidence } from '../evidence.js';
import { lazyImport } from '../load-sdk.js';
import { classifySlackError } from './errors.js';
import { stepFetch, type SlackHttp } from './step-fetch.js';

/** http(s) only: an incoming webhook URL is posted to as it is. */
export const webhookUrl = z
  .string()
  .url('must be a URL like https://hooks.slack.com/services/T…/B…/…')
  .refine((v) => /^https?:\/\//i.test(v), 'must start with https:// (or http:// for a local stub)');

export const slackEnv = envConfig(
  z
    .object({
      SLACK_BOT_TOKEN: z
        .string()
        .regex(/^xox[bp]-/, 'must be a bot token (xoxb-…) or a user token (xoxp-…)')
        .optional()
        .describe('Bot token (xoxb-…) of a Slack app with the chat:write scope, for steps that name a channel (chat.postMessage). The app must be a member of the channel.'),
      SLACK_WEBHOOK_URL: webhookUrl
        .optional()
        .describe('Incoming webhook URL (https://hooks.slack.com/services/…) for steps that name no channel and no webhook_url. It is a credential: keep it in the environment.'),
      SLACK_BASE_URL: baseUrl.optional().describe('Replaces https://slack.com/api (the Web API base) for a local stub or a proxy.'),
    })
    .describe('A step with a channel needs SLACK_BOT_TOKEN; a step without one posts to its webhook_url or SLACK_WEBHOOK_URL.'),
);

export type SlackConfig = ConnectorConfigOf<typeof slackEnv.schema>;

const loadWebApi = lazyImport(() => import('@slack/web-api'));
const loadWebhook = lazyImport(() => import('@slack/webhook'));

/** The Web API's base, as the SDK defaults it. */
export const SLACK_API_URL = 'https://slack.com/api';

/**
 * The SDK's own log lines (its console logger) are dropped: a client serves many steps, so they
 * could not carry the step's ids, and they would quote request bodies. Failures reach the step's
 * log through the classified errors.
 */
const SILENT: SlackLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => 'error' as LogLevel,
  setName() {},
};

interface PooledSlack extends Pooled {
  agent: StepAgent;
  http: SlackHttp;
  /** The Web API client (bot token) on this agent; null for a webhook's client. */
  web: WebClient | null;
}

/** The two ways a message goes out, given the client of the step. */
export type SlackSend<T> =
  | { via: 'api'; work: (client: WebClient) => Promise<T> }
  | { via: 'webhook'; url: string; work: (hook: IncomingWebhook) => Promise<T> };

export interface SlackConnector extends ConnectorInstance {
  config: SlackConfig;
  /**
   * Runs one send until the step's deadline, with a pooled client (and its keep-alive
   * connection) for the Web API or the webhook's host. A shutdown stops the step only before the
   * request leaves; at the deadline the client's agent is retired (its request destroyed) and
   * the client discarded. Failures come back classified, with the exchange as evidence.
   */
  send<T>(ctx: StepContext, action: string, send: SlackSend<T>): Promise<T>;
}

/** Slack for one bot token and one default webhook: clients lent one step at a time. */
export function createSlackConnector(config: SlackConfig): SlackConnector {
  const apiUrl = `${config.SLACK_BASE_URL ?? SLACK_API_URL}/`;
  const pool = new ClientPool<PooledSlack>();
  return {
    config,
    async send(ctx, action, send) {
      const sendCtx = sendContext(ctx);
      const target = send.via === 'api' ? apiUrl : send.url;
      const WebClient = send.via === 'api' ? (await loadWebApi()).WebClient : null;
      const IncomingWebhook = send.via === 'webhook' ? (await loadWebhook()).IncomingWebhook : null;
      const create = (): PooledSlack => {
        const agent = stepAgent(target);
        // A webhook URL's path is its credential: evidence shows only its host.
        const http = stepFetch(agent, send.via === 'webhook' ? (url) => `${url.origin}/[secret]` : undefined);
        const web = WebClient
          ? new WebClient(config.SLACK_BOT_TOKEN, {
              slackApiUrl: apiUrl,
              fetch: http.fetch,
              retryConfig: { retries: 0 },
              rejectRateLimitedCalls: true,
              timeout: 0, // the step's deadline and the request's timeout are ours (step-fetch.ts)
              logger: SILENT,
              allowAbsoluteUrls: false,
            })
          : null;
        return { agent, http, web };
      };
      const key = send.via === 'api' ? 'api' : `webhook ${new URL(send.url).origin}`;
      let lent: PooledSlack | undefined;
      try {
        return await withPooledClient(sendCtx, pool, key, create, async (pooled) => {
          lent = pooled;
          pooled.http.timeoutMs = ctx.timeoutMs;
          pooled.http.log.last = undefined;
          try {
            if (send.via === 'api') return await send.work(pooled.web!);
            const hook = new IncomingWebhook!(send.url, { fetch: pooled.http.fetch, retryConfig: { retries: 0 }, timeout: 0 });
            return await send.work(hook);
          } catch (error) {
            throw withEvidence(classifySlackError(action, error, pooled.http.lastAnswer), pooled.http.log.last);
          }
        });
      } catch (error) {
        throw error instanceof TransientError || error instanceof PermanentError
          ? error
          : withEvidence(classifySlackError(action, error, undefined), lent?.http.log.last);
      }
    },
    close: () => pool.close(),
  };
}

/** The step kinds of Slack. */
export const slackStep = connectorStep<SlackConnector, SlackConfig>();
