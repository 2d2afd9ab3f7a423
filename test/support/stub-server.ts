// A real node:http server on 127.0.0.1 standing in for a vendor or a forward target. It records
// every request and answers from a script (status, headers, body, delay), one reply per request,
// the last one repeating.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StubReply } from '../../src/sandbox/vendor-stub.js';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
  at: number;
}

export type { StubReply } from '../../src/sandbox/vendor-stub.js';

export interface StubServer {
  url: string;
  requests: RecordedRequest[];
  /** Replace the reply script; the last entry repeats. */
  script(replies: StubReply[]): void;
  close(): Promise<void>;
}

export async function startStubServer(replies: StubReply[] = [{ status: 200, body: { ok: true } }]): Promise<StubServer> {
  let plan = [...replies];
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = body ? JSON.parse(body) : null;
      } catch {
        json = null;
      }
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json, at: Date.now() });
      const reply = (plan.length > 1 ? plan.shift() : plan[0]) ?? { status: 200 };
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
        res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script(next) {
      plan = [...next];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
