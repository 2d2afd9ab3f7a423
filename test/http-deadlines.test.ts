// The HTTP server against clients that hold connections: refusals close the connection,
// headers and whole requests have deadlines (answered with a JSON 408), and one address may
// hold only MAX_CONNECTIONS_PER_CLIENT connections at once. Raw sockets on 127.0.0.1, each
// test waiting for the server's answer or close, not for time.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LOG_ONLY, startTestService, type TestService } from './support/test-service.js';

let service: TestService | undefined;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await service?.cleanup();
  service = undefined;
});

interface Conversation {
  socket: net.Socket;
  /** Everything the server sent, once it closed the connection. */
  closed: Promise<string>;
  connected: Promise<void>;
}

function open(s: TestService, localAddress = '127.0.0.1'): Conversation {
  const socket = net.connect({ port: Number(new URL(s.baseUrl).port), host: '127.0.0.1', localAddress });
  sockets.push(socket);
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  return {
    socket,
    connected: new Promise((resolve) => socket.once('connect', () => resolve())),
    closed: new Promise((resolve) => socket.once('close', () => resolve(text))),
  };
}

/** The first complete response on the socket (headers and a Content-Length body). */
function firstResponse(socket: net.Socket): Promise<{ head: string; body: string }> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (text.length - end - 4 < length) return;
      socket.off('data', onData);
      resolve({ head: text.slice(0, end), body: text.slice(end + 4, end + 4 + length) });
    };
    socket.on('data', onData);
  });
}

const WRONG = 'POST /webhooks/post-call/not-the-token-0123456789 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';

describe('HTTP deadlines and connection caps', () => {
  it('a refused delivery is answered with connection: close, and the server ends the connection', async () => {
    service = await startTestService(LOG_ONLY);
    const c = open(service);
    await c.connected;
    const answer = firstResponse(c.socket);
    c.socket.write(`${WRONG}Content-Length: 2\r\nConnection: keep-alive\r\n\r\n{}`);
    const { head, body } = await answer;
    expect(head).toMatch(/^HTTP\/1\.1 401 /);
    expect(head).toMatch(/\r\nconnection: close/i);
    expect(JSON.parse(body)).toMatchObject({ code: 'UNAUTHORIZED' });
    await c.closed;
  });

  it('headers not in within HEADERS_TIMEOUT_MS get a JSON 408 and the connection is closed', async () => {
    service = await startTestService(LOG_ONLY, { HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '1000' });
    const c = open(service);
    await c.connected;
    c.socket.write('POST /webhooks/post-call/x HTTP/1.1\r\nHost: x\r\n'); // and never the rest
    const text = await c.closed;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toMatch(/\r\nx-request-id: [\w-]+\r\n/);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'REQUEST_TIMEOUT' });
  });

  it('a refused body that keeps dripping loses its connection at REQUEST_TIMEOUT_MS', async () => {
    service = await startTestService(LOG_ONLY, { HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '1000' });
    const c = open(service);
    await c.connected;
    c.socket.write(`${WRONG}Content-Length: 1000000\r\n\r\n{`);
    const drip = setInterval(() => c.socket.writable && c.socket.write(' '), 100);
    const text = await c.closed;
    clearInterval(drip);
    // Closed by the server, either with the deadline's 408 or unanswered; never kept waiting for the body.
    expect(text === '' || text.startsWith('HTTP/1.1 408 ')).toBe(true);
  });

  it('one address holds at most MAX_CONNECTIONS_PER_CLIENT connections; others are unaffected', async () => {
    service = await startTestService(LOG_ONLY, { MAX_CONNECTIONS_PER_CLIENT: '2' });
    const s = service;
    const held = [open(s), open(s)];
    for (const c of held) {
      await c.connected;
      const answer = firstResponse(c.socket);
      c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'); // accepted and kept alive
      expect((await answer).head).toMatch(/^HTTP\/1\.1 200 /);
    }
    const third = open(s);
    await third.connected;
    third.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(await third.closed).toBe(''); // closed at once, nothing read
    // Another address (loopback 127.0.0.2 on Linux) has its own count.
    const other = open(s, '127.0.0.2');
    await other.connected;
    const answer = firstResponse(other.socket);
    other.socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await answer).body).toMatch(/^aftercall_connections_refused_total\{reason="per_client"\} 1$/m);
    // A held connection closed makes room again.
    held[0]!.socket.destroy();
    await held[0]!.closed;
    let fourth = open(s);
    for (let i = 0; i < 50; i++) {
      await fourth.connected;
      const reply = firstResponse(fourth.socket);
      fourth.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const got = await Promise.race([reply.then(() => 'answered'), fourth.closed.then(() => 'closed')]);
      if (got === 'answered') break;
      fourth = open(s); // the server had not yet seen the first close
    }
    expect(fourth.socket.destroyed).toBe(false);
  });
});
