// Hot reload: a changed mapping file is re-validated and the whole set swapped atomically.
// A file that breaks keeps its last good version active; its problems go to the log and
// /readyz. Runs already planned keep executing the version they were planned with.
import { watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import type { StepKinds } from '../connectors/index.js';
import type { Logger } from '../logger.js';
import { compileMappingFiles, formatProblem, listMappingFiles, type CompiledMapping } from './load-mappings.js';
import type { MappingRegistry } from './mapping-registry.js';

export interface MappingWatcher {
  /** Re-reads the folder now (also what a file change triggers, debounced). */
  reload(): void;
  close(): void;
}

export function watchMappingDir(
  dir: string,
  kinds: StepKinds,
  registry: MappingRegistry,
  logger: Logger,
  options: { debounceMs?: number; onProblems?: (count: number) => void } = {},
): MappingWatcher {
  const debounceMs = options.debounceMs ?? 150;
  const lastGood = new Map<string, CompiledMapping>(registry.current().map((m) => [m.file, m]));
  let timer: NodeJS.Timeout | null = null;

  function reload(): void {
    let results;
    try {
      results = compileMappingFiles(listMappingFiles(dir), kinds);
    } catch (error) {
      logger.error({ err: error, dir }, 'cannot read the mappings folder; keeping the active mappings');
      return;
    }
    const next: CompiledMapping[] = [];
    const present = new Set(results.map((r) => basename(r.file)));
    for (const r of results) {
      if (r.mapping) {
        next.push(r.mapping);
        lastGood.set(r.mapping.file, r.mapping);
      }
    }
    const problems = results.flatMap((r) => r.problems);
    for (const r of results) {
      const keep = r.mapping ? null : lastGood.get(basename(r.file));
      if (keep && !next.some((m) => m.name === keep.name)) next.push(keep);
    }
    for (const file of [...lastGood.keys()]) if (!present.has(file)) lastGood.delete(file);
    const before = new Map(registry.current().map((m) => [m.name, m.hash]));
    registry.replace(next, problems);
    const changed = next.filter((m) => before.get(m.name) !== m.hash).map((m) => m.name);
    const removed = [...before.keys()].filter((name) => !next.some((m) => m.name === name));
    if (problems.length > 0) {
      options.onProblems?.(problems.length);
      logger.error({ problems: problems.map(formatProblem) }, 'mapping files have problems; their last good versions stay active');
    }
    if (changed.length > 0 || removed.length > 0) logger.info({ changed, removed }, 'mappings reloaded');
  }

  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dir, () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(reload, debounceMs);
    });
    watcher.on('error', (error) => logger.error({ err: error }, 'mappings watcher failed; restart to pick up changes'));
  } catch (error) {
    logger.error({ err: error, dir }, 'cannot watch the mappings folder; changes need a restart');
  }

  return {
    reload,
    close() {
      if (timer) clearTimeout(timer);
      watcher?.close();
    },
  };
}
