// Wires the parts together: store, mappings, worker, ingest core and HTTP. Also the
// graceful stop: stop accepting, let running steps finish or release them, close the store.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import type { Connector } from './connectors/connector.js';
import { closeConnectors, createConnectors, stepKinds } from './connectors/index.js';
import { createRequestHandler } from './http/app.js';
import { answerClientErrors } from './http/client-errors.js';
import { limitConnections } from './http/connection-limits.js';
import { connectorOf, createMetrics } from './http/metrics.js';
import { connectorLimit } from './worker/bulkhead.js';
import { createDeliveryReceiver } from './ingest/receive-delivery.js';
import { vapiSignatureFor } from './ingest/signatures/vapi.js';
import { createInboundAnswerer, preloadLookups } from './ingest/inbound/answer-inbound.js';
import { LookupCache } from './ingest/inbound/lookup-cache.js';
import { createInboundReceiver } from './ingest/inbound/receive-inbound.js';
import { createWebhookTokens, resolveWebhookTokens } from './ingest/webhook-tokens.js';
import { createLogger, terminalDestination, type Logger } from './logger.js';
import { loadMappingDir } from './mapping/load-mappings.js';
import { MappingRegistry } from './mapping/mapping-registry.js';
import { watchMappingDir } from './mapping/mapping-watcher.js';
import { openStore } from './store/open-store.js';
import { scheduleRetention } from './store/retention.js';
import type { Store } from './store/store.js';
import { createIngestPriority } from './worker/ingest-priority.js';
import { createWorker, type Worker } from './worker/worker.js';

/** Idle time a kept-alive connection stays open: longer than load balancers' idle timeouts (60 s), so they close first. */
const KEEP_ALIVE_MS = 65_000;
const CONNECTIONS_CHECK_MS = 1_000;

export interface RunningService {
  server: Server;
  store: Store;
  worker: Worker;
  mappings: MappingRegistry;
  logger: Logger;
  /** http://host:port as bound (port 0 resolves to the real port), reachable from this machine. */
  baseUrl: string;
  /** The address and port the server listens on, as bound (`0.0.0.0:3000`: every interface). */
  bindAddress: string;
  /** The Runs page, under PUBLIC_URL; null without ADMIN_TOKEN (the page is off). */
  runsPageUrl: string | null;
  /** The webhook URL to paste into the assistant settings. */
  webhookUrl: string;
  /** Path of the generated token file, when aftercall manages the token. */
  tokenFile: string | null;
  /**
   * Resolves when the store can no longer work and will not recover by itself (its SQLite
   * thread died): deliveries get 503 from then on, and the process should stop and be
   * restarted (`aftercall serve` does so, with exit code 1).
   */
  fatal: Promise<Error>;
  stop(): Promise<void>;
}

export interface ServiceParts {
  /** The connectors to offer mappings (default: every registered connector, built from the environment at start). */
  connectors?: readonly Connector[];
}

export async function startService(
  config: Config,
  logger: Logger = createLogger(config.LOG_LEVEL, terminalDestination()),
  parts: ServiceParts = {},
): Promise<RunningService> {
  // Built once, here: each connector's variables read and frozen, its clients kept until stop.
  const connectors = parts.connectors ?? createConnectors(process.env);
  const kinds = stepKinds(connectors);
  const mappings = new MappingRegistry(loadMappingDir(config.MAPPINGS_DIR, kinds));
  const tokens = resolveWebhookTokens(config.WEBHOOK_TOKENS, config.SQLITE_PATH);
  let reportFatal: (error: Error) => void = () => undefined;
  const fatal = new Promise<Error>((resolve) => {
    reportFatal = resolve;
  });
  const store = await openStore(config, {
    ownsQueue: true,
    onFatal: (error) => {
      logger.fatal({ err: error }, 'the store stopped working and cannot recover (its SQLite thread died); aftercall must be restarted');
      reportFatal(error);
    },
  });
  const retention = scheduleRetention(store, config.RETENTION_DAYS, logger);
  const ingestPriority = createIngestPriority({
    concurrency: config.WORKER_CONCURRENCY,
    ceiling: config.WORKER_YIELD_ABOVE_UTILIZATION,
    minRate: config.WORKER_YIELD_ABOVE_RATE,
  });
  const metrics = createMetrics({
    runsByStatus: () => store.countRunsByStatus(),
    queue: (now) => store.queueStats(now),
    workerSteps: () => ingestPriority.stats(),
  });
  const watcher = watchMappingDir(config.MAPPINGS_DIR, kinds, mappings, logger, {
    onProblems: () => metrics.mappingReloadErrors.inc(),
  });
  let shuttingDown = false;

  const worker = createWorker({
    store,
    mappings,
    logger,
    ingestPriority,
    options: {
      concurrency: config.WORKER_CONCURRENCY,
      connectorConcurrency: connectorLimit(config.CONNECTOR_CONCURRENCY, config.WORKER_CONCURRENCY),
      pollIntervalMs: config.WORKER_POLL_INTERVAL_MS,
      leaseMs: config.LEASE_MS,
      stepTimeoutMs: config.STEP_TIMEOUT_MS,
      maxAttempts: config.RETRY_MAX_ATTEMPTS,
      backoff: { baseMs: config.RETRY_BASE_DELAY_MS, maxMs: config.RETRY_MAX_DELAY_MS },
      testDeliveries: config.TEST_DELIVERIES,
      // Run links need the address users reach (PUBLIC_URL) and the page itself (ADMIN_TOKEN).
      ...(config.PUBLIC_URL && config.ADMIN_TOKEN ? { runsPageUrl: `${config.PUBLIC_URL.replace(/\/+$/, '')}/admin` } : {}),
    },
    onRunSettled: (_run, outcome) => metrics.runsSettled.inc({ outcome }),
    onStepSettled: ({ kind, outcome, seconds }) => {
      const connector = connectorOf(kind);
      metrics.stepSeconds.observe({ connector, kind, outcome }, seconds);
      if (outcome !== 'succeeded') metrics.stepErrors.inc({ connector, kind, class: outcome });
    },
  });
  const webhookTokens = createWebhookTokens(tokens.entries);
  const receiver = createDeliveryReceiver({
    store,
    mappings,
    tokens: webhookTokens,
    signingSecrets: config.WEBHOOK_SIGNING_SECRET,
    platformSecrets: {
      retell: config.RETELL_WEBHOOK_SECRETS,
      vapi: config.VAPI_WEBHOOK_SECRETS,
      elevenlabs: config.ELEVENLABS_WEBHOOK_SECRETS,
      synthflow: config.SYNTHFLOW_WEBHOOK_SECRETS,
      bland: config.BLAND_WEBHOOK_SECRETS,
    },
    ...(config.VAPI_HMAC_PLAN ? { signatureSchemes: { vapi: vapiSignatureFor(config.VAPI_HMAC_PLAN) } } : {}),
    // The inbound receiver is made below; pre-call requests reach it only once requests are served.
    precall: (request) => inbound.answerPlatform(request),
    bodyLimit: config.BODY_LIMIT_BYTES,
    schemaMode: config.SCHEMA_MODE,
    testDeliveries: config.TEST_DELIVERIES,
    logger,
    metrics,
    onDelivery: () => ingestPriority.noteDelivery(),
    onAccepted: () => worker.wake(),
    isShuttingDown: () => shuttingDown,
  });
  const inbound = createInboundReceiver({
    store,
    mappings,
    tokens: webhookTokens,
    signingSecrets: config.WEBHOOK_SIGNING_SECRET,
    bodyLimit: config.BODY_LIMIT_BYTES,
    deadlineMs: config.INBOUND_DEADLINE_MS,
    answerer: createInboundAnswerer({
      kinds,
      store,
      cache: new LookupCache(config.INBOUND_CACHE_TTL_MS, config.INBOUND_CACHE_MAX_ENTRIES),
      deadlineMs: config.INBOUND_DEADLINE_MS,
      logger,
      metrics,
    }),
    logger,
    metrics,
    isShuttingDown: () => shuttingDown,
  });
  await preloadLookups(mappings.current(), kinds).catch((error: unknown) => logger.warn({ err: error }, 'could not preload a vendor SDK of an inbound lookup'));
  const handler = createRequestHandler({ config, receiver, inbound, store, mappings, metrics, logger, onRequeued: () => worker.wake() });

  const listening = new Promise<Server>((resolve, reject) => {
    const s = createServer(
      {
        headersTimeout: config.HEADERS_TIMEOUT_MS,
        requestTimeout: config.REQUEST_TIMEOUT_MS,
        // Both timeouts are enforced at this granularity (Node's default is 30 s).
        connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
        keepAliveTimeout: KEEP_ALIVE_MS,
      },
      handler,
    ).listen(config.PORT, config.HOST, () => resolve(s));
    s.once('error', reject);
  });
  // A port in use: close what was opened, so the caller can report it and exit cleanly.
  const server = await listening.catch(async (error: unknown) => {
    watcher.close();
    retention.stop();
    await worker.stop(0);
    await closeConnectors(connectors);
    await store.close();
    throw error;
  });
  limitConnections(server, {
    total: config.MAX_CONNECTIONS,
    perClient: config.MAX_CONNECTIONS_PER_CLIENT,
    onRefused: (reason) => metrics.connectionsRefused.inc({ reason }),
  });
  answerClientErrors(server);
  const { port, address, family } = server.address() as AddressInfo;
  const bindAddress = family === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}`;
  const baseUrl = `http://${config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST}:${port}`;
  const publicBase = (config.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  const webhookUrl = `${publicBase}/webhooks/post-call/${tokens.managedToken ?? '<one of WEBHOOK_TOKENS>'}`;
  const runsPageUrl = config.ADMIN_TOKEN ? `${publicBase}/admin` : null;
  worker.start();
  logger.info({ address: bindAddress, store: store.kind, mappings: mappings.current().map((m) => m.name) }, 'aftercall is listening');

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      shuttingDown = true;
      watcher.close();
      retention.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await worker.stop(config.SHUTDOWN_TIMEOUT_MS);
      await closeConnectors(connectors); // kept vendor clients and their idle connections
      server.closeAllConnections();
      await closed;
      await store.close();
      logger.info('aftercall stopped');
    })());

  return { server, store, worker, mappings, logger, baseUrl, bindAddress, runsPageUrl, webhookUrl, tokenFile: tokens.generatedFile, fatal, stop };
}
