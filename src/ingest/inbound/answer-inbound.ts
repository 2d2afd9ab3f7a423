// Answering an inbound-call request: the matching mappings' lookups run in parallel, each
// bounded by its own timeout and by the request's deadline (INBOUND_DEADLINE_MS); at the
// deadline what is known is answered and every other variable gets its default. Nothing here
// throws or waits past the deadline: a lookup that fails, hangs or ignores its abort signal
// is recorded as such and its variables take their defaults.
import type { StepKinds } from '../../connectors/connector-registry.js';
import { deadlineSignal } from '../../connectors/deadline.js';
import type { Logger } from '../../logger.js';
import type { CompiledMapping } from '../../mapping/load-mappings.js';
import type { CompiledLookup, PromptValue } from '../../mapping/inbound-section.js';
import { maskPhone, maskText } from '../../masking.js';
import type { InboundLookupOutcome } from '../../store/inbound-records.js';
import type { InboundStore } from '../../store/store.js';
import type { InboundRequest } from './inbound-request.js';
import type { LookupCache } from './lookup-cache.js';

export interface InboundAnswerDeps {
  kinds: StepKinds;
  store: Pick<InboundStore, 'earlierCalls'>;
  cache: LookupCache;
  deadlineMs: number;
  logger: Logger;
  metrics: { inboundLookups: { inc(labels: { kind: string; outcome: InboundLookupOutcome['outcome'] }): void } };
  now?: () => number;
}

export interface InboundAnswer {
  variables: Record<string, PromptValue>;
  mappings: string[];
  lookups: InboundLookupOutcome[];
  /** Some lookup (or a variable's template) was still running at the deadline. */
  deadlineHit: boolean;
}

/** The mappings whose `inbound:` section takes this request, in file-name order (the merge order). */
export function matchInbound(request: InboundRequest, mappings: readonly CompiledMapping[]): CompiledMapping[] {
  return mappings
    .filter((m) => {
      if (!m.enabled || !m.inbound) return false;
      const { assistant_phone, assistant_id } = m.inbound.match;
      if (assistant_phone && !(request.assistant_phone && assistant_phone.includes(request.assistant_phone))) return false;
      if (assistant_id && !(request.assistant_id !== null && assistant_id.some((id) => String(id) === String(request.assistant_id)))) return false;
      return true;
    })
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** Only the defaults, in the merge order: the answer when nothing else can be given in time. */
export function defaultsOf(mappings: readonly CompiledMapping[]): Record<string, PromptValue> {
  const out: Record<string, PromptValue> = {};
  for (const m of mappings) for (const [name, value] of Object.entries(m.inbound!.defaults)) if (!(name in out)) out[name] = value;
  return out;
}

/**
 * Imports the vendor SDKs the loaded inbound lookups use, so the first inbound call after a
 * start is not the one that waits for an import past the deadline.
 */
export async function preloadLookups(mappings: readonly CompiledMapping[], kinds: StepKinds): Promise<void> {
  const uses = new Set(mappings.flatMap((m) => m.inbound?.lookups.map((l) => l.use) ?? []));
  await Promise.all([...uses].map((use) => kinds.get(use)?.preload?.()));
}

/** What a deadline race answers when the deadline came first. */
const LATE = Symbol('late');

export function createInboundAnswerer(deps: InboundAnswerDeps) {
  const now = deps.now ?? Date.now;

  async function answer(requestId: string, request: InboundRequest, mappings: readonly CompiledMapping[], startedAt: number): Promise<InboundAnswer> {
    const deadlineAt = startedAt + deps.deadlineMs;
    const master = deadlineSignal(new AbortController().signal, Math.max(0, deadlineAt - now()));
    const outcomes: InboundLookupOutcome[] = [];
    try {
      const results = await Promise.all(
        mappings.map(async (m) => {
          const values = await Promise.all(m.inbound!.lookups.map((l) => runLookup(requestId, request, m.name, l, master.signal, deadlineAt, outcomes)));
          return Object.fromEntries(m.inbound!.lookups.map((l, i) => [l.id, values[i]]));
        }),
      );
      let deadlineHit = outcomes.some((o) => o.outcome === 'timeout');
      // Templates answer synchronously but for JSONata's evaluator, which gets what is left of
      // the deadline, and never less than RENDER_GRACE_MS (the lookups may have used it all).
      const rendering = timer(Math.max(deadlineAt - now(), RENDER_GRACE_MS));
      const variables: Record<string, PromptValue> = {};
      try {
        for (const [i, m] of mappings.entries()) {
          const context = { inbound: request, lookups: results[i] };
          for (const v of m.inbound!.variables) {
            if (v.name in variables) continue; // an earlier mapping gave it a value: it wins
            const rendered = await renderWithin(v.render, context, rendering.done);
            if (rendered === LATE) deadlineHit = true;
            const value = rendered === LATE ? undefined : promptValue(rendered);
            if (value !== undefined) variables[v.name] = value;
          }
        }
      } finally {
        rendering.clear();
      }
      return { variables: { ...defaultsOf(mappings), ...variables }, mappings: mappings.map((m) => m.name), lookups: outcomes, deadlineHit };
    } finally {
      master.clear();
    }
  }

  async function runLookup(
    requestId: string,
    request: InboundRequest,
    mapping: string,
    lookup: CompiledLookup,
    deadline: AbortSignal,
    deadlineAt: number,
    outcomes: InboundLookupOutcome[],
  ): Promise<unknown> {
    const started = now();
    const record = (outcome: InboundLookupOutcome['outcome'], error?: string) => {
      const entry: InboundLookupOutcome = { name: lookup.id, mapping, use: lookup.use, outcome, ms: now() - started, ...(error ? { error: maskText(error) } : {}) };
      outcomes.push(entry);
      deps.metrics.inboundLookups.inc({ kind: lookup.use, outcome });
      if (outcome === 'timeout' || outcome === 'failed') {
        deps.logger.warn({ mapping, lookup: lookup.id, use: lookup.use, outcome, caller: maskPhone(request.customer_phone), error: entry.error }, 'inbound lookup gave nothing in time');
      }
    };
    const budget = Math.min(lookup.timeoutMs ?? Infinity, deadlineAt - started);
    if (budget <= 0 || deadline.aborted) {
      record('timeout', 'no time left before the deadline');
      return undefined;
    }
    const own = deadlineSignal(deadline, budget);
    const stopped = new Promise<typeof LATE>((resolve) => own.signal.addEventListener('abort', () => resolve(LATE), { once: true }));
    try {
      const input = await raceDeadline(render(lookup.render, { inbound: request }), stopped);
      if (input === LATE) {
        record('timeout', `no answer within ${Math.round(budget)} ms`);
        return undefined;
      }
      const prepared = prepare(lookup, input, request);
      if ('skip' in prepared) {
        record(prepared.outcome, prepared.skip);
        return undefined;
      }
      const cached = deps.cache.get(prepared.key);
      if (cached !== undefined) {
        record('cached');
        return cached;
      }
      const running = prepared.run({ logger: deps.logger, signal: own.signal, timeoutMs: budget, idempotencyKey: `inbound:${requestId}:${mapping}:${lookup.id}` });
      running.catch(() => undefined); // settled after the deadline: already recorded as a timeout
      const value = await raceDeadline(running, stopped);
      if (value === LATE) {
        record('timeout', `no answer within ${Math.round(budget)} ms`);
        return undefined;
      }
      // "Found nothing" is an answer too: cached as null, so a stranger's redial asks no one.
      deps.cache.set(prepared.key, value ?? null);
      record('ok');
      return value ?? null;
    } catch (error) {
      record(own.signal.aborted ? 'timeout' : 'failed', error instanceof Error ? error.message : String(error));
      return undefined;
    } finally {
      own.clear();
    }
  }

  type Prepared =
    | { key: string; run: (ctx: Parameters<NonNullable<ReturnType<StepKinds['get']>>['execute']>[1]) => Promise<unknown> }
    | { skip: string; outcome: 'skipped' | 'failed' };

  /** The lookup's validated input and how to run it, or why it cannot run. */
  function prepare(lookup: CompiledLookup, rendered: unknown, request: InboundRequest): Prepared {
    const given = (rendered ?? {}) as Record<string, unknown>;
    if (lookup.use === 'earlier_calls') {
      const phone = typeof given.phone === 'string' && given.phone ? given.phone : request.customer_phone;
      if (!phone) return { skip: 'the caller withheld their number', outcome: 'skipped' };
      return { key: `earlier_calls\u0000${phone}`, run: () => deps.store.earlierCalls(phone) };
    }
    const kind = deps.kinds.get(lookup.use);
    if (!kind) return { skip: `${lookup.use} is not available`, outcome: 'failed' };
    if ('phone' in given && !given.phone) return { skip: 'the caller withheld their number', outcome: 'skipped' };
    const parsed = kind.input.safeParse(given);
    if (!parsed.success) return { skip: `invalid input: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`, outcome: 'failed' };
    return { key: `${lookup.use}\u0000${stableJson(parsed.data)}`, run: (ctx) => kind.execute(parsed.data, ctx) };
  }

  return { answer };
}

async function render(fn: (context: object) => unknown, context: object): Promise<unknown> {
  return fn(context);
}

/** How long templates that need JSONata's evaluator may take when the lookups used the whole deadline. */
const RENDER_GRACE_MS = 50;

function timer(ms: number): { done: Promise<typeof LATE>; clear(): void } {
  let handle: NodeJS.Timeout | undefined;
  const done = new Promise<typeof LATE>((resolve) => (handle = setTimeout(() => resolve(LATE), ms)));
  return { done, clear: () => clearTimeout(handle) };
}

/** A template's value: at once when it answers synchronously; a promise raced against `late`; undefined when it throws. */
function renderWithin(fn: (context: object) => unknown, context: object, late: Promise<typeof LATE>): unknown {
  let value: unknown;
  try {
    value = fn(context);
  } catch {
    return undefined;
  }
  if (!(value instanceof Promise)) return value;
  return raceDeadline(value.catch(() => undefined), late);
}

function raceDeadline<T>(work: Promise<T>, late: Promise<typeof LATE>): Promise<T | typeof LATE> {
  work.catch(() => undefined);
  return Promise.race([work, late]);
}

/** A rendered template as a prompt variable: text, a number or a boolean; nothing for empty. */
function promptValue(value: unknown): PromptValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value) && value.length === 0) return undefined;
  return JSON.stringify(value);
}

/** JSON with object keys sorted: the same input gives the same cache key. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
