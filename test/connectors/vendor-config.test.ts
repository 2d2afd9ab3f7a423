// envConfig: a connector's variables are read from the environment at every step, so a changed
// value counts from the next step, and validated only when a value changed.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentError } from '../../src/connectors/connector.js';
import { baseUrl, envConfig } from '../../src/connectors/connector-config.js';

const config = envConfig('Acme', z.object({ ACME_TOKEN: z.string(), ACME_BASE_URL: baseUrl.optional() }));

describe('envConfig', () => {
  it('sees a changed value at the next read, and validates only when one changed', () => {
    const env: Record<string, string | undefined> = { ACME_TOKEN: ' t1 ', ACME_BASE_URL: 'http://127.0.0.1:9/' };
    const first = config.read(env);
    expect(first).toEqual({ ACME_TOKEN: 't1', ACME_BASE_URL: 'http://127.0.0.1:9' });
    expect(config.read(env)).toBe(first); // unchanged: the validated values of the last read
    env.ACME_TOKEN = 't2';
    expect(config.read(env)).toEqual({ ACME_TOKEN: 't2', ACME_BASE_URL: 'http://127.0.0.1:9' });
    env.ACME_BASE_URL = 'ftp://x';
    expect(() => config.read(env)).toThrow(PermanentError);
    expect(config.missing(env)).toBe('ACME_BASE_URL (must start with http:// or https://)');
    env.ACME_BASE_URL = undefined;
    env.ACME_TOKEN = '  ';
    expect(config.missing(env)).toBe('ACME_TOKEN');
    expect(config.missing({ ...env, ACME_TOKEN: 'x' })).toBeNull(); // another object: read afresh
  });
});
