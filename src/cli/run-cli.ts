// aftercall's command line: `serve`, `check`, `replay`, `test`, `runs list|show|retry`, `quarantine list`,
// `fixtures export`, `sandbox`, `send`, `receiver` and `connect|disconnect`. Usage errors exit 2, failed checks exit 1.
// `runCli` runs one command line in this process and resolves to its exit code, so the executable
// (main.ts) and tests drive the same code.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { MappingLoadError } from '../mapping/load-mappings.js';
import { registerCheckCommand } from './check-command.js';
import { registerConnectCommands } from './connect-command.js';
import { CliExit, cliContext, type CliContext, type CliOutput } from './cli-config.js';
import { registerFixturesCommands } from './fixtures-command.js';
import { plainMessage } from './plain-error.js';
import { registerReceiverCommand } from './receiver-command.js';
import { registerReplayCommand } from './replay-command.js';
import { registerRunsCommands } from './runs-commands.js';
import { registerSandboxCommand } from './sandbox-command.js';
import { registerSendCommand } from './send-command.js';
import { registerServeCommand } from './serve-command.js';
import { registerTestCommand } from './test-command.js';

// From src/cli and dist/cli alike, package.json is two folders up.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export interface RunCliOptions {
  stdout?: CliOutput;
  stderr?: CliOutput;
  /** Variables the configuration is read from; `.env` of the working directory fills in the rest. */
  env?: NodeJS.ProcessEnv;
}

function buildProgram(ctx: CliContext): Command {
  const program = new Command()
    .name('aftercall')
    // Before any subcommand exists: commander copies these two settings into each one it creates.
    .exitOverride()
    .configureOutput({ writeOut: (text) => void ctx.stdout.write(text), writeErr: (text) => void ctx.stderr.write(text) })
    .version(version, '-V, --version', 'print the version')
    .description('Turns post-call webhooks of AI phone assistants into durable, deduplicated work.')
    .showHelpAfterError();
  registerServeCommand(program, ctx);
  registerCheckCommand(program, ctx);
  registerReplayCommand(program, ctx);
  registerTestCommand(program, ctx);
  registerRunsCommands(program, ctx);
  registerSendCommand(program, ctx);
  registerReceiverCommand(program, ctx);
  registerFixturesCommands(program, ctx);
  registerSandboxCommand(program, ctx);
  registerConnectCommands(program, ctx);
  return program;
}

/** Runs one command line (`argv` without node and the script) and resolves to its exit code. */
export async function runCli(argv: readonly string[], options: RunCliOptions = {}): Promise<number> {
  const ctx = cliContext(options.stdout ?? process.stdout, options.stderr ?? process.stderr, options.env ?? process.env);
  try {
    await buildProgram(ctx).parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    // Commander has printed the usage error, help or version already.
    if (error instanceof CommanderError || error instanceof CliExit) return error.exitCode;
    if (error instanceof MappingLoadError || error instanceof ConfigError) {
      ctx.printError(error.message);
      return 1;
    }
    // A start-up failure (unreadable store, port in use, a service down, …): a sentence, not a stack trace.
    ctx.printError(`aftercall: ${plainMessage(error)}`);
    return 1;
  }
}
