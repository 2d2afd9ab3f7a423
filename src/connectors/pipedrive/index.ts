// Pipedrive (pipedrive SDK): persons, notes, call activities and deals.
import { defineConnector } from '../connector.js';
import { createPipedriveConnector, pipedriveEnv } from './client.js';
import { personUpsert } from './person-upsert.js';
import { activityCreate, dealCreate, noteCreate } from './records.js';

export const pipedriveSpec = defineConnector({
  name: 'pipedrive',
  title: 'Pipedrive',
  config: pipedriveEnv,
  steps: [personUpsert, noteCreate, activityCreate, dealCreate],
  create: createPipedriveConnector,
});
