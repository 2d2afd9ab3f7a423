// Shared by the benchmark's server processes: report the bound port to the parent, and stop
// cleanly on SIGTERM/SIGINT or as soon as the parent's end of stdin closes (the parent died).
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
export function ready(port: number): void {
  process.stdout.write(`${JSON.stringify({ port })}\n`);
}

export function onStop(stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = (code: number) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(code), 20_000);
    force.unref();
    stop()
      .catch((error: unknown) => console.error('bench server: stop failed', error))
      .finally(() => process.exit(code));
  };
  process.once('SIGTERM', () => shutdown(0));
  process.once('SIGINT', () => shutdown(0));
  process.stdin.on('end', () => shutdown(0));
  process.stdin.on('error', () => shutdown(0));
  process.stdin.resume();
}

/** Serves `app` on an ephemeral 127.0.0.1 port until stopped; `afterClose` runs once the server is closed. */
export function serveUntilStopped(app: Express, afterClose: () => void = () => undefined): void {
  const server = app.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
  server.keepAliveTimeout = 65_000;
  onStop(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          afterClose();
          resolve();
        });
      }),
  );
}
