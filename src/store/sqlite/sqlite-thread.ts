// The SQLite store's own thread. better-sqlite3 is synchronous: run on the main thread, every
// batch's COMMIT (and its fsync, synchronous=FULL) would stop the event loop. Here it blocks
// only this thread, while the main thread goes on reading and validating the next requests.
import { parentPort, workerData } from 'node:worker_threads';
import { StoreUnavailableError, type Store } from '../store.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import { fromWire, type WireReply, type WireRequest } from './thread-wire.js';

const port = parentPort;
if (!port) throw new Error('sqlite-thread.ts runs as a worker thread');

// A store that cannot open is reported by message alone: a throw here would race the message
// to the main thread as an 'error' event. With no listener left, the thread then ends by itself.
let opened: Store | undefined;
try {
  opened = openSqliteStore(workerData as SqliteStoreOptions);
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ ready: false, error: (error as Error)?.message ?? String(error), code: (error as { code?: string })?.code });
}
// Replies of one turn go back as one message, like the requests came.
let outbox: WireReply[] = [];
const reply = (message: WireReply) => {
  if (outbox.push(message) === 1) {
    setImmediate(() => {
      const batch = outbox;
      outbox = [];
      port.postMessage(batch);
    });
  }
};

const serve = (store: Store): void => {
  port.on('message', (requests: WireRequest[]) => {
    for (const request of requests) {
      const method = store[request.method] as (...args: unknown[]) => Promise<unknown>;
      // A method that throws before returning its promise fails that call, never the thread
      // (an exception escaping this handler would end the thread, and every later call with it).
      new Promise((resolve) => resolve(method.apply(store, fromWire(request.method, request.args)))).then(
        (value) => reply({ id: request.id, ok: true, value }),
        (error: unknown) =>
          reply({
            id: request.id,
            ok: false,
            error: {
              message: (error as Error)?.message ?? String(error),
              code: (error as { code?: string })?.code,
              unavailable: error instanceof StoreUnavailableError,
            },
          }),
      );
    }
  });
};

if (opened) serve(opened);
