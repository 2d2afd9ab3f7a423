// HubSpot (@hubspot/api-client): contacts, notes, deals and tasks.
import { defineConnector } from '../connector.js';
import { createHubSpotConnector, hubspotEnv } from './client.js';
import { contactUpsert } from './contact-upsert.js';
import { dealCreate, noteCreate, taskCreate } from './records.js';

export const hubspotSpec = defineConnector({
  name: 'hubspot',
  title: 'HubSpot',
  config: hubspotEnv,
  steps: [contactUpsert, noteCreate, dealCreate, taskCreate],
  create: createHubSpotConnector,
});
