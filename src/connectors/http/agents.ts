// The keep-alive agents http.request steps send on, owned by the http connector.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { KEEP_ALIVE } from '../client-pool.js';
import type { ConnectorInstance } from '../connector.js';

// Every http.request step shares these: forwards to one receiver reuse its connections. Each
// request is cut at its own deadline through its signal, so sharing cannot stretch a deadline.
// More sockets per host than a vendor client's, since WORKER_CONCURRENCY steps may forward to
// the same receiver at once, and as many kept idle: keeping fewer closed the rest after every
// wave of concurrent forwards, only to connect anew for the next (idle ones close after 15 s).
const AGENT_OPTIONS = { ...KEEP_ALIVE, maxSockets: 64, maxFreeSockets: 64 };

/** The keep-alive agents of http.request steps, made on first use, destroyed by close. */
export interface HttpConnector extends ConnectorInstance {
  agents(): { http: HttpAgent; https: HttpsAgent };
}

export function createHttpConnector(): HttpConnector {
  let agents: { http: HttpAgent; https: HttpsAgent } | null = null;
  return {
    agents: () => (agents ??= { http: new HttpAgent(AGENT_OPTIONS), https: new HttpsAgent(AGENT_OPTIONS) }),
    close() {
      agents?.http.destroy();
      agents?.https.destroy();
      agents = null;
    },
  };
}
