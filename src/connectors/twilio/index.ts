// Twilio (twilio SDK): SMS.
import type { Connector } from '../connector.js';
import { closeTwilioClients, twilioEnv } from './client.js';
import { smsSend } from './sms-send.js';

export const twilioConnector: Connector = { name: 'twilio', configSchema: twilioEnv.schema, steps: [smsSend], close: closeTwilioClients };
