// envConfig: a connector's variables parsed once, when the connectors are built: values trimmed
// and frozen, blank ones unset, and what is missing or invalid named by variable.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { baseUrl, envConfig } from '../../src/connectors/connector-config.js';

const config = envConfig(z.object({ ACME_TOKEN: z.string(), ACME_BASE_URL: baseUrl.optional() }));

describe('envConfig', () => {
  it('gives the validated values, frozen, or names what to set or fix', () => {
    const env: Record<string, string | undefined> = { ACME_TOKEN: ' t1 ', ACME_BASE_URL: 'http://127.0.0.1:9/' };
    const first = config.parse(env);
    expect(first).toEqual({ ok: true, config: { ACME_TOKEN: 't1', ACME_BASE_URL: 'http://127.0.0.1:9' } });
    expect(first.ok && Object.isFrozen(first.config)).toBe(true);
    env.ACME_TOKEN = 't2';
    expect(first.ok && first.config.ACME_TOKEN).toBe('t1'); // parsed once: a later change is not seen
    expect(config.parse(env)).toEqual({ ok: true, config: { ACME_TOKEN: 't2', ACME_BASE_URL: 'http://127.0.0.1:9' } });
    env.ACME_BASE_URL = 'ftp://x';
    expect(config.parse(env)).toEqual({ ok: false, missing: 'ACME_BASE_URL (must start with http:// or https://)' });
    env.ACME_BASE_URL = undefined;
    env.ACME_TOKEN = '  ';
    expect(config.parse(env)).toEqual({ ok: false, missing: 'ACME_TOKEN' });
  });
});
