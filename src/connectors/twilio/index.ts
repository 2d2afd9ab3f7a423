// Twilio (twilio SDK): SMS.
import { defineConnector } from '../connector.js';
import { createTwilioConnector, twilioEnv } from './client.js';
import { smsSend } from './steps/sms-send.js';

export const twilioSpec = defineConnector({ name: 'twilio', title: 'Twilio', config: twilioEnv, steps: [smsSend], create: createTwilioConnector });
