// Pipedrive (pipedrive SDK): persons, notes, call activities and deals.
import type { Connector } from '../connector.js';
import { closePipedriveClients, pipedriveEnv } from './client.js';
import { personUpsert } from './person-upsert.js';
import { activityCreate, dealCreate, noteCreate } from './records.js';

export const pipedriveConnector: Connector = {
  name: 'pipedrive',
  configSchema: pipedriveEnv.schema,
  steps: [personUpsert, noteCreate, activityCreate, dealCreate],
  close: closePipedriveClients,
};
