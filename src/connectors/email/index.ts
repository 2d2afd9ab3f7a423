// Email (nodemailer over SMTP).
import { defineConnector } from '../connector.js';
import { emailSend } from './steps/email-send.js';
import { createEmailConnector, emailEnv } from './transport.js';

export const emailSpec = defineConnector({ name: 'email', title: 'Email (SMTP)', config: emailEnv, steps: [emailSend], create: createEmailConnector });
