// One bounded load round against a 127.0.0.1 target, POSTing a fresh body per request, with
// one of two generators:
//   - autocannon (runLoad): as fast as `connections` allow, or autocannon's `overallRate`
//     (each connection sends its share of the second's requests back to back as soon as the
//     second starts, then waits: a burst per second, not an even pace);
//   - an evenly paced open loop (runPaced): one request every 1/rate s on a keep-alive pool,
//     each latency measured from the time the request was due, so a slow reply that holds up
//     the next ones counts against them too (no coordinated omission).
// Both count replies by status, measure the CPU of the server, of this process, of a helper
// (PostgreSQL, the stub vendors; when given) and of everything else, and sample the server's
// resident memory.
export { runLoad } from './autocannon-load.js';
export { runPaced } from './paced-load.js';
export type { Generator, LoadOptions, LoadResult, Stoppable } from './load-round.js';
