// `aftercall sandbox`: the vendor stand-ins of src/sandbox on 127.0.0.1 until Ctrl+C; prints the
// variables that point the connectors at them, then a line per request they receive.
import { InvalidArgumentError, type Command } from 'commander';
import { REQUESTS_PATH, startSandbox } from '../sandbox/sandbox.js';
import type { CliContext } from './cli-config.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('must be a port number (0: any free one)');
  return n;
}

/** A value as a POSIX shell word. */
const shellWord = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

export function registerSandboxCommand(program: Command, ctx: CliContext): void {
  program
    .command('sandbox')
    .description('Local stand-ins of HubSpot, Pipedrive, Salesforce, Twilio, Google Calendar and SMTP, to try mappings without vendor accounts')
    .option('--port <port>', 'HTTP port of the vendor stand-ins on 127.0.0.1', port, 4010)
    .option('--smtp-port <port>', 'SMTP port on 127.0.0.1', port, 4025)
    .action(async (opts: { port: number; smtpPort: number }) => {
      let sandbox;
      try {
        sandbox = await startSandbox({ port: opts.port, smtpPort: opts.smtpPort, onLine: (line) => ctx.print(`${new Date().toISOString()} ${line}`) });
      } catch (error) {
        if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
        ctx.printError(`aftercall sandbox: a port is in use (${(error as Error).message.replace(/^.*in use /, '')}); choose others with --port / --smtp-port, or 0 for any free one`);
        ctx.exitCode = 1;
        return;
      }
      ctx.print('aftercall sandbox: HubSpot, Pipedrive, Salesforce, Twilio and Google Calendar stand-ins' + (sandbox.smtpUnavailable ? '' : ' and an SMTP server') + ' on 127.0.0.1');
      if (sandbox.smtpUnavailable) ctx.print(`(${sandbox.smtpUnavailable})`);
      ctx.print('Export these where aftercall runs (another terminal, or its .env), then start it:\n');
      for (const [name, value] of Object.entries(sandbox.env)) ctx.print(`export ${name}=${shellWord(value)}`);
      ctx.print(`\nWhat they received, with bodies: ${sandbox.url}${REQUESTS_PATH}  (nothing leaves this machine; Ctrl+C stops)\n`);
      const stop = () => void sandbox.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
