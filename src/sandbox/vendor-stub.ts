// A recording HTTP server on 127.0.0.1 standing in for a vendor API: every request is kept
// (method, path, query, headers, JSON or form body), answers come from a route function, and
// `failNext` puts scripted answers (429 with Retry-After, 500, a delay past the timeout, …)
// in front of the routes for the next requests. The connector tests and `aftercall sandbox`
// both run on it.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubReply {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Wait this long before answering (simulates a slow vendor or a timeout). */
  delayMs?: number;
}

export interface VendorRequest {
  method: string;
  /** Path with query, as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
  /** Form-encoded bodies (Twilio, OAuth) as a plain object. */
  form: Record<string, string> | null;
  at: number;
  /** When the client went away before the answer was sent (its request was cut off). */
  cutAt?: number;
}

export type Route = (req: VendorRequest) => StubReply | undefined;

export interface VendorStub {
  url: string;
  requests: VendorRequest[];
  /** Every request as "METHOD path". */
  calls(): string[];
  failNext(...replies: StubReply[]): void;
  /** TCP connections accepted so far (keep-alive clients reuse theirs). */
  connections(): number;
  /** TCP connections open now. */
  openConnections(): number;
  close(): Promise<void>;
}

export interface VendorStubOptions {
  /** Port to listen on; 0 (default): any free one. */
  port?: number;
  /** Keep only the newest this many requests (a long-running sandbox); unset: all. */
  keep?: number;
  /** Told of every request with the status it is answered with. */
  onAnswer?(request: VendorRequest, status: number): void;
}

export async function startVendorStub(route: Route, options: VendorStubOptions = {}): Promise<VendorStub> {
  const requests: VendorRequest[] = [];
  const failures: StubReply[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://stub');
      const type = String(req.headers['content-type'] ?? '');
      const recorded: VendorRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        json: type.includes('json') && body ? (JSON.parse(body) as unknown) : null,
        form: type.includes('x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(body)) : null,
        at: Date.now(),
      };
      requests.push(recorded);
      if (options.keep !== undefined && requests.length > options.keep) requests.splice(0, requests.length - options.keep);
      const reply = failures.shift() ?? route(recorded) ?? { status: 404, body: { message: `no route for ${req.method} ${url.pathname}` } };
      options.onAnswer?.(recorded, reply.status ?? 200);
      res.once('close', () => {
        if (!res.writableFinished) recorded.cutAt = Date.now();
      });
      const answer = () => {
        if (res.destroyed) return;
        const text = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
        res.end(text);
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs).unref();
      else answer();
    });
  });
  let accepted = 0;
  let open = 0;
  server.on('connection', (socket) => {
    accepted++;
    open++;
    socket.once('close', () => open--);
  });
  server.keepAliveTimeout = 30_000; // like an API front end: idle connections are the client's to close
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => accepted,
    openConnections: () => open,
    requests,
    calls: () => requests.map((r) => `${r.method} ${r.path}`),
    failNext: (...replies) => failures.push(...replies),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
