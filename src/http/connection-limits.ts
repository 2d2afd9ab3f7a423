// Connection caps, so slow or idle clients cannot take every socket (and file descriptor) the
// process has: a total below the descriptor limit, and a share per client address so one
// address cannot take that total either. Counted on the TCP peer, before any header is read:
// behind a proxy every client is the proxy's address (set the per-client cap for it, or 0).
import type { Server } from 'node:http';
import { ipKeyGenerator } from 'express-rate-limit';

export interface ConnectionLimits {
  /** Open connections at once; 0: no cap. */
  total: number;
  /** Open connections at once from one address (IPv6: one /56, as the rate limiter counts); 0: no cap. */
  perClient: number;
  /** Told of every connection closed at once because a cap was reached. */
  onRefused?: (reason: 'total' | 'per_client') => void;
}

export function limitConnections(server: Server, limits: ConnectionLimits): void {
  if (limits.total > 0) {
    server.maxConnections = limits.total;
    server.on('drop', () => limits.onRefused?.('total'));
  }
  if (limits.perClient <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    if (!socket.remoteAddress) return; // already gone
    const key = ipKeyGenerator(socket.remoteAddress);
    const count = (open.get(key) ?? 0) + 1;
    if (count > limits.perClient) {
      limits.onRefused?.('per_client');
      socket.destroy();
      return;
    }
    open.set(key, count);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    });
  });
}
