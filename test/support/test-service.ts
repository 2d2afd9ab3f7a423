// The real service (SQLite file, mappings folder, worker, HTTP) on an ephemeral port, for
// end-to-end tests. Mapping files are written into a temp folder from YAML strings.
import { Writable } from 'node:stream';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startService, type RunningService, type ServiceParts } from '../../src/service.js';
import { tempDir } from './temp-dir.js';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

/** One mapping that takes every call and only logs it (debug): runs exist, nothing is sent. */
export const LOG_ONLY = { 'log.yaml': 'name: log-all\nsteps:\n  - id: note\n    use: log\n    with: { message: "call {{ call.id }}", level: debug }\n' };

export interface TestService extends RunningService {
  dir: string;
  config: Config;
  /** Webhook URL path with the token, relative to baseUrl. */
  hookPath: string;
  post(body: unknown, init?: { headers?: Record<string, string> }): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Wait until `predicate` is true, polling; fails after `timeoutMs`. */
  waitFor<T>(probe: () => Promise<T> | T, predicate: (value: T) => boolean, timeoutMs?: number): Promise<T>;
  cleanup(): Promise<void>;
  stopKeepingFiles(): Promise<void>;
}

export async function startTestService(
  mappings: Record<string, string>,
  env: Record<string, string> = {},
  /** Reuse the folder (database, token file) of an earlier service, e.g. to restart it. */
  reuse?: { dir: string },
  parts: ServiceParts & { logTo?: DestinationStream } = {},
): Promise<TestService> {
  const dir = reuse ? { path: reuse.dir, cleanup: () => rmSync(reuse.dir, { recursive: true, force: true }) } : tempDir();
  const mappingsDir = join(dir.path, 'mappings');
  mkdirSync(mappingsDir, { recursive: true });
  for (const [name, yaml] of Object.entries(mappings)) writeFileSync(join(mappingsDir, name), yaml);
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    SQLITE_PATH: join(dir.path, 'aftercall.db'),
    MAPPINGS_DIR: mappingsDir,
    WEBHOOK_TOKENS: TEST_TOKEN,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '0',
    WORKER_POLL_INTERVAL_MS: '50',
    RETRY_BASE_DELAY_MS: '20',
    RETRY_MAX_DELAY_MS: '200',
    STEP_TIMEOUT_MS: '2000',
    ...env,
  });
  const service = await startService(config, createLogger(config.LOG_LEVEL, parts.logTo), parts);
  const hookPath = `/webhooks/post-call/${TEST_TOKEN}`;
  return {
    ...service,
    dir: dir.path,
    config,
    hookPath,
    async post(body, init = {}) {
      const response = await fetch(service.baseUrl + hookPath, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...init.headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    async waitFor(probe, predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await probe();
        if (predicate(value)) return value;
        if (Date.now() > deadline) throw new Error(`waitFor timed out; last value: ${JSON.stringify(value)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async cleanup() {
      await service.stop();
      dir.cleanup();
    },
    /** Stops the service but keeps its folder, for a restart with `reuse`. */
    async stopKeepingFiles() {
      await service.stop();
    },
  };
}

/** A log destination for `logTo` that keeps every JSON line written to it, parsed. */
export function logCapture(): { sink: Writable; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { sink, lines };
}
