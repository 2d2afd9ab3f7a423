// `log`: write a line to the service log (masked like every log line, fields included). Handy while a
// mapping is being written, and as a no-op sink in tests and benchmarks.
import { z } from 'zod';
import { connectorStep, type ConnectorSpec } from './connector.js';

const write = connectorStep<unknown>()({
  kind: 'log',
  description: 'Write a message (and optional fields) to the service log.',
  input: z.strictObject({
    message: z.string().describe('The log message.'),
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('Log level.'),
    fields: z.record(z.string(), z.unknown()).optional().describe('Extra fields for the log line.'),
  }),
  defaultRepeat: 'always',
  output: z.object({ logged: z.literal(true).describe('Always true.') }),
  async execute(input, ctx) {
    ctx.logger[input.level]({ step_fields: input.fields }, input.message);
    return { logged: true };
  },
});

export const logSpec: ConnectorSpec = { name: 'log', title: 'Log', steps: [write], create: () => ({}) };
