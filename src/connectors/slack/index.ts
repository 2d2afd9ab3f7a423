// Slack (@slack/web-api, @slack/webhook): messages to channels and incoming webhooks.
import { defineConnector } from '../connector.js';
import { createSlackConnector, slackEnv } from './client.js';
import { messageSend } from './steps/message-send.js';

export const slackSpec = defineConnector({ name: 'slack', title: 'Slack', config: slackEnv, steps: [messageSend], create: createSlackConnector });
