#!/usr/bin/env node
// aftercall's command line: `serve`, `check`, `replay`, `test`, `runs list|show|retry`, `quarantine list`,
// `fixtures export`, `sandbox`, `send` and `receiver`. Usage errors exit 2, failed checks exit 1.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError } from '../config.js';
import { MappingLoadError } from '../mapping/load-mappings.js';
import { registerCheckCommand } from './check-command.js';
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

const program = new Command()
  .name('aftercall')
  .version(version, '-V, --version', 'print the version')
  .description('Turns post-call webhooks of AI phone assistants into durable, deduplicated work.')
  .showHelpAfterError();

registerServeCommand(program);
registerCheckCommand(program);
registerReplayCommand(program);
registerTestCommand(program);
registerRunsCommands(program);
registerSendCommand(program);
registerReceiverCommand(program);
registerFixturesCommands(program);
registerSandboxCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof MappingLoadError || error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  // A start-up failure (unreadable store, port in use, a service down, …): a sentence, not a stack trace.
  console.error(`aftercall: ${plainMessage(error)}`);
  process.exit(1);
});
