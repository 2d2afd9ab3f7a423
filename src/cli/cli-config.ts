// Shared pieces of the CLI commands: configuration and argument parsing.
import { InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, loadDotEnv, type Config } from '../config.js';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

/** Configuration for commands; a bad variable is printed plainly (exit 2) instead of a stack. */
export function configOrExit(): Config {
  try {
    loadDotEnv();
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}
