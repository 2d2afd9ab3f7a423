// The sender's headers kept with each receipt: bounded, credentials and signatures as present
// only, contacts masked; through the real service for accepted, duplicate and quarantined
// deliveries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACTED, senderHeaders } from '../src/ingest/sender-headers.js';
import { fixture } from './support/fixtures.js';
import { startTestService, type TestService } from './support/test-service.js';

describe('senderHeaders', () => {
  it('keeps ordinary headers, redacts credentials and signatures, drops cookies and masks contacts', () => {
    const kept = senderHeaders({
      'user-agent': 'autocalls-webhooks/2.1',
      authorization: 'Bearer sk_live_123',
      'x-retell-signature': 'v=1,d=abc',
      'x-vapi-secret': 'shh',
      'x-api-key': 'k',
      cookie: 'session=1',
      'x-caller': '+4915112345678',
      'x-contact': 'jane.doe@example.com',
      'x-forwarded-for': '203.0.113.7, 10.0.0.1',
      'accept-encoding': ['gzip', 'br'] as unknown as string,
    });
    expect(kept['user-agent']).toBe('autocalls-webhooks/2.1');
    for (const name of ['authorization', 'x-retell-signature', 'x-vapi-secret', 'x-api-key']) expect(kept[name]).toBe(REDACTED);
    expect(kept).not.toHaveProperty('cookie');
    expect(kept['x-caller']).not.toContain('12345678');
    expect(kept['x-contact']).not.toContain('jane.doe');
    expect(kept['x-forwarded-for']).toBe('203.0.113.7, 10.0.0.1');
    expect(kept['accept-encoding']).toBe('gzip, br');
    expect(JSON.stringify(kept)).not.toMatch(/sk_live|shh|session=1/);
  });

  it('keeps at most 32 headers of at most 256 characters, names up to 64', () => {
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`x-h${i}`, 'v'.repeat(10_000)]));
    const kept = senderHeaders({ ...many, ['x-' + 'n'.repeat(100)]: 'long name' });
    expect(Object.keys(kept)).toHaveLength(32);
    expect(Object.values(kept).every((v) => v.length === 256)).toBe(true);
    expect(Object.keys(kept).some((k) => k.length > 64)).toBe(false);
  });
});

describe('sender headers through the service', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ 'log.yaml': 'name: log-only\nsteps:\n  - id: note\n    use: log\n    with: { message: hi }\n' });
  });
  afterAll(async () => {
    await service.cleanup();
  });

  it('stores them with the accepted delivery, each duplicate and a quarantined body', async () => {
    const body = { ...fixture<Record<string, unknown>>('seed-001-autocalls'), id: 4242 };
    expect((await service.post(body, { headers: { 'user-agent': 'first/1', 'x-request-id': 'up-1' } })).status).toBe(202);
    expect((await service.post(body, { headers: { 'user-agent': 'retry/2' } })).status).toBe(200);
    const [run] = await service.store.listRuns({ search: '4242' });
    const history = await service.store.getCallHistory(run!.sender, '4242');
    expect(history!.deliveries.map((d) => [d.outcome, d.headers?.['user-agent']])).toEqual([
      ['accepted', 'first/1'],
      ['duplicate', 'retry/2'],
    ]);
    expect(history!.deliveries[0]!.headers).toMatchObject({ 'x-request-id': 'up-1', 'content-type': 'application/json' });
    // The token in the Authorization header of a request never reaches the store.
    expect(JSON.stringify(history!.deliveries)).not.toContain(service.hookPath.split('/').pop()!);

    expect((await service.post('{not json', { headers: { 'user-agent': 'broken/0' } })).status).toBe(400);
    const [quarantined] = await service.store.listQuarantine(1);
    expect(quarantined!.headers?.['user-agent']).toBe('broken/0');
  });
});
