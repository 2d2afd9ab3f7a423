// Salesforce (jsforce): leads, contacts and call logs.
import type { Connector } from '../connector.js';
import { salesforceEnv } from './client.js';
import { contactUpdate } from './contact-update.js';
import { leadUpsert } from './lead-upsert.js';
import { taskCreate } from './task-create.js';

export const salesforceConnector: Connector = {
  name: 'salesforce',
  configSchema: salesforceEnv.schema,
  steps: [leadUpsert, contactUpdate, taskCreate],
};
