// What the vendor connectors (HubSpot, Salesforce, Pipedrive, Twilio, email) share:
// configuration read from the environment at call time, one deadline per step, and the
// translation of a vendor's answer into TransientError / PermanentError. Only the worker
// decides whether to retry; these helpers only say which kind of failure it was.
import { z } from 'zod';
import type { ClientPool, Pooled } from './client-pool.js';
import { deadlineSignal, PermanentError, TransientError, type StepContext } from './connector.js';

export type Env = Record<string, string | undefined>;

// ---------------------------------------------------------------------------------------
// Configuration

export interface EnvConfig<S extends z.ZodObject> {
  schema: S;
  /** The variables to set (or fix), e.g. "HUBSPOT_ACCESS_TOKEN", or null when ready. */
  missing(env?: Env): string | null;
  /** The validated configuration; a PermanentError naming the variables when it is incomplete. */
  read(env?: Env): z.output<S>;
}

/**
 * A connector's variables as a zod object (every field `.describe()`d: docs/connectors.md is
 * generated from it). Blank values count as unset. `check` adds rules across variables
 * (e.g. "a token, or a client id and secret") and returns what is missing.
 */
export function envConfig<S extends z.ZodObject>(
  vendor: string,
  schema: S,
  check?: (values: z.output<S>) => string | null,
): EnvConfig<S> {
  const names = Object.keys(schema.shape);
  // Read at every step (a changed variable counts from the next step), validated only when a
  // value changed: parsing on every step is measurable CPU for nothing.
  let last: { env: Env; raw: Array<string | undefined>; result: ReturnType<typeof validate> } | null = null;
  const parse = (env: Env) => {
    const raw = names.map((name) => env[name]);
    if (last?.env === env && raw.every((value, i) => value === last!.raw[i])) return last.result;
    const result = validate(raw);
    last = { env, raw, result };
    return result;
  };
  const validate = (raw: Array<string | undefined>) => {
    const values = Object.fromEntries(names.map((name, i) => [name, raw[i]?.trim() ? raw[i]!.trim() : undefined]));
    const parsed = schema.safeParse(values);
    if (!parsed.success) {
      const problems = new Map<string, string>(); // the first problem of each variable
      for (const issue of parsed.error.issues) {
        const name = String(issue.path[0]);
        if (!problems.has(name)) problems.set(name, values[name] === undefined ? name : `${name} (${issue.message})`);
      }
      return { ok: false as const, missing: joinNames([...problems.values()]) };
    }
    const missing = check?.(parsed.data) ?? null;
    return missing ? { ok: false as const, missing } : { ok: true as const, data: parsed.data };
  };
  return {
    schema,
    missing: (env = process.env) => {
      const result = parse(env);
      return result.ok ? null : result.missing;
    },
    read: (env = process.env) => {
      const result = parse(env);
      if (!result.ok) throw new PermanentError(`${vendor} is not configured: set ${result.missing}`);
      return result.data;
    },
  };
}

/** "A", "A and B", "A, B and C". */
export function joinNames(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** An http(s) URL without a trailing slash (the SDKs append paths to it). */
export const baseUrl = z
  .string()
  .url('must be a URL like https://sandbox.example.com')
  .refine((v) => /^https?:\/\//i.test(v), 'must start with http:// or https://')
  .transform((v) => v.replace(/\/+$/, ''));

/**
 * `load` (a dynamic import of an SDK) run once and its promise kept: a repeated `import()` of a
 * loaded module still resolves it each time. A failed load is tried again on the next call.
 */
export function lazyImport<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | null = null;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = null;
      throw error;
    }));
}

// ---------------------------------------------------------------------------------------
// Deadlines

/** The step's deadline passed (`shutdown`: the worker is stopping and releases the run). */
export class DeadlineError extends Error {
  constructor(
    readonly timeoutMs: number,
    readonly shutdown: boolean,
  ) {
    super(shutdown ? 'aborted: the service is shutting down' : `no answer within ${timeoutMs} ms`);
    this.name = 'DeadlineError';
  }
}

/**
 * Runs `work` (one or more SDK calls) until the step's deadline. SDKs that cannot take an
 * AbortSignal still get a timeout of their own; `cancel` (e.g. destroying an HTTP agent) stops
 * their request when the deadline passes first, so nothing keeps running behind the step.
 */
export async function untilDeadline<T>(ctx: StepContext, work: (signal: AbortSignal) => Promise<T>, cancel?: () => void): Promise<T> {
  // Aborts at the step's timeout or when the worker shuts down, whichever comes first.
  const deadline$ = deadlineSignal(ctx.signal, ctx.timeoutMs);
  const { signal } = deadline$;
  if (signal.aborted) {
    deadline$.clear();
    throw new DeadlineError(ctx.timeoutMs, ctx.signal.aborted);
  }
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    onAbort = () => {
      cancel?.();
      reject(new DeadlineError(ctx.timeoutMs, ctx.signal.aborted));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const running = work(signal);
    running.catch(() => undefined); // settled later than the deadline: already reported
    return await Promise.race([running, deadline]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
    deadline$.clear();
  }
}

/**
 * The context of a send that must not be abandoned once under way (an SMS, an email): a
 * shutdown that has begun stops the step now (DeadlineError, the run is released); one that
 * comes later does not, so the step records what really happened. The step's deadline holds.
 */
export function sendContext(ctx: StepContext): StepContext {
  if (ctx.signal.aborted) throw new DeadlineError(ctx.timeoutMs, true);
  // ctx as the prototype, not spread: its logger is made on first use (execute-run.ts).
  return Object.create(ctx, { signal: { value: new AbortController().signal, enumerable: true } }) as StepContext;
}

/**
 * Runs `work` with a client lent by `pool` (built by `create` when none is idle for `key`, the
 * configuration's values) until the step's deadline. At the deadline the client is cut off: the
 * step's requests are destroyed (the SDKs take no AbortSignal) or its connection closed, and the
 * client is discarded; no other step uses it. Otherwise it goes back to the pool with its
 * connections.
 */
export async function withPooledClient<C extends Pooled, T>(
  ctx: StepContext,
  pool: ClientPool<C>,
  key: string,
  create: () => C,
  work: (client: C, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const client = pool.lend(key, create);
  try {
    return await untilDeadline(
      ctx,
      (signal) => work(client, signal),
      () => pool.cut(client, new DeadlineError(ctx.timeoutMs, ctx.signal.aborted)),
    );
  } finally {
    pool.giveBack(client);
  }
}

// ---------------------------------------------------------------------------------------
// Classification

/** Runs one SDK call, tagging a failure with what was tried ("search contacts") for the message. */
export async function during<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error && typeof error === 'object' && !('vendorAction' in error)) (error as { vendorAction?: string }).vendorAction = action;
    throw error;
  }
}

/** The action an error was tagged with by `during`, else `fallback`. */
export function actionOf(error: unknown, fallback: string): string {
  const tagged = (error as { vendorAction?: unknown } | null)?.vendorAction;
  return typeof tagged === 'string' ? tagged : fallback;
}

/** One failed vendor call, as far as the SDK tells it. */
export interface VendorFailure {
  /** HTTP status of the vendor's answer; absent when there was none. */
  status?: number;
  /** What the vendor said (its error message, code, category). */
  detail?: string;
  retryAfterMs?: number;
  /** Network error code (ECONNREFUSED, ETIMEDOUT, …) when no answer came. */
  network?: string;
}

/** 408, 429 and 5xx may pass on retry; every other answer will fail the same way again. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * The classified error for a vendor call: `action` names what was tried ("HubSpot: search
 * contacts"). Timeouts and network errors are transient.
 */
export function classifyFailure(action: string, failure: VendorFailure): TransientError | PermanentError {
  const said = failure.detail ? `: ${clip(failure.detail)}` : '';
  const summary =
    failure.status !== undefined ? `${action} answered ${failure.status}` : `${action} failed: ${failure.network ?? 'network error'}`;
  const error =
    failure.status !== undefined && !isTransientStatus(failure.status)
      ? new PermanentError(`${summary}${said}`)
      : new TransientError(`${summary}${said}`, failure.retryAfterMs);
  if (said) error.summary = summary;
  return error;
}

/**
 * For a deadline, a network error or an error of the code itself: the classified error, else
 * null. A TypeError, SyntaxError or zod error inside a vendor call means the answer had a shape
 * the code did not expect (or a bug): the same answer comes again, so it is permanent, and the
 * step's evidence shows the answer.
 */
export function classifyCommon(action: string, error: unknown): TransientError | PermanentError | null {
  if (error instanceof TransientError || error instanceof PermanentError) return error;
  if (error instanceof DeadlineError) {
    return new TransientError(`${action}: ${error.message}`);
  }
  const code = networkCode(error);
  if (code) return new TransientError(`${action} failed: ${code}`);
  if (isProgrammingError(error)) {
    const e = error as Error;
    const failure = new PermanentError(`${action}: unexpected answer (${e.name}: ${clip(e.message)})`);
    failure.summary = `${action}: unexpected answer (${e.name})`;
    return failure;
  }
  return null;
}

/** Errors no retry can mend: the code met a value it does not handle. */
function isProgrammingError(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    error instanceof SyntaxError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    (error instanceof Error && error.name === 'ZodError')
  );
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'EPIPE',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The system error code of a network failure, looking through `cause`, else null. */
export function networkCode(error: unknown): string | null {
  for (let e = error as { code?: unknown; errno?: unknown; cause?: unknown } | null | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
    if (typeof e.errno === 'string' && NETWORK_CODES.has(e.errno)) return e.errno;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string') {
      const found = /\b(E[A-Z_]{4,})\b/.exec(message)?.[1];
      if (found && NETWORK_CODES.has(found)) return found;
      if (/socket hang up/i.test(message)) return 'ECONNRESET';
    }
  }
  return null;
}

/** Header lookup that ignores case (SDKs differ in how they case header names). */
export function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const get = (headers as { get?: unknown }).get;
  if (typeof get === 'function') {
    const value = (get as (n: string) => unknown).call(headers, name);
    if (typeof value === 'string') return value;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? String(value[0]) : value === undefined ? undefined : String(value);
  }
  return undefined;
}

export function clip(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

// ---------------------------------------------------------------------------------------
// Inputs and text

/**
 * An optional `with` field. A template whose value is missing renders as null, so every
 * optional field takes null as "not given".
 */
export const optional = <T extends z.ZodType>(schema: T) => schema.nullish();

/** A record id as vendors return it (HubSpot and Salesforce ids are strings, Pipedrive's numbers). */
export const recordId = z.union([z.string().min(1), z.number().int().positive()]).transform(String);
export const numericId = z.coerce.number().int().positive();

/** Property values a CRM field takes; null leaves the field alone. */
export const fieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const fieldValues = z.record(z.string(), fieldValue);

/** Drops null/undefined values. */
export function present<T extends Record<string, unknown>>(values: T): { [K in keyof T]: Exclude<T[K], null | undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null && v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], null | undefined>;
  };
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Plain text as HTML: escaped, line breaks kept (CRM notes render HTML). */
export function textToHtml(text: string): string {
  return escapeHtml(text).replace(/\r?\n/g, '<br>');
}
