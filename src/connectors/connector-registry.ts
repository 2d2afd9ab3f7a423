// Building connectors: each registered connector's variables read from the environment once,
// validated and frozen, and its constructor run, so a step finds its clients, token cache and
// write batches in the instance it is bound to. A connector whose variables are incomplete is
// still built: its steps fail with what to set (a mapping using them is refused at load), and
// every other connector works.
import type { Env } from './connector-config.js';
import { PermanentError, type Connector, type ConnectorSpec, type StepDefinition, type StepKind } from './connector.js';

export type StepKinds = ReadonlyMap<string, StepKind>;

/** The connectors of `specs`, each built from its variables in `env` (read here, once). */
export function buildConnectors(specs: readonly ConnectorSpec[], env: Env): Connector[] {
  return specs.map((spec) => buildConnector(spec, env));
}

export function buildConnector(spec: ConnectorSpec, env: Env): Connector {
  const parsed = spec.config ? spec.config.parse(env) : { ok: true as const, config: Object.freeze({}) };
  const instance = parsed.ok ? spec.create(parsed.config) : null;
  const notConfigured = () => new PermanentError(`${spec.title} is not configured: set ${parsed.ok ? '' : parsed.missing}`);
  return {
    name: spec.name,
    steps: spec.steps.map((step) => bindStep(spec, step, (input, ctx) => (instance ? step.execute(input, ctx, instance) : Promise.reject(notConfigured())))),
    close: () => instance?.close?.(),
  };
}

function bindStep(spec: ConnectorSpec, step: StepDefinition, execute: StepKind['execute']): StepKind {
  const { needs, execute: _unbound, ...kind } = step;
  return {
    ...kind,
    execute,
    ...(spec.config ? { missingConfig: (env: Env = process.env, input?: Record<string, unknown>) => missingConfig(spec, needs, env, input) } : {}),
  };
}

/**
 * What a step of `spec` lacks in `env`: the connector's variables, then (for a step written
 * as `input`) what the step neither gives itself nor finds configured, e.g. a sender.
 */
function missingConfig(spec: ConnectorSpec, needs: StepDefinition['needs'], env: Env, input: Record<string, unknown> | undefined): string | null {
  const parsed = spec.config!.parse(env);
  if (!parsed.ok) return parsed.missing;
  return input && needs ? needs(parsed.config, input) : null;
}

export function stepKinds(connectors: readonly Connector[]): StepKinds {
  return new Map(connectors.flatMap((c) => c.steps.map((s) => [s.kind, s] as const)));
}

/** Closes what the connectors keep between steps (clients, idle connections): at shutdown. */
export async function closeConnectors(connectors: readonly Connector[]): Promise<void> {
  await Promise.all(connectors.map(async (c) => c.close?.()));
}
