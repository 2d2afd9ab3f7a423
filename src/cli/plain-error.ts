// What the command line prints for a failure: one plain sentence saying what to do, never
// `fetch failed` or a stack trace. Node's network errors carry a `code` (on the error or on
// its `cause`, as fetch wraps them); those a user can fix get a sentence of their own.

interface SystemError {
  code?: string;
  port?: number;
  address?: string;
  syscall?: string;
  path?: string;
}

/** The first error in the `cause` chain that carries a system error code. */
function systemError(error: unknown): SystemError | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (typeof (e as SystemError).code === 'string') return e as SystemError;
    // AggregateError (a host with several addresses, all refused): the first says why.
    const first = (e as { errors?: unknown[] }).errors?.[0];
    if (first && typeof (first as SystemError).code === 'string') return first as SystemError;
  }
  return undefined;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is it running?)',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'timed out connecting',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for an answer',
  ABORT_ERR: 'timed out',
  ERR_INVALID_URL: 'not a valid URL',
};

/** Why a connection to somewhere failed, in a few words. */
export function connectionProblem(error: unknown): string {
  const code = systemError(error)?.code;
  if (code && REASONS[code]) return REASONS[code];
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timed out';
  // fetch says only `fetch failed`; its cause says why (`bad port`, a TLS problem, …).
  if (error instanceof Error && error.cause instanceof Error) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** A failure to reach `target` (a URL or host:port, secrets already masked). */
export class UnreachableError extends Error {
  constructor(target: string, cause: unknown) {
    super(`could not reach ${target}: ${connectionProblem(cause)}`, { cause });
    this.name = 'UnreachableError';
  }
}

/** The sentence printed for an error that ends a command. */
export function plainMessage(error: unknown): string {
  if (error instanceof UnreachableError) return error.message;
  const system = systemError(error);
  if (system?.syscall === 'listen' || system?.code === 'EADDRINUSE') {
    const port = system.port ?? '?';
    if (system.code === 'EADDRINUSE') return `port ${port} is in use — set PORT to a free port (or stop what is using it)`;
    if (system.code === 'EACCES') return `port ${port} needs more privileges — set PORT to 1024 or above`;
    if (system.code === 'EADDRNOTAVAIL') return `cannot listen on ${system.address ?? 'HOST'}:${port}: not an address of this machine — check HOST`;
  }
  if (system?.code === 'ENOENT' && system.path) return `no such file or folder: ${system.path}`;
  if (system?.code && system.address && REASONS[system.code]) {
    const where = system.port ? `${system.address}:${system.port}` : system.address;
    return `could not reach ${where}: ${REASONS[system.code]}`;
  }
  return error instanceof Error ? error.message : String(error);
}
