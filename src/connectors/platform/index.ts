// The calling platform's own API (autocalls.ai, Famulor, OtoniStark; Famulor 2.0): SMS, leads, calls.
import { defineConnector } from '../connector.js';
import { platformEnv } from './config.js';
import { createPlatformConnector } from './connector.js';
import { callMake } from './steps/call-make.js';
import { leadAdd } from './steps/lead-add.js';
import { leadDelete } from './steps/lead-delete.js';
import { leadUpdate } from './steps/lead-update.js';
import { smsSend } from './steps/sms-send.js';

export const platformSpec = defineConnector({ name: 'platform', title: 'Calling platform', config: platformEnv, steps: [smsSend, leadAdd, leadUpdate, leadDelete, callMake], create: createPlatformConnector });
