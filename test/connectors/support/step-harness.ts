// Runs one step kind the way the worker does: the rendered input validated by the kind's zod
// schema, then `execute` with a step context (silent logger unless captured, short timeout), on
// connectors built from the environment as a service builds them at start. A test that changes
// a connector's variable gets connectors built anew from it at its next step, as a restart
// would; the earlier ones stay open until closeTestConnectors (each test file's afterEach).
// Also clears proxy variables before any SDK is loaded (jsforce reads them at load time).
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Connector, StepContext } from '../../../src/connectors/connector.js';
import { closeConnectors, CONNECTOR_SPECS, createConnectors, stepKinds } from '../../../src/connectors/index.js';

for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy']) delete process.env[name];

/** The step kinds' schemas, defaults and configuration checks (`missingConfig()` reads process.env). */
export const KINDS = stepKinds(createConnectors({}));

const VARIABLES = CONNECTOR_SPECS.flatMap((spec) => Object.keys(spec.config?.schema.shape ?? {}));
let current: { variables: string; connectors: Connector[] } | null = null;
const built: Connector[][] = [];

/** The connectors steps run on: built from the environment at a test's first step, and again after a variable changed. */
export function testConnectors(): Connector[] {
  const variables = JSON.stringify(VARIABLES.map((name) => process.env[name]));
  if (current?.variables !== variables) {
    current = { variables, connectors: createConnectors(process.env) };
    built.push(current.connectors);
  }
  return current.connectors;
}

/** Closes every connector built for the test; the next step builds new ones. */
export async function closeTestConnectors(): Promise<void> {
  current = null;
  for (const connectors of built.splice(0)) await closeConnectors(connectors);
}

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
  const step = stepKinds(testConnectors()).get(kind);
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
