// http.request against a real node:http server on 127.0.0.1: what it sends, how each kind of
// answer is classified (the worker retries transient ones only), its deadline, the answer
// size cap, and that forwards to one receiver reuse a keep-alive connection.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { evidenceOf } from '../../src/connectors/evidence.js';
import { closedPortUrl, startVendorStub, type VendorStub } from './support/vendor-stub.js';
import { closeTestConnectors, runStep, stepError } from './support/step-harness.js';

let stub: VendorStub;
beforeAll(async () => {
  stub = await startVendorStub((req) => (req.path === '/echo' ? { status: 201, body: { got: req.json } } : undefined));
});
afterAll(async () => {
  await closeTestConnectors();
  await stub.close();
});
afterEach(() => {
  stub.requests.length = 0;
});

describe('http.request', () => {
  it('POSTs the rendered body as JSON with the idempotency key and returns status and parsed answer', async () => {
    const out = await runStep('http.request', { url: `${stub.url}/echo`, body: { call_id: 7, text: 'Olá' }, headers: { 'x-team': 'sales' } });
    expect(out).toEqual({ status: 201, body: { got: { call_id: 7, text: 'Olá' } } });
    const [sent] = stub.requests;
    expect(sent!.method).toBe('POST');
    expect(sent!.headers['content-type']).toBe('application/json');
    expect(sent!.headers['idempotency-key']).toBe('aftercall-41-step');
    expect(sent!.headers['x-team']).toBe('sales');
    expect(Number(sent!.headers['content-length'])).toBe(Buffer.byteLength(sent!.body));
  });

  it('sends no body with GET, and keeps a non-JSON answer as text', async () => {
    stub.failNext({ status: 200, body: 'plain words' });
    const out = await runStep('http.request', { url: `${stub.url}/any`, method: 'GET', body: { ignored: true } });
    expect(out).toEqual({ status: 200, body: 'plain words' });
    expect(stub.requests[0]!.body).toBe('');
  });

  it('classifies answers: 429/408/5xx transient (with Retry-After), 3xx and 4xx permanent', async () => {
    stub.failNext({ status: 429, headers: { 'retry-after': '7' }, body: { message: 'slow down' } });
    const limited = await stepError('http.request', { url: `${stub.url}/x`, body: {} });
    expect(limited).toMatchObject({ transient: true, retryAfterMs: 7_000 });
    expect(limited.message).toContain('answered 429');

    for (const status of [408, 500, 503]) {
      stub.failNext({ status, body: { message: 'later' } });
      expect(await stepError('http.request', { url: `${stub.url}/x`, body: {} })).toMatchObject({ transient: true });
    }
    stub.failNext({ status: 302, headers: { location: `${stub.url}/echo` } });
    const moved = await stepError('http.request', { url: `${stub.url}/x`, body: {} });
    expect(moved).toMatchObject({ transient: false });
    expect(moved.message).toContain('answered 302');
    expect(stub.calls()).not.toContain('POST /echo'); // redirects are not followed

    stub.failNext({ status: 422, body: { message: 'missing email' } });
    const refused = await stepError('http.request', { url: `${stub.url}/x`, body: {} });
    expect(refused).toMatchObject({ transient: false });
    // The receiver's words are the step's evidence, not its message (log lines carry the message).
    expect(refused.message).toMatch(/^POST 127\.0\.0\.1:\d+ answered 422$/);
    expect(evidenceOf(refused)).toMatchObject({ method: 'POST', status: 422, body: '{"message":"missing email"}' });
  });

  it('a 5 MB answer is read up to 1 MiB, then cut off: the output says truncated, the rest is never read', async () => {
    const FIVE_MB = 5 * 1024 * 1024;
    let closedByClient = false;
    const streaming: Server = createServer((_req, res) => {
      // A 5 MB answer whose first 2 MB come at once and the rest never: a client that reads
      // every answer to its end waits until its deadline; one that stops at its limit closes.
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(FIVE_MB) });
      for (let sent = 0; sent < 2 * 1024 * 1024; sent += 64 * 1024) res.write(Buffer.alloc(64 * 1024, 'a'));
      res.once('close', () => (closedByClient = true));
    });
    await new Promise<void>((resolve) => streaming.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = streaming.address() as AddressInfo;
      const out = (await runStep('http.request', { url: `http://127.0.0.1:${port}/`, method: 'GET', timeout_ms: 20_000 })) as Record<string, unknown>;
      expect(out).toMatchObject({ status: 200, truncated: true });
      expect(out.body).toBe('a'.repeat(64 * 1024)); // the text kept: 64 KiB
      await vi.waitFor(() => expect(closedByClient).toBe(true));
    } finally {
      streaming.closeAllConnections();
      await new Promise<void>((resolve) => streaming.close(() => resolve()));
    }
  });

  it('a receiver that does not answer in time is a transient "timed out"', async () => {
    stub.failNext({ status: 200, delayMs: 1_500 });
    const error = await stepError('http.request', { url: `${stub.url}/slow`, body: {}, timeout_ms: 150 });
    expect(error).toMatchObject({ transient: true });
    expect(error.message).toMatch(/POST 127\.0\.0\.1:\d+ timed out/);
  });

  it('a receiver that stalls mid-answer is cut at the deadline', async () => {
    const stalling: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":'); // and never the rest
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = stalling.address() as AddressInfo;
      const error = await stepError('http.request', { url: `http://127.0.0.1:${port}/`, body: {}, timeout_ms: 200 });
      expect(error).toMatchObject({ transient: true });
      expect(error.message).toContain('timed out sending its answer');
    } finally {
      stalling.closeAllConnections();
      stalling.close();
    }
  });

  it('a refused connection is transient and names the reason', async () => {
    const error = await stepError('http.request', { url: `${await closedPortUrl()}/x`, body: {} });
    expect(error).toMatchObject({ transient: true });
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('a URL that is not http or https is a permanent error', async () => {
    const error = await stepError('http.request', { url: 'ftp://127.0.0.1/file', body: {} });
    expect(error).toMatchObject({ transient: false });
    expect(error.message).toContain('http and https URLs only');
  });

  it('keeps at most 64 KB of a long answer, and reads all of it so the connection is reused', async () => {
    const long = 'x'.repeat(200_000);
    stub.failNext({ status: 200, body: long });
    const out = (await runStep('http.request', { url: `${stub.url}/long`, body: {} })) as { body: string };
    expect(out.body.length).toBe(64 * 1024);
    const before = stub.connections();
    await runStep('http.request', { url: `${stub.url}/echo`, body: { n: 1 } });
    await runStep('http.request', { url: `${stub.url}/echo`, body: { n: 2 } });
    expect(stub.connections()).toBe(before); // the same keep-alive connection, not new ones
  });

  it('as many forwards at once as the worker runs by default: a second wave reuses every connection', async () => {
    const { WORKER_CONCURRENCY } = loadConfig({});
    const wave = () => Promise.all(Array.from({ length: WORKER_CONCURRENCY }, (_, n) => runStep('http.request', { url: `${stub.url}/echo`, body: { n } })));
    await wave();
    const opened = stub.connections();
    await wave();
    expect(stub.connections()).toBe(opened);
  });

  it('close() drops the idle connections; a later step connects anew', async () => {
    await runStep('http.request', { url: `${stub.url}/echo`, body: {} });
    expect(stub.openConnections()).toBeGreaterThan(0);
    await closeTestConnectors();
    await expect.poll(() => stub.openConnections()).toBe(0);
    const before = stub.connections();
    await runStep('http.request', { url: `${stub.url}/echo`, body: {} });
    expect(stub.connections()).toBe(before + 1);
  });
});
