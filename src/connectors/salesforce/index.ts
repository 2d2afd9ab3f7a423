// Salesforce (jsforce): leads, contacts and call logs.
import { defineConnector } from '../connector.js';
import { createSalesforceConnector, salesforceEnv } from './client.js';
import { contactFindByPhone } from './lookups/contact-by-phone.js';
import { contactUpdate } from './steps/contact-update.js';
import { leadUpsert } from './steps/lead-upsert.js';
import { taskCreate } from './steps/task-create.js';

export const salesforceSpec = defineConnector({
  name: 'salesforce',
  title: 'Salesforce',
  config: salesforceEnv,
  steps: [leadUpsert, contactUpdate, taskCreate, contactFindByPhone],
  create: createSalesforceConnector,
});
