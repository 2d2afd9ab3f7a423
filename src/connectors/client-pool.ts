// Vendor SDK clients kept across steps, each with a keep-alive HTTP agent of its own (or, for
// email, an SMTP connection), so a step reuses the client and the TCP/TLS connection an earlier
// step opened instead of building both anew for every request.
//
// A client is lent to ONE step at a time (a lease): while the step runs, nothing else sends on its
// agent. That keeps the step deadline exact for SDKs that take no AbortSignal: at the deadline the
// step's agent is retired — its requests destroyed, later requests on it destroyed as they start —
// and the client is thrown away, which cannot touch a request of any other step (those hold other
// leases). A step that ends normally gives the client back; a request it left running is cut then.
// Each connector owns one pool (its configuration is fixed when it is built); within it clients
// are kept by the settings they were made with that vary between steps (an SMTP transport's step
// timeout), a few such keys, a few idle clients each.
import { Agent as HttpAgent, type AgentOptions, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { MAX_WORKER_CONCURRENCY } from '../config.js';
import type { StepContext } from './connector.js';
import { DeadlineError, untilDeadline } from './deadline.js';

/**
 * Keep-alive limits of every vendor agent: idle sockets close after 15 s, below the idle timeouts
 * of typical API front ends (60 s and more), so a request rarely meets a socket the server is
 * closing; a step sends one request at a time, so few sockets per agent. Node's agent unrefs idle
 * sockets: they never keep the process alive.
 */
export const KEEP_ALIVE: Readonly<AgentOptions> = {
  keepAlive: true,
  keepAliveMsecs: 1_000,
  maxSockets: 8,
  maxFreeSockets: 2,
  timeout: 15_000,
  scheduling: 'lifo',
};

/**
 * Idle clients kept per key, and keys kept per pool. A client is made only
 * when every idle one is lent, so a key never has more clients than steps ran at once;
 * keeping fewer would make every wave of WORKER_CONCURRENCY steps build the rest anew, with
 * new connections.
 */
export const MAX_IDLE_CLIENTS = MAX_WORKER_CONCURRENCY;
export const MAX_CONFIGS = 4;

type AddRequest = (this: HttpAgent, req: ClientRequest, options: unknown) => void;

/** What both agent classes add: the requests sent on them, and retiring. */
export interface StepAgent extends HttpAgent {
  /** Destroys the requests still running on this agent (a step ended and left one behind). */
  cutRunning(reason: Error | (() => Error)): void;
  /** Destroys every request and socket, and every request started on it from now on. */
  retire(reason: Error): void;
  readonly retired: boolean;
}

function stepAgentOf<A extends typeof HttpAgent>(Base: A) {
  const addRequest = (Base.prototype as unknown as { addRequest: AddRequest }).addRequest;
  return class extends (Base as typeof HttpAgent) implements StepAgent {
    private readonly running = new Set<ClientRequest>();
    private retiredBy: Error | null = null;

    get retired(): boolean {
      return this.retiredBy !== null;
    }

    // Called by ClientRequest's constructor for every request sent through this agent.
    addRequest(req: ClientRequest, options: unknown): void {
      addRequest.call(this, req, options);
      if (this.retiredBy) {
        req.destroy(this.retiredBy);
        return;
      }
      this.running.add(req);
      req.once('close', () => this.running.delete(req));
    }

    cutRunning(reason: Error | (() => Error)): void {
      // A request whose answer was read to its end is `destroyed` already (its socket went back
      // to the pool) and is left alone.
      for (const req of this.running) {
        if (!req.destroyed) req.destroy(typeof reason === 'function' ? reason() : reason);
      }
      this.running.clear();
    }

    retire(reason: Error): void {
      this.retiredBy ??= reason;
      this.cutRunning(reason);
      this.destroy();
    }
  };
}

const StepHttpAgent = stepAgentOf(HttpAgent);
const StepHttpsAgent = stepAgentOf(HttpsAgent as unknown as typeof HttpAgent);

/** A keep-alive agent for `url`'s scheme (http: or https:), with the limits above. */
export function stepAgent(url: string, options: AgentOptions = {}): StepAgent {
  const settings = { ...KEEP_ALIVE, ...options };
  return /^https:/i.test(url) ? new StepHttpsAgent(settings) : new StepHttpAgent(settings);
}

/** A pooled client: whatever the connector keeps for one configuration. */
export interface Pooled {
  /** The keep-alive agent an HTTP client's requests go through. */
  agent?: StepAgent;
  /** Closes what the client holds besides its agent (an SMTP connection), at once. */
  dispose?(): void;
}

interface Entry<C> {
  key: string;
  idle: C[];
}

export class ClientPool<C extends Pooled> {
  private entries = new Map<string, Entry<C>>();
  private readonly lent = new Map<C, Entry<C>>();
  private readonly cutOff = new WeakSet<C>();

  constructor(private readonly limits = { maxIdle: MAX_IDLE_CLIENTS, maxConfigs: MAX_CONFIGS }) {}

  /** A client for `key` (the settings it is made with), lent to one step until `giveBack`. */
  lend(key: string, create: () => C): C {
    let entry = this.entries.get(key);
    if (entry) {
      // Most recently used last: the first entry is the one to drop.
      this.entries.delete(key);
      this.entries.set(key, entry);
    } else {
      entry = { key, idle: [] };
      this.entries.set(key, entry);
      for (const [oldKey, old] of this.entries) {
        if (this.entries.size <= this.limits.maxConfigs) break;
        this.entries.delete(oldKey);
        for (const client of old.idle.splice(0)) discard(client);
      }
    }
    const client = entry.idle.pop() ?? create();
    this.lent.set(client, entry);
    return client;
  }

  /**
   * The step holding `client` passed its deadline: everything it has under way is stopped now
   * (its requests destroyed, its connections closed) and the client is never lent again, since
   * the step's work may still be running with it.
   */
  cut(client: C, reason: Error): void {
    this.cutOff.add(client);
    client.agent?.retire(reason);
    client.dispose?.();
  }

  /**
   * Back from its step: kept for the next step with its configuration, with its idle
   * connections; a request the step left running is destroyed. Discarded when it was cut off,
   * its configuration was dropped meanwhile, or enough clients are idle.
   */
  giveBack(client: C): void {
    const entry = this.lent.get(client);
    this.lent.delete(client);
    client.agent?.cutRunning(() => new Error('the step ended before this request did'));
    const current = entry !== undefined && this.entries.get(entry.key) === entry;
    if (current && !this.cutOff.has(client) && entry.idle.length < this.limits.maxIdle) entry.idle.push(client);
    else discard(client);
  }

  /** Drops every idle client and closes its connections; clients lent now are dropped when given back. */
  close(): void {
    const entries = this.entries;
    this.entries = new Map();
    for (const entry of entries.values()) for (const client of entry.idle.splice(0)) discard(client);
  }
}

function discard(client: Pooled): void {
  client.agent?.retire(new Error('the client was discarded'));
  client.dispose?.();
}

/**
 * Runs `work` with a client lent by `pool` (built by `create` when none is idle for `key`, the
 * configuration's values) until the step's deadline. At the deadline the client is cut off: the
 * step's requests are destroyed (the SDKs take no AbortSignal) or its connection closed, and the
 * client is discarded; no other step uses it. Otherwise it goes back to the pool with its
 * connections.
 */
export async function withPooledClient<C extends Pooled, T>(
  ctx: StepContext,
  pool: ClientPool<C>,
  key: string,
  create: () => C,
  work: (client: C, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const client = pool.lend(key, create);
  try {
    return await untilDeadline(
      ctx,
      (signal) => work(client, signal),
      () => pool.cut(client, new DeadlineError(ctx.timeoutMs, ctx.signal.aborted)),
    );
  } finally {
    pool.giveBack(client);
  }
}
