// `aftercall check [paths...]`: mapping files and folders (default MAPPINGS_DIR) checked as
// the service would load them. Exit 0: no errors (warnings allowed, unless --strict); 1: errors;
// 2: usage (a path that does not exist, an unknown option). `--json` prints every problem as
// {file, line, column, severity, message, key, code?} for editors and CI.
import { CommanderError, type Command } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { checkMappings, type Problem } from '../mapping/check-mappings.js';
import { loadCliDotEnv, type CliContext } from './cli-config.js';

export interface CheckCommandOptions {
  json?: boolean;
  /** Warnings fail the check too. */
  strict?: boolean;
  /** Where the connectors' configuration and MAPPINGS_DIR are read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface CheckCommandResult {
  exitCode: 0 | 1 | 2;
  stdout: string;
  stderr: string;
}

/** The whole command, in process: what it prints and its exit code. */
export function runCheck(paths: readonly string[], options: CheckCommandOptions = {}): CheckCommandResult {
  const env = options.env ?? process.env;
  let targets = [...paths];
  if (targets.length === 0) {
    try {
      targets = [loadConfig(env).MAPPINGS_DIR];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return { exitCode: 2, stdout: '', stderr: `${error.message}\n` };
    }
  }
  const result = checkMappings(targets, { env });
  const errors = result.problems.filter((p) => p.severity === 'error');
  const warnings = result.problems.filter((p) => p.severity === 'warning');
  const exitCode = result.problems.some((p) => p.code === 'not-found') ? 2 : errors.length > 0 || (options.strict && warnings.length > 0) ? 1 : 0;
  if (options.json) return { exitCode, stdout: `${JSON.stringify(result.problems, null, 2)}\n`, stderr: '' };

  const stdout = result.files.flatMap(({ path, mapping: m }) => {
    if (!m) return [];
    const count = warnings.filter((w) => w.file === path).length;
    return [`ok  ${m.file}  ${m.name}  (${m.steps.length} steps${count > 0 ? `, ${count} warning${count > 1 ? 's' : ''}` : ''})\n`];
  });
  return { exitCode, stdout: stdout.join(''), stderr: result.problems.map((p) => `${formatLine(p)}\n`).join('') };
}

function formatLine(p: Problem): string {
  if (p.code === 'not-found') return `aftercall check: ${p.file}: no such file or folder`;
  const at = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return `${at}${p.key ? ` ${p.key}:` : ''} ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}

export function registerCheckCommand(program: Command, ctx: CliContext): void {
  program
    .command('check')
    .description('Check mapping files and folders (default: MAPPINGS_DIR) as the service loads them; exit 1 on errors, 2 on usage errors')
    .argument('[paths...]', 'mapping files or folders of *.yaml')
    .option('--json', 'print every problem as JSON: [{file, line, column, severity, message, key, code}]')
    .option('--strict', 'warnings fail the check too (exit 1)')
    .exitOverride((error) => {
      throw new CommanderError(error.exitCode === 0 ? 0 : 2, error.code, error.message);
    })
    .action((paths: string[], opts: { json?: boolean; strict?: boolean }) => {
      loadCliDotEnv(ctx);
      const result = runCheck(paths, { ...opts, env: ctx.env });
      ctx.stdout.write(result.stdout);
      ctx.stderr.write(result.stderr);
      ctx.exitCode = result.exitCode;
    });
}
