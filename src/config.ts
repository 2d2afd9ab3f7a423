// All configuration, read once from the environment (and `.env`), validated, frozen.
// An invalid value stops the start with a message naming the variable.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { TEST_DELIVERY_MODES } from './payload/test-request.js';
import { vapiHmacPlanSchema } from './ingest/signatures/vapi.js';

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(def);
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() ? v.trim() : undefined));
const list = optionalText.transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []));

/** The most runs (and so steps) a worker executes at once. */
export const MAX_WORKER_CONCURRENCY = 256;

const envSchema = z.object({
  PORT: int(3000, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  /** Base URL printed for the assistant settings; defaults to http://localhost:PORT. */
  PUBLIC_URL: optionalText.pipe(z.string().url('must be a URL like https://hooks.example.com').optional()),
  WEBHOOK_TOKENS: list,
  WEBHOOK_SIGNING_SECRET: list,
  WEBHOOK_SIGNATURE_HEADER: z.string().default('x-famulor-signature').transform((s) => s.toLowerCase()),
  /** Each other platform's signing secrets (several for rotation); when set, its signature is required on /webhooks/<platform>. */
  RETELL_WEBHOOK_SECRETS: list,
  VAPI_WEBHOOK_SECRETS: list,
  ELEVENLABS_WEBHOOK_SECRETS: list,
  SYNTHFLOW_WEBHOOK_SECRETS: list,
  BLAND_WEBHOOK_SECRETS: list,
  /**
   * The Vapi credential's HMAC plan as JSON, where it differs from Vapi's defaults: the same
   * names as Vapi's HmacAuthenticationPlan (`signatureHeader`, `timestampHeader`, `payloadFormat`, …).
   */
  VAPI_HMAC_PLAN: optionalText.pipe(
    z
      .string()
      .transform((text, ctx) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be JSON like {"signatureHeader":"x-vapi-signature","includeTimestamp":false}' });
          return z.NEVER;
        }
      })
      .pipe(vapiHmacPlanSchema)
      .optional(),
  ),
  SQLITE_PATH: z.string().default('./data/aftercall.db'),
  /** How long a write waits for a lock held by another process (e.g. a CLI command). */
  SQLITE_BUSY_TIMEOUT_MS: int(5_000, 0, 60_000),
  /** Heap limit (MB) of the SQLite store's thread; 0: the process's own. */
  SQLITE_THREAD_HEAP_MB: int(0, 0, 65_536),
  DATABASE_URL: optionalText,
  /** Connections each instance keeps to PostgreSQL (instances × this must fit the server's max_connections). */
  DATABASE_POOL_SIZE: int(10, 1, 1_000),
  MAPPINGS_DIR: z.string().default('./mappings'),
  /** What deliveries marked as tests (the platform's sample payload, X-Aftercall-Test) do: run, dry-run or skip. */
  TEST_DELIVERIES: z.enum(TEST_DELIVERY_MODES, { message: 'must be one of run, dry-run, skip' }).default('run'),
  SCHEMA_MODE: z.enum(['strict', 'warn'], { message: 'must be strict or warn' }).default('strict'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      message: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  BODY_LIMIT_BYTES: int(2 * 1024 * 1024, 1024),
  /** Requests per minute per client address with a valid credential; 0 turns both limiters off. */
  RATE_LIMIT_PER_MINUTE: int(600),
  /**
   * Requests per minute per client address that carry no valid credential (no or a wrong
   * webhook token, admin token or session), counted apart from RATE_LIMIT_PER_MINUTE.
   */
  RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: int(30),
  /** Express `trust proxy` hop count, so the rate limit sees real client addresses. */
  TRUST_PROXY: int(0, 0, 10),
  /** A request's headers must arrive within this (slow clients hold a connection each). */
  HEADERS_TIMEOUT_MS: int(5_000, 1_000, 300_000),
  /** The whole request, body included, must arrive within this. */
  REQUEST_TIMEOUT_MS: int(15_000, 1_000, 300_000),
  /** Open connections at once, kept below the process's file descriptor limit; 0: no cap. */
  MAX_CONNECTIONS: int(768, 0, 1_000_000),
  /** Open connections at once from one client address (the peer: a proxy counts as one); 0: no cap. */
  MAX_CONNECTIONS_PER_CLIENT: int(128, 0, 1_000_000),
  RETRY_MAX_ATTEMPTS: int(8, 1, 100),
  RETRY_BASE_DELAY_MS: int(2_000, 1),
  RETRY_MAX_DELAY_MS: int(3_600_000, 1),
  WORKER_CONCURRENCY: int(32, 1, MAX_WORKER_CONCURRENCY),
  /**
   * Steps of one connector (for http.request: one receiver host) running at once; 0: half of
   * WORKER_CONCURRENCY. A step whose connector stays full gives its run back (no attempt spent).
   */
  CONNECTOR_CONCURRENCY: int(0, 0, MAX_WORKER_CONCURRENCY),
  /**
   * While deliveries arrive, the worker lowers its active runs whenever the event loop is
   * busier than this share (0–1), so acks stay fast; 1 turns this off.
   */
  WORKER_YIELD_ABOVE_UTILIZATION: z.coerce
    .number({ message: 'must be a number' })
    .gt(0, 'must be more than 0')
    .max(1, 'must be at most 1')
    .default(0.5),
  /** ... and only while deliveries arrive at least this fast (per second; 0: at any rate). */
  WORKER_YIELD_ABOVE_RATE: int(100, 0, 1_000_000),
  WORKER_POLL_INTERVAL_MS: int(1_000, 10),
  LEASE_MS: int(60_000, 1_000),
  STEP_TIMEOUT_MS: int(15_000, 100),
  SHUTDOWN_TIMEOUT_MS: int(15_000, 0),
  /** Days to keep raw payloads and transcripts; 0 keeps them forever. */
  RETENTION_DAYS: int(0, 0, 36_500),
  ADMIN_TOKEN: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** When set, /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /**
   * The inbound-call request is answered within this (the platform waits at most 2 s): lookups
   * still running then are given up and their variables answered with the defaults.
   */
  INBOUND_DEADLINE_MS: int(1_500, 50, 10_000),
  /** How long a lookup's result is reused for the same caller (a redial, a dropped call); 0: not cached. */
  INBOUND_CACHE_TTL_MS: int(60_000, 0, 86_400_000),
  /** Lookup results kept at most in that cache (least recently used go first). */
  INBOUND_CACHE_MAX_ENTRIES: int(10_000, 1, 1_000_000),
  /** /readyz turns not-ready when the oldest due run has waited longer than this. */
  READY_MAX_QUEUE_LAG_MS: int(300_000, 1_000),
});

export type Config = Readonly<z.infer<typeof envSchema>>;

/** Every variable the service reads (connectors add their own; see docs/connectors.md). */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape) as Array<keyof Config>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const config = parsed.data;
  const problems: string[] = [];
  if (config.RETRY_MAX_DELAY_MS < config.RETRY_BASE_DELAY_MS) {
    problems.push('RETRY_MAX_DELAY_MS: must be at least RETRY_BASE_DELAY_MS');
  }
  if (config.REQUEST_TIMEOUT_MS < config.HEADERS_TIMEOUT_MS) {
    problems.push('REQUEST_TIMEOUT_MS: must be at least HEADERS_TIMEOUT_MS');
  }
  if (config.DATABASE_URL && !/^postgres(ql)?:\/\//i.test(config.DATABASE_URL)) {
    problems.push('DATABASE_URL: must be a PostgreSQL URL like postgres://user:password@host:5432/database');
  }
  if (config.DATABASE_URL && config.WEBHOOK_TOKENS.length === 0) {
    // A generated token is kept in a file of one machine: instances behind a load balancer
    // would each accept a different token.
    problems.push('WEBHOOK_TOKENS: must be set with DATABASE_URL, so every instance accepts the same tokens');
  }
  for (const entry of config.WEBHOOK_TOKENS) {
    const token = entry.includes('=') ? entry.slice(entry.indexOf('=') + 1) : entry;
    if (token.length < 16) problems.push('WEBHOOK_TOKENS: every token must be at least 16 characters');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** Reads `.env` from the working directory into process.env (existing variables win). */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
