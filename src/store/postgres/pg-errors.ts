// Which PostgreSQL failures mean "cannot commit now" (the request gets 503 and the sender
// retries) rather than "this write is wrong" (a bug: it propagates as it is).

/** Socket-level failures: the server is down, restarting, or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
  'ENOTFOUND', 'EAI_AGAIN',
]);

/**
 * SQLSTATEs that say nothing about the write itself:
 * 08xxx connection exception; 57P01-57P03 admin/crash shutdown, cannot connect now;
 * 57014 statement timeout (a lock held too long, an overloaded server); 55P03 lock timeout;
 * 53xxx insufficient resources (disk full, too many connections); 58xxx system/I/O error;
 * 40001/40P01 serialization failure and deadlock (retrying the delivery succeeds);
 * 25006 read-only transaction (connected to a standby, e.g. during a failover).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|58)|^(57P01|57P02|57P03|57014|55P03|40001|40P01|25006)$/;

/** node-postgres raises these without a code when a connection or the pool gives out. */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
  'Query read timeout',
];

export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  // AggregateError: every address of the host refused (e.g. ::1 and 127.0.0.1 for localhost).
  if (error instanceof AggregateError && error.errors.length > 0 && error.errors.every(isUnavailable)) return true;
  return UNAVAILABLE_MESSAGES.some((m) => error.message.includes(m));
}
