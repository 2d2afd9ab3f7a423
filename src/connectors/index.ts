// Every connector, registered in one plain list, and the connectors a service or a command
// builds from it: once, from the environment, at its start.
import type { Env } from './connector-config.js';
import type { Connector, ConnectorSpec } from './connector.js';
import { buildConnectors } from './connector-registry.js';
import { emailSpec } from './email/index.js';
import { googleCalendarSpec } from './google-calendar/index.js';
import { httpSpec } from './http/index.js';
import { hubspotSpec } from './hubspot/index.js';
import { logSpec } from './log.js';
import { pipedriveSpec } from './pipedrive/index.js';
import { platformSpec } from './platform/index.js';
import { salesforceSpec } from './salesforce/index.js';
import { slackSpec } from './slack/index.js';
import { twilioSpec } from './twilio/index.js';

export { closeConnectors, stepKinds, type StepKinds } from './connector-registry.js';

export const CONNECTOR_SPECS: readonly ConnectorSpec[] = [httpSpec, logSpec, hubspotSpec, salesforceSpec, pipedriveSpec, twilioSpec, emailSpec, platformSpec, slackSpec, googleCalendarSpec];

/** Every registered connector, built from its variables in `env`. */
export function createConnectors(env: Env = process.env): Connector[] {
  return buildConnectors(CONNECTOR_SPECS, env);
}
