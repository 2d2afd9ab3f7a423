// Every connector, registered in one plain list.
import type { Connector, StepKind } from './connector.js';
import { emailConnector } from './email/index.js';
import { httpConnector } from './http-request.js';
import { hubspotConnector } from './hubspot/index.js';
import { logConnector } from './log.js';
import { pipedriveConnector } from './pipedrive/index.js';
import { salesforceConnector } from './salesforce/index.js';
import { twilioConnector } from './twilio/index.js';

export const CONNECTORS: readonly Connector[] = [
  httpConnector,
  logConnector,
  hubspotConnector,
  salesforceConnector,
  pipedriveConnector,
  twilioConnector,
  emailConnector,
];

export type StepKinds = ReadonlyMap<string, StepKind>;

export function stepKinds(connectors: readonly Connector[] = CONNECTORS): StepKinds {
  return new Map(connectors.flatMap((c) => c.steps.map((s) => [s.kind, s] as const)));
}

/** Closes what the connectors keep between steps (clients, idle connections): at shutdown. */
export async function closeConnectors(connectors: readonly Connector[] = CONNECTORS): Promise<void> {
  await Promise.all(connectors.map(async (c) => c.close?.()));
}
