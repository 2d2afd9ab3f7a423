// The connection pool of the PostgreSQL store: every call has a timeout, broken connections
// are dropped instead of crashing the process, and BIGINT columns come back as numbers.
import pg from 'pg';

/** Connections per instance when DATABASE_POOL_SIZE is not given. */
export const DEFAULT_POOL_SIZE = 10;

export interface PgPoolOptions {
  connectionString: string;
  /** Connections per instance (default 10). */
  max?: number;
  /** Connecting, or waiting for a free pooled connection, gives up after this (default 5 s). */
  connectionTimeoutMs?: number;
  /** The server cancels a statement after this (default 10 s): a held lock never hangs a request. */
  statementTimeoutMs?: number;
}

/** What a query needs, the same whether it runs on the pool or inside a transaction. */
/** `name`: a prepared statement's, reused on each connection that has parsed it. */
export type Sql = <R extends pg.QueryResultRow>(text: string, values?: unknown[], name?: string) => Promise<pg.QueryResult<R>>;

const INT8_OID = 20;
// Ids and epoch-ms times are BIGINT; both stay far below 2^53, so a JS number is exact.
const parseInt8 = (value: string): number => Number(value);
const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
  oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser;

// A dropped connection is reported by the query that needed it (as StoreUnavailableError,
// which its caller logs); the 'error' events themselves must only not go unhandled, since
// an unhandled 'error' event would end the process while the database restarts.
const ignore = () => undefined;

export function createPgPool(options: PgPoolOptions): pg.Pool {
  const statementTimeout = options.statementTimeoutMs ?? 10_000;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? DEFAULT_POOL_SIZE,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: statementTimeout,
    // A transaction left open (a stalled process) would hold its row locks forever.
    idle_in_transaction_session_timeout: Math.max(30_000, statementTimeout * 2),
    // Client side too: a server that vanished without closing the socket never answers.
    query_timeout: statementTimeout + 5_000,
    keepAlive: true,
    application_name: 'aftercall',
    types: { getTypeParser },
  });
  pool.on('error', ignore);
  pool.on('connect', (client) => client.on('error', ignore));
  return pool;
}

/**
 * NUL cannot be stored in a PostgreSQL TEXT column (SQLite keeps it). JSON text never holds
 * one raw (JSON.stringify escapes it), so this only touches free text such as a receiver's
 * error message or a skip reason quoting the payload, which would otherwise fail the write
 * (and with it the run, or the delivery) every time it is tried.
 */
const textSafe = (value: unknown): unknown => {
  if (typeof value === 'string') return value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value;
  return Array.isArray(value) ? value.map(textSafe) : value;
};

export function sqlOn(runner: pg.Pool | pg.PoolClient): Sql {
  return (text, values, name) => {
    const safe = values?.map(textSafe);
    return name ? runner.query({ name, text, values: safe }) : runner.query(text, safe);
  };
}

/**
 * BEGIN … COMMIT on one pooled connection. On any failure the connection is destroyed, not
 * returned: its state is unknown (mid-transaction, perhaps broken) and the server rolls back
 * what it had. A failed COMMIT may or may not have committed; the caller reports failure
 * (503) and the sender's retry is then either accepted or recognised as a duplicate.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let ok = false;
  try {
    await client.query('BEGIN');
    const result = await fn(sqlOn(client));
    await client.query('COMMIT');
    ok = true;
    return result;
  } finally {
    client.release(ok ? undefined : true);
  }
}
