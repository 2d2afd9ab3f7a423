// Every connector, registered in one plain list.
import type { Connector, StepKind } from './connector.js';
import { httpConnector } from './http-request.js';
import { logConnector } from './log.js';

export const CONNECTORS: readonly Connector[] = [httpConnector, logConnector];

export type StepKinds = ReadonlyMap<string, StepKind>;

export function stepKinds(connectors: readonly Connector[] = CONNECTORS): StepKinds {
  return new Map(connectors.flatMap((c) => c.steps.map((s) => [s.kind, s] as const)));
}
