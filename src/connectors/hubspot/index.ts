// HubSpot (@hubspot/api-client): contacts, notes, deals and tasks.
import type { Connector } from '../connector.js';
import { closeHubSpotClients, hubspotEnv } from './client.js';
import { contactUpsert } from './contact-upsert.js';
import { dealCreate, noteCreate, taskCreate } from './records.js';

export const hubspotConnector: Connector = {
  name: 'hubspot',
  configSchema: hubspotEnv.schema,
  steps: [contactUpsert, noteCreate, dealCreate, taskCreate],
  close: closeHubSpotClients,
};
