import type { Command } from 'commander';
import { stepKinds } from '../connectors/index.js';
import { formatProblem, listMappingFiles, loadMappingFiles, MappingLoadError } from '../mapping/load-mappings.js';
import { configOrExit } from './cli-config.js';

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('Validate mapping files (default: every file in MAPPINGS_DIR); exit code 1 on problems')
    .argument('[files...]', 'mapping files to check')
    .action((files: string[]) => {
      const targets = files.length > 0 ? files : listMappingFiles(configOrExit().MAPPINGS_DIR);
      try {
        const mappings = loadMappingFiles(targets, stepKinds());
        for (const m of mappings) console.log(`ok  ${m.file}  ${m.name}  (${m.steps.length} steps)`);
      } catch (error) {
        if (!(error instanceof MappingLoadError)) throw error;
        for (const p of error.problems) console.error(formatProblem(p));
        process.exitCode = 1;
      }
    });
}
