// Shared pieces of the CLI commands: where they print, their configuration and argument parsing.
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, loadDotEnv, type Config } from '../config.js';

/** Where a command prints: `process.stdout` and `process.stderr`, or a test's capture. */
export interface CliOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * What one run of the command line reads and writes. Commands print and set their exit code
 * here, not on `process`; only serve and sandbox, which run until a signal, end the process.
 */
export interface CliContext {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** The variables configuration is read from (`process.env` for the executable). */
  readonly env: NodeJS.ProcessEnv;
  /** A line on standard output. */
  print(line: string): void;
  /** A line on standard error. */
  printError(line: string): void;
  /** The exit code once the command is done; commands set it instead of process.exitCode. */
  exitCode: number;
}

export function cliContext(stdout: CliOutput, stderr: CliOutput, env: NodeJS.ProcessEnv): CliContext {
  return {
    stdout,
    stderr,
    env,
    print: (line) => void stdout.write(`${line}\n`),
    printError: (line) => void stderr.write(`${line}\n`),
    exitCode: 0,
  };
}

/** Ends the command with this exit code; what to say has been printed already. */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CliExit';
  }
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

/**
 * Reads `.env` from the working directory into the context's variables (existing ones win).
 * Only the executable's own environment is `process.env`; a test's stays its own.
 */
export function loadCliDotEnv(ctx: CliContext): void {
  if (ctx.env === process.env) return loadDotEnv();
  if (!existsSync('.env')) return;
  for (const [name, value] of Object.entries(parseEnv(readFileSync('.env', 'utf8')))) {
    if (ctx.env[name] === undefined) ctx.env[name] = value;
  }
}

/** Configuration for commands; a bad variable is printed plainly (exit 2) instead of a stack. */
export function configOrExit(ctx: CliContext): Config {
  try {
    loadCliDotEnv(ctx);
    return loadConfig(ctx.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      ctx.printError(error.message);
      throw new CliExit(2);
    }
    throw error;
  }
}
