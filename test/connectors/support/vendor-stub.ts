// The recording vendor stub lives in src/sandbox (aftercall sandbox runs on it too); the tests
// import it from here, with a test-only helper beside it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export * from '../../../src/sandbox/vendor-stub.js';

/** A port nothing listens on (connection refused). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
