// A vendor stand-in (a "CRM", an "SMS gateway", an "ERP") on 127.0.0.1 that behaves like a
// vendor honouring idempotency keys: the first request with a key takes effect, later requests
// with the same key are answered from memory without a second effect. Every request is counted
// per key and per unit (what one effect is about, e.g. "the SMS of call 42"), so both a re-send
// with the same key (allowed for steps in flight at a crash) and a second effect under another
// key (a duplicate SMS: never allowed) are visible.
//
// Faults can be scripted per request to simulate an outage: 5xx, 429 with Retry-After,
// timeouts (before or after the effect took place) and connection resets.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  | 'ok'
  /** 500 before anything happened. */
  | 'error-500'
  /** 503 before anything happened. */
  | 'unavailable-503'
  /** 429 with Retry-After, before anything happened. */
  | 'throttle-429'
  /** Takes effect, then answers only after `holdMs` (the caller has timed out by then). */
  | 'timeout-after-effect'
  /** Never takes effect; answers 504 only after `holdMs` (the caller has timed out by then). */
  | 'timeout-before-effect'
  /** Takes effect, then drops the connection without an answer. */
  | 'reset-after-effect'
  /** Drops the connection without an answer; nothing happened. */
  | 'reset-before-effect';

export interface VendorRequest {
  key: string | null;
  unit: string;
  path: string;
  fault: Fault;
  at: number;
  /** Whether this request took effect (first successful one for its key). */
  effect: boolean;
  /**
   * For the held answers of timeout faults: whether the caller was still waiting when the
   * answer went out, `holdMs` later (its step timeout should have ended the wait long before).
   */
  heldAnswerReceived?: boolean;
}

export interface Effect {
  key: string;
  unit: string;
  at: number;
  body: Record<string, unknown>;
}

export interface VendorStubOptions {
  name: string;
  /** What one effect is about, from the request path and JSON body. */
  unitOf?: (path: string, body: Record<string, unknown>) => string;
  /** Latency of a normal answer. */
  latencyMs?: () => number;
  /** How long a "timeout" fault holds the answer. */
  holdMs?: number;
  /** Retry-After value of a 429, in seconds (aftercall accepts fractions). */
  retryAfter?: string;
}

export interface VendorStub {
  name: string;
  url: string;
  requests: VendorRequest[];
  /** Distinct effects, in the order they took place. */
  effects: Effect[];
  /** The fault plan: request n gets plan[n % plan.length] (['ok'] by default). */
  setFaults(plan: Fault[]): void;
  /** Requests carrying `key`. */
  sendsOfKey(key: string): number;
  /** Effects per unit. */
  effectsByUnit(): Map<string, Effect[]>;
  /** Effects beyond one per unit: a side effect executed twice under different keys. */
  duplicateEffects(): number;
  /** Requests that repeated a key already seen (deduplicated here, no second effect). */
  resentSameKey(): number;
  close(): Promise<void>;
}

export async function startVendorStub(options: VendorStubOptions): Promise<VendorStub> {
  const unitOf = options.unitOf ?? ((path, body) => `${options.name}${path}:${String(body.call)}`);
  const holdMs = options.holdMs ?? 1_000;
  let plan: Fault[] = ['ok'];
  let served = 0;
  const requests: VendorRequest[] = [];
  const effects: Effect[] = [];
  const answered = new Map<string, { status: number; body: unknown }>();
  const keyCounts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let closed = false;

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const hold = (res: ServerResponse, record: VendorRequest, answer: () => void) => {
    let gone = false;
    res.once('close', () => (gone = true));
    later(holdMs, () => {
      record.heldAnswerReceived = !gone && !res.destroyed;
      answer();
    });
  };

  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = raw ? JSON.parse(raw) : {};
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      // not JSON: the unit falls back to "undefined"
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const header = req.headers['idempotency-key'];
    const key = typeof header === 'string' ? header : null;
    const unit = unitOf(path, body);
    const fault = plan[served++ % plan.length] ?? 'ok';
    const record: VendorRequest = { key, unit, path, fault, at: Date.now(), effect: false };
    requests.push(record);
    if (key) keyCounts.set(key, (keyCounts.get(key) ?? 0) + 1);

    const takeEffect = (): { status: number; body: unknown } => {
      const effectKey = key ?? `no-key-${requests.length}`;
      const known = answered.get(effectKey);
      if (known) return known; // the vendor deduplicates on the idempotency key
      record.effect = true;
      effects.push({ key: effectKey, unit, at: Date.now(), body });
      const result = { status: 201, body: { id: `${options.name}-${effects.length}`, unit } };
      answered.set(effectKey, result);
      return result;
    };

    switch (fault) {
      case 'error-500':
        return reply(res, 500, { error: 'internal error' });
      case 'unavailable-503':
        return reply(res, 503, { error: 'service unavailable' });
      case 'throttle-429':
        return reply(res, 429, { error: 'slow down' }, { 'retry-after': options.retryAfter ?? '1' });
      case 'reset-before-effect':
        return void req.socket.destroy();
      case 'reset-after-effect':
        takeEffect();
        return void req.socket.destroy();
      case 'timeout-before-effect':
        return hold(res, record, () => reply(res, 504, { error: 'upstream timed out' }));
      case 'timeout-after-effect': {
        const result = takeEffect();
        return hold(res, record, () => reply(res, result.status, result.body));
      }
      case 'ok': {
        const result = takeEffect();
        const latency = options.latencyMs?.() ?? 0;
        if (latency > 0) later(latency, () => reply(res, result.status, result.body));
        else reply(res, result.status, result.body);
      }
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!closed) handle(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const effectsByUnit = () => {
    const byUnit = new Map<string, Effect[]>();
    for (const e of effects) byUnit.set(e.unit, [...(byUnit.get(e.unit) ?? []), e]);
    return byUnit;
  };

  return {
    name: options.name,
    url: `http://127.0.0.1:${port}`,
    requests,
    effects,
    setFaults(next) {
      plan = next.length > 0 ? [...next] : ['ok'];
      served = 0;
    },
    sendsOfKey: (key) => keyCounts.get(key) ?? 0,
    effectsByUnit,
    duplicateEffects() {
      let extra = 0;
      for (const list of effectsByUnit().values()) extra += list.length - 1;
      return extra;
    },
    resentSameKey() {
      let resent = 0;
      for (const n of keyCounts.values()) resent += n - 1;
      return resent;
    },
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
