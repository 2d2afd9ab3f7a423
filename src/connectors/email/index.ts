// Email (nodemailer over SMTP).
import { defineConnector } from '../connector.js';
import { emailSend } from './email-send.js';
import { createEmailConnector, emailEnv } from './transport.js';

export const emailSpec = defineConnector({ name: 'email', title: 'Email (SMTP)', config: emailEnv, steps: [emailSend], create: createEmailConnector });
