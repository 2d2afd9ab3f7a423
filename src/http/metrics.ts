// Prometheus metrics of the receiving side (prom-client), on a registry of our own.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type DeliveryOutcome =
  | 'accepted'
  | 'duplicate'
  | 'invalid'
  | 'malformed'
  | 'unauthorized'
  | 'too_large'
  | 'unsupported_media_type'
  | 'unavailable';

export interface Metrics {
  registry: Registry;
  deliveries: Counter<'outcome'>;
  unknownKeys: Counter;
  ingestSeconds: Histogram;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'aftercall_' });
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
  };
}
