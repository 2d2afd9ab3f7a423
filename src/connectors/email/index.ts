// Email (nodemailer over SMTP).
import type { Connector } from '../connector.js';
import { emailSend } from './email-send.js';
import { closeSmtpTransports, emailEnv } from './transport.js';

export const emailConnector: Connector = { name: 'email', configSchema: emailEnv.schema, steps: [emailSend], close: closeSmtpTransports };
