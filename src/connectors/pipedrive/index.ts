// Pipedrive (pipedrive SDK): persons, notes, call activities and deals.
import { defineConnector } from '../connector.js';
import { createPipedriveConnector, pipedriveEnv } from './client.js';
import { personFindByPhone } from './lookups/person-by-phone.js';
import { activityCreate } from './steps/activity-create.js';
import { dealCreate } from './steps/deal-create.js';
import { noteCreate } from './steps/note-create.js';
import { personUpsert } from './steps/person-upsert.js';

export const pipedriveSpec = defineConnector({ name: 'pipedrive', title: 'Pipedrive', config: pipedriveEnv, steps: [personUpsert, noteCreate, activityCreate, dealCreate, personFindByPhone], create: createPipedriveConnector });
