// Runs one step kind the way the worker does: the rendered input validated by the kind's zod
// schema, then `execute` with a step context (silent logger unless captured, short timeout).
// Also clears proxy variables before any SDK is loaded (jsforce reads them at load time).
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { StepContext } from '../../../src/connectors/connector.js';
import { stepKinds } from '../../../src/connectors/index.js';

for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy']) delete process.env[name];

export const KINDS = stepKinds();

export function stepContext(overrides: Partial<StepContext> = {}): StepContext & { logs: Array<Record<string, unknown>> } {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return {
    logger: pino({ level: 'debug' }, sink),
    signal: new AbortController().signal,
    timeoutMs: 2_000,
    idempotencyKey: 'aftercall-41-step',
    ...overrides,
    logs,
  };
}

/** Validates `input` like the worker (throws on invalid input) and executes the step. */
export async function runStep(kind: string, input: unknown, ctx: Partial<StepContext> = {}): Promise<unknown> {
  const step = KINDS.get(kind);
  if (!step) throw new Error(`no step kind ${kind}`);
  return step.execute(step.input.parse(input), { ...stepContext(), ...ctx });
}

/** The error a step fails with (fails the test when it succeeds). */
export async function stepError(kind: string, input: unknown, ctx: Partial<StepContext> = {}): Promise<Error & { transient?: boolean; retryAfterMs?: number }> {
  try {
    await runStep(kind, input, ctx);
  } catch (error) {
    return error as Error & { transient?: boolean; retryAfterMs?: number };
  }
  throw new Error(`${kind} succeeded, but a failure was expected`);
}

/** Problems the kind's schema finds in `input`, as "path: message". */
export function inputProblems(kind: string, input: unknown): string[] {
  const result = KINDS.get(kind)!.input.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}
