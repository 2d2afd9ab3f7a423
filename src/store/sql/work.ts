// A store operation written once, as a generator of statements: each backend drives it its
// own way. SQLite runs it synchronously (inside its group commit's transaction); PostgreSQL
// awaits each statement, on the pool or on one connection inside BEGIN … COMMIT.
import type { Query } from './query.js';

export type Op =
  | { kind: 'all'; query: Query }
  /** A write; answered with the number of rows it changed. */
  | { kind: 'run'; query: Query }
  /** Several statements without values (a migration). */
  | { kind: 'script'; text: string };

export type Work<T> = Generator<Op, T, unknown>;

export function* all<R>(query: Query): Work<R[]> {
  return (yield { kind: 'all', query }) as R[];
}

export function* get<R>(query: Query): Work<R | undefined> {
  return (yield* all<R>(query))[0];
}

export function* run(query: Query): Work<number> {
  return (yield { kind: 'run', query }) as number;
}

export function* script(text: string): Work<void> {
  yield { kind: 'script', text };
}

/** How an operation runs. */
export interface How {
  /** It writes (SQLite: through the group commit). */
  write?: boolean;
  /** It has several statements that commit together (PostgreSQL: one transaction). */
  tx?: boolean;
  /** A claimed run's write: SQLite stops the run's writes at the first that fails. */
  chain?: number;
  /** The worker's (or retention's): PostgreSQL keeps connections back for deliveries. */
  worker?: boolean;
}

/** Drives `work` with a synchronous executor. */
export function driveSync<T>(work: Work<T>, exec: (op: Op) => unknown): T {
  let step = work.next();
  while (!step.done) step = work.next(exec(step.value));
  return step.value;
}

/** Drives `work` with an asynchronous executor. */
export async function driveAsync<T>(work: Work<T>, exec: (op: Op) => Promise<unknown>): Promise<T> {
  let step = work.next();
  while (!step.done) step = work.next(await exec(step.value));
  return step.value;
}

/** What differs between the backends' SQL in the operations written once. */
export interface Flavor {
  kind: 'sqlite' | 'postgres';
  /** How step records sort: by start, unstarted first, then by id in byte order. */
  stepOrder: string;
  /** Appended to the lease check of a step's write (PostgreSQL: a row lock until commit). */
  forShare: string;
  /** How the large values of a delivery are held (SQLite: deflated; PostgreSQL: as they are). */
  payloads: StoredPayloads;
}

/** The raw body (receipts.raw_body) and the normalized call (revisions.call_json) as stored. */
export interface StoredPayloads {
  packBody(bytes: Buffer): Buffer;
  unpackBody(stored: Buffer | null): Buffer | null;
  packCall(json: string): Buffer | string;
  unpackCall(stored: Buffer | string): string;
}

export const PLAIN_PAYLOADS: StoredPayloads = {
  packBody: (bytes) => bytes,
  unpackBody: (stored) => stored,
  packCall: (json) => json,
  unpackCall: (stored) => (typeof stored === 'string' ? stored : stored.toString('utf8')),
};
