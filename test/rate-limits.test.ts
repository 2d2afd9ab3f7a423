// The rate limits: every path but the probes counts, and requests without a valid credential
// count in a stricter bucket of their own, so strangers (a flood of wrong tokens, unknown
// paths) from one address, or from everyone behind one proxy, take nothing from the senders
// and operators there. The client address is the socket's, or with TRUST_PROXY=N the Nth
// address from the right of X-Forwarded-For.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture } from './support/fixtures.js';
import { LOG_ONLY, startTestService, TEST_TOKEN, type TestService } from './support/test-service.js';

const ADMIN = 'admin-token-0123456789abcdef';
const WRONG = '/webhooks/post-call/not-the-token-0123456789';

let services: TestService[] = [];
afterEach(async () => {
  for (const s of services) await s.cleanup().catch(() => undefined);
  services = [];
});

async function start(env: Record<string, string>) {
  const service = await startTestService(LOG_ONLY, { ADMIN_TOKEN: ADMIN, ...env });
  services.push(service);
  return service;
}

let nextId = 940_000;
function call() {
  const c = fixture('seed-001-autocalls');
  c.id = nextId++;
  return JSON.stringify(c);
}

const deliver = (s: TestService, path: string, forwardedFor?: string) => {
  const req = request(s.server).post(path).set('content-type', 'application/json');
  if (forwardedFor) req.set('x-forwarded-for', forwardedFor);
  return req.send(call());
};

async function statuses(n: number, send: (i: number) => PromiseLike<{ status: number }>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send(i)).status);
  return out;
}

describe('rate limits', () => {
  it('count every path but /healthz, /readyz and /metrics', async () => {
    const s = await start({ RATE_LIMIT_PER_MINUTE: '100', RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '3' });
    expect(await statuses(4, () => request(s.server).get('/no-such-path'))).toEqual([404, 404, 404, 429]);
    expect((await request(s.server).get('/no-such-path')).body).toMatchObject({ code: 'RATE_LIMITED' });
    // Any other spelling of an unknown path is the same client's.
    expect((await request(s.server).get('/HEALTHZ-not')).status).toBe(429);
    for (const path of ['/healthz', '/readyz', '/metrics', '/HEALTHZ', '/readyz/']) {
      expect(await statuses(5, () => request(s.server).get(path))).not.toContain(429);
    }
  });

  it('a flood of wrong tokens gets 429 from its own bucket and leaves the senders behind the same proxy theirs', async () => {
    const s = await start({ RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '3', TRUST_PROXY: '1' });
    const proxied = '10.0.0.1';
    expect(await statuses(10, () => deliver(s, WRONG, proxied))).toEqual([401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
    const bad = await request(s.server).get('/api/runs').set('x-forwarded-for', proxied).set('authorization', 'Bearer wrong-admin-token-000');
    expect(bad.status).toBe(429);
    // The sender behind the same address: its full budget, counted apart.
    expect(await statuses(5, () => deliver(s, s.hookPath, proxied))).toEqual([202, 202, 202, 202, 202]);
    expect((await deliver(s, s.hookPath, proxied)).status).toBe(429);
    // The operator's token counts with the senders', not the strangers'.
    const s2 = await start({ RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '2', TRUST_PROXY: '1' });
    await statuses(4, () => deliver(s2, WRONG, proxied));
    const api = await request(s2.server).get('/api/runs').set('x-forwarded-for', proxied).set('authorization', `Bearer ${ADMIN}`);
    expect(api.status).toBe(200);
    // A valid token given as the bearer or in the query counts as the sender too.
    const bearer = await request(s2.server)
      .post('/webhooks/post-call')
      .set('x-forwarded-for', proxied)
      .set('authorization', `Bearer ${TEST_TOKEN}`)
      .set('content-type', 'application/json')
      .send(call());
    expect(bearer.status).toBe(202);
    expect((await deliver(s2, `/webhooks/post-call?token=${TEST_TOKEN}`, proxied)).status).toBe(202);
  });

  it('TRUST_PROXY=0 ignores X-Forwarded-For: a spoofed one cannot buy a fresh bucket', async () => {
    const s = await start({ RATE_LIMIT_PER_MINUTE: '100', RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '3', TRUST_PROXY: '0' });
    expect(await statuses(5, (i) => deliver(s, WRONG, `203.0.113.${i}`))).toEqual([401, 401, 401, 429, 429]);
  });

  it('TRUST_PROXY=1 takes the rightmost X-Forwarded-For address: what a client prepends to it changes nothing', async () => {
    const s = await start({ RATE_LIMIT_PER_MINUTE: '100', RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '3', TRUST_PROXY: '1' });
    expect(await statuses(5, (i) => deliver(s, WRONG, `203.0.113.${i}, 10.0.0.9`))).toEqual([401, 401, 401, 429, 429]);
    // Another client the proxy names has its own bucket.
    expect((await deliver(s, WRONG, '10.0.0.10')).status).toBe(401);
    // Two hops: the second address from the right.
    const two = await start({ RATE_LIMIT_PER_MINUTE: '100', RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '3', TRUST_PROXY: '2' });
    expect(await statuses(5, (i) => deliver(two, WRONG, `203.0.113.${i}, 10.0.0.9, 10.1.1.${i}`))).toEqual([401, 401, 401, 429, 429]);
  });
});
