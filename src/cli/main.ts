#!/usr/bin/env node
// The `aftercall` executable: the command line of run-cli.ts on this process's arguments.
import { runCli } from './run-cli.js';

const exitCode = await runCli(process.argv.slice(2));
// A failure ends the process at once, so nothing a failed command left open holds it;
// on success, long-running commands (serve, sandbox, receiver) keep it alive.
if (exitCode !== 0) process.exit(exitCode);
