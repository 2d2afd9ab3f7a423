// HubSpot (@hubspot/api-client): contacts, notes, deals and tasks.
import { defineConnector } from '../connector.js';
import { createHubSpotConnector, hubspotEnv } from './client.js';
import { contactFindByPhone } from './lookups/contact-by-phone.js';
import { contactUpsert } from './steps/contact-upsert.js';
import { dealCreate } from './steps/deal-create.js';
import { noteCreate } from './steps/note-create.js';
import { taskCreate } from './steps/task-create.js';

export const hubspotSpec = defineConnector({ name: 'hubspot', title: 'HubSpot', config: hubspotEnv, steps: [contactUpsert, noteCreate, dealCreate, taskCreate, contactFindByPhone], create: createHubSpotConnector });
