// The webhook route runs on Node's request handler, ahead of Express: these check that it
// answers like the Express route it replaced (paths, tokens, rate limit, logging, errors) and
// that everything else still reaches Express. The rest of the ingest contract is in
// http-ingest.test.ts, over the same route.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import type { DeliveryReceiver } from '../src/ingest/receive-delivery.js';
import { createWebhookRoute } from '../src/http/webhook-route.js';
import { fixture } from './support/fixtures.js';
import { LOG_ONLY, logCapture, startTestService, TEST_TOKEN, type TestService } from './support/test-service.js';

const ADMIN = 'admin-token-0123456789abcdef';

let services: TestService[] = [];
let servers: Server[] = [];
afterEach(async () => {
  for (const s of services) await s.cleanup().catch(() => undefined);
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
  services = [];
  servers = [];
});

async function start(env: Record<string, string> = {}, logTo?: ReturnType<typeof logCapture>['sink']) {
  const service = await startTestService(LOG_ONLY, env, undefined, logTo ? { logTo } : {});
  services.push(service);
  return service;
}

let nextId = 910_000;
function call() {
  const c = fixture('seed-001-autocalls');
  c.id = nextId++;
  return JSON.stringify(c);
}

const post = (s: TestService, path: string) => request(s.server).post(path).set('content-type', 'application/json');

describe('the webhook route', () => {
  it('matches the path as Express did: any case, a trailing slash, a percent-encoded token', async () => {
    const s = await start();
    const encoded = TEST_TOKEN.replace('t', '%74'); // "t" spelled as its escape
    const replies = await Promise.all([
      post(s, `/WEBHOOKS/Post-Call/${TEST_TOKEN}`).send(call()),
      post(s, `/webhooks/post-call/${TEST_TOKEN}/`).send(call()),
      post(s, `/webhooks/post-call/${encoded}`).send(call()),
      post(s, `/webhooks/post-call/?token=${TEST_TOKEN}`).send(call()),
    ]);
    expect(replies.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    for (const r of replies) expect(r.body.status).toBe('accepted');
  });

  it('takes a request target in absolute form, as a forward proxy sends it', async () => {
    const s = await start();
    const { port } = new URL(s.baseUrl);
    const body = call();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST http://127.0.0.1:${port}/webhooks/post-call/${TEST_TOKEN} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n` +
            `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 202 /);
    expect(answer).toContain('"status":"accepted"');
  });

  it('a token that is not valid percent-encoding is a 400 JSON reply, and the process goes on', async () => {
    const s = await start();
    const bad = await post(s, '/webhooks/post-call/%E0%A4%A').set('x-request-id', 'bad-escape-1').send(call());
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'BAD_REQUEST', request_id: 'bad-escape-1' });
    expect(bad.body.detail).toMatch(/percent-encoding/);
    expect((await post(s, s.hookPath).send(call())).status).toBe(202);
  });

  it('a token given twice in the query is ambiguous and refused', async () => {
    const s = await start();
    const twice = await post(s, `/webhooks/post-call?token=${TEST_TOKEN}&token=${TEST_TOKEN}`).send(call());
    expect(twice.status).toBe(401);
    expect(twice.body.code).toBe('UNAUTHORIZED');
  });

  it('leaves other paths and methods to Express', async () => {
    const s = await start();
    const deeper = await post(s, `/webhooks/post-call/${TEST_TOKEN}/more`).send(call());
    expect(deeper.status).toBe(404);
    expect(deeper.body.code).toBe('NOT_FOUND');
    const put = await request(s.server).put(s.hookPath).set('content-type', 'application/json').send(call());
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('POST');
  });

  it('shares one rate limit per client with the admin API, the client named through TRUST_PROXY hops', async () => {
    const s = await start({ RATE_LIMIT_PER_MINUTE: '2', ADMIN_TOKEN: ADMIN, TRUST_PROXY: '1' });
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    const first = await post(s, s.hookPath).set(from('10.0.0.1')).send(call());
    expect(first.status).toBe(202);
    expect(first.headers.ratelimit).toMatch(/limit=2, remaining=1/);
    const api = await request(s.server).get('/api/runs').set(from('10.0.0.1')).set('authorization', `Bearer ${ADMIN}`);
    expect(api.status).toBe(200);
    const limited = await post(s, s.hookPath).set(from('10.0.0.1')).send(call());
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED' });
    expect(limited.body.request_id).toBe(limited.headers['x-request-id']);
    expect((await request(s.server).get('/api/runs').set(from('10.0.0.1')).set('authorization', `Bearer ${ADMIN}`)).status).toBe(429);
    // Another client behind the same proxy has its own count.
    expect((await post(s, s.hookPath).set(from('10.0.0.2')).send(call())).status).toBe(202);
  });

  it('at LOG_LEVEL=info writes one access line per delivery, the token masked', async () => {
    const { sink, lines } = logCapture();
    const s = await start({ LOG_LEVEL: 'info' }, sink);
    const reply = await post(s, s.hookPath).set('x-request-id', 'logged-1').send(call());
    expect(reply.status).toBe(202);
    await s.waitFor(() => lines.filter((l) => (l.req as { id?: string } | undefined)?.id === 'logged-1'), (found) => found.length > 0);
    const access = lines.filter((l) => (l.req as { id?: string } | undefined)?.id === 'logged-1');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ level: 'info', req: { method: 'POST', url: '/webhooks/post-call/[token]' }, res: { status: 202 } });
    expect(JSON.stringify(lines)).not.toContain(TEST_TOKEN);
  });

  it('an unexpected error answers 500 in JSON and is logged; the server goes on', async () => {
    const logged: string[] = [];
    const logger = createLogger('error', { write: (line: string) => void logged.push(line) });
    let calls = 0;
    // A receiver that breaks on its first delivery: what the route does when the core throws.
    const receiver = {
      receive: async () => {
        calls += 1;
        if (calls === 1) throw new Error('core broke');
        return { status: 202, body: { status: 'accepted' } };
      },
      replayQuarantined: async () => ({ status: 404, body: {} }),
      senderFor: () => null,
    } satisfies DeliveryReceiver;
    const route = createWebhookRoute({
      receiver,
      signatureHeader: 'X-Signature',
      before: [(req, res, next) => {
        res.setHeader('x-request-id', 'route-1');
        (req as { id?: string }).id = 'route-1';
        next();
      }],
      logger,
      requestTimeoutMs: 15_000,
    });
    const server = createServer((req, res) => {
      if (!route(req, res)) res.writeHead(418).end();
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const broken = await fetch(`${base}/webhooks/post-call/x`, { method: 'POST', body: '{}' });
    expect(broken.status).toBe(500);
    expect(await broken.json()).toMatchObject({ code: 'INTERNAL', request_id: 'route-1' });
    expect(logged.join('')).toContain('core broke');
    expect((await fetch(`${base}/webhooks/post-call/x`, { method: 'POST', body: '{}' })).status).toBe(202);
    expect((await fetch(`${base}/elsewhere`, { method: 'POST', body: '{}' })).status).toBe(418);
  });
});
