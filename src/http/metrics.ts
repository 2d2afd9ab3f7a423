// Prometheus metrics of the receiving side (prom-client), on a registry of our own.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  deliveries: Counter<'outcome'>;
  unknownKeys: Counter;
  ingestSeconds: Histogram;
  runsSettled: Counter<'outcome'>;
  stepSeconds: Histogram<'connector' | 'kind' | 'outcome'>;
  stepErrors: Counter<'connector' | 'kind' | 'class'>;
  mappingReloadErrors: Counter;
  connectionsRefused: Counter<'reason'>;
  inboundRequests: Counter<'outcome'>;
  inboundLookups: Counter<'kind' | 'outcome'>;
  inboundAnswerSeconds: Histogram;
  inboundRecordFailures: Counter;
}

/** Read when Prometheus scrapes: values that live in the store. */
export interface MetricsSources {
  runsByStatus(): Promise<Record<string, number>>;
  queue(now: number): Promise<{ depth: number; oldestDueAt: number | null }>;
  /** The worker's step limit (lowered while it gives way to deliveries) and its steps. */
  workerSteps?(): { limit: number; executing: number; waiting: number };
}

export function createMetrics(sources?: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'aftercall_' });
  if (sources) registerStoreGauges(registry, sources);
  return {
    registry,
    deliveries: new Counter({
      name: 'aftercall_deliveries_total',
      help: 'Webhook deliveries by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    unknownKeys: new Counter({
      name: 'aftercall_payload_unknown_keys_total',
      help: 'Unknown payload keys accepted in SCHEMA_MODE=warn',
      registers: [registry],
    }),
    ingestSeconds: new Histogram({
      name: 'aftercall_ingest_seconds',
      help: 'Time from request to durable acknowledgement',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    runsSettled: new Counter({
      name: 'aftercall_runs_settled_total',
      help: 'Run executions by outcome (retrying counts retries; dead counts dead letters)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    stepSeconds: new Histogram({
      name: 'aftercall_step_seconds',
      help: 'Duration of step executions by connector, step kind and outcome',
      labelNames: ['connector', 'kind', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    stepErrors: new Counter({
      name: 'aftercall_step_errors_total',
      help: 'Failed step executions by connector, step kind and class (transient or permanent)',
      labelNames: ['connector', 'kind', 'class'],
      registers: [registry],
    }),
    mappingReloadErrors: new Counter({
      name: 'aftercall_mapping_reload_errors_total',
      help: 'Mapping reloads that found a broken file (its last good version stays active)',
      registers: [registry],
    }),
    connectionsRefused: new Counter({
      name: 'aftercall_connections_refused_total',
      help: 'Connections closed at once because MAX_CONNECTIONS (total) or MAX_CONNECTIONS_PER_CLIENT (per_client) was reached',
      labelNames: ['reason'],
      registers: [registry],
    }),
    inboundRequests: new Counter({
      name: 'aftercall_inbound_requests_total',
      help: 'Inbound-call variable requests by outcome (answered, deadline: answered with defaults for late lookups, invalid, unauthorized, …)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    inboundLookups: new Counter({
      name: 'aftercall_inbound_lookups_total',
      help: 'Inbound lookups by kind and outcome (ok, cached, timeout, failed, skipped)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    inboundAnswerSeconds: new Histogram({
      name: 'aftercall_inbound_answer_seconds',
      help: 'Time from an inbound-call request to its answer',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2],
      registers: [registry],
    }),
    inboundRecordFailures: new Counter({
      name: 'aftercall_inbound_record_failures_total',
      help: 'Inbound requests answered but not stored (the store failed after the answer)',
      registers: [registry],
    }),
  };
}

function registerStoreGauges(registry: Registry, sources: MetricsSources): void {
  const { workerSteps } = sources;
  if (workerSteps) {
    new Gauge({
      name: 'aftercall_worker_step_limit',
      help: 'Steps the worker may execute at once now: below WORKER_CONCURRENCY while it gives way to deliveries',
      registers: [registry],
      collect() {
        this.set(workerSteps().limit);
      },
    });
    new Gauge({
      name: 'aftercall_worker_steps_waiting',
      help: 'Steps of claimed runs waiting for the worker to stop giving way to deliveries',
      registers: [registry],
      collect() {
        this.set(workerSteps().waiting);
      },
    });
  }
  new Gauge({
    name: 'aftercall_runs',
    help: 'Runs in the store by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [status, n] of Object.entries(await sources.runsByStatus())) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'aftercall_queue_depth',
    help: 'Runs due for execution and not yet claimed',
    registers: [registry],
    async collect() {
      this.set((await sources.queue(Date.now())).depth);
    },
  });
  new Gauge({
    name: 'aftercall_queue_oldest_due_seconds',
    help: 'How long the oldest due run has waited (queue lag)',
    registers: [registry],
    async collect() {
      const now = Date.now();
      const { oldestDueAt } = await sources.queue(now);
      this.set(oldestDueAt === null ? 0 : Math.max(0, (now - oldestDueAt) / 1000));
    },
  });
}

export { connectorOf } from '../connectors/connector.js';
