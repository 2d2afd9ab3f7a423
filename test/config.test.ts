import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('has working defaults for a newcomer (embedded SQLite, ./mappings, port 3000)', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      SQLITE_PATH: './data/aftercall.db',
      MAPPINGS_DIR: './mappings',
      SCHEMA_MODE: 'strict',
      TEST_DELIVERIES: 'run',
      LOG_LEVEL: 'info',
      BODY_LIMIT_BYTES: 2 * 1024 * 1024,
      WEBHOOK_TOKENS: [],
      WEBHOOK_SIGNATURE_HEADER: 'x-famulor-signature',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('parses lists and numbers', () => {
    const config = loadConfig({
      WEBHOOK_TOKENS: ' acme=aaaaaaaaaaaaaaaa , bbbbbbbbbbbbbbbb ',
      WEBHOOK_SIGNING_SECRET: 's1,s2',
      PORT: '8080',
      WEBHOOK_SIGNATURE_HEADER: 'X-Signature',
    });
    expect(config.WEBHOOK_TOKENS).toEqual(['acme=aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']);
    expect(config.WEBHOOK_SIGNING_SECRET).toEqual(['s1', 's2']);
    expect(config.PORT).toBe(8080);
    expect(config.WEBHOOK_SIGNATURE_HEADER).toBe('x-signature');
  });

  it('takes a PostgreSQL DATABASE_URL together with WEBHOOK_TOKENS', () => {
    const url = 'postgresql://aftercall:secret@db:5432/aftercall';
    expect(loadConfig({ DATABASE_URL: ` ${url} `, WEBHOOK_TOKENS: 'aaaaaaaaaaaaaaaa' }).DATABASE_URL).toBe(url);
    expect(loadConfig({}).DATABASE_URL).toBeUndefined();
    expect(loadConfig({}).DATABASE_POOL_SIZE).toBe(10);
    expect(loadConfig({ DATABASE_POOL_SIZE: '4' }).DATABASE_POOL_SIZE).toBe(4);
  });

  it('runs 32 runs at once and gives way to deliveries above half the event loop by default', () => {
    expect(loadConfig({})).toMatchObject({ WORKER_CONCURRENCY: 32, WORKER_YIELD_ABOVE_UTILIZATION: 0.5, WORKER_YIELD_ABOVE_RATE: 100 });
    expect(loadConfig({ WORKER_YIELD_ABOVE_UTILIZATION: '1' }).WORKER_YIELD_ABOVE_UTILIZATION).toBe(1);
    expect(loadConfig({ WORKER_YIELD_ABOVE_UTILIZATION: '0.25' }).WORKER_YIELD_ABOVE_UTILIZATION).toBe(0.25);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT: must be a number'],
    [{ PORT: '70000' }, 'PORT: must be at most 65535'],
    [{ SCHEMA_MODE: 'lenient' }, 'SCHEMA_MODE: must be strict or warn'],
    [{ TEST_DELIVERIES: 'dry' }, 'TEST_DELIVERIES: must be one of run, dry-run, skip'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: must be one of'],
    [{ RETRY_MAX_ATTEMPTS: '0' }, 'RETRY_MAX_ATTEMPTS: must be at least 1'],
    [{ RETRY_BASE_DELAY_MS: '5000', RETRY_MAX_DELAY_MS: '1000' }, 'RETRY_MAX_DELAY_MS: must be at least RETRY_BASE_DELAY_MS'],
    [{ WEBHOOK_TOKENS: 'short' }, 'WEBHOOK_TOKENS: every token must be at least 16 characters'],
    [{ ADMIN_TOKEN: 'tiny' }, 'ADMIN_TOKEN: must be at least 16 characters'],
    [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL: must be a URL'],
    [{ DATABASE_URL: 'mysql://db/x', WEBHOOK_TOKENS: 'aaaaaaaaaaaaaaaa' }, 'DATABASE_URL: must be a PostgreSQL URL'],
    [{ DATABASE_URL: 'postgres://db/x' }, 'WEBHOOK_TOKENS: must be set with DATABASE_URL'],
    [{ DATABASE_POOL_SIZE: '0' }, 'DATABASE_POOL_SIZE: must be at least 1'],
    [{ WORKER_YIELD_ABOVE_UTILIZATION: '0' }, 'WORKER_YIELD_ABOVE_UTILIZATION: must be more than 0'],
    [{ WORKER_YIELD_ABOVE_UTILIZATION: '1.5' }, 'WORKER_YIELD_ABOVE_UTILIZATION: must be at most 1'],
    [{ WORKER_YIELD_ABOVE_UTILIZATION: 'half' }, 'WORKER_YIELD_ABOVE_UTILIZATION: must be a number'],
    [{ WORKER_YIELD_ABOVE_RATE: '-1' }, 'WORKER_YIELD_ABOVE_RATE: must be at least 0'],
  ])('%j is refused with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
