// The mapping of the ingest and volume figures: one `log` step at debug level, a no-op at
// LOG_LEVEL=warn, so the worker's cost per run is the store's (claim, step, completion).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BENCH_MAPPING_NAME = 'bench-log';
export const BENCH_MAPPING_STEP = 'note';

export const BENCH_MAPPING = `# Benchmark sink: one log step at debug level, a no-op at LOG_LEVEL=warn.
name: ${BENCH_MAPPING_NAME}
description: Log every call at debug level.
steps:
  - id: ${BENCH_MAPPING_STEP}
    use: log
    with:
      level: debug
      message: "call {{ call.id }} ({{ call.variant }}) finished after {{ call.duration }} s"
`;

/** Writes the mapping into `dir` (a MAPPINGS_DIR of its own). */
export function writeBenchMapping(dir: string): void {
  writeFileSync(join(dir, `${BENCH_MAPPING_NAME}.yaml`), BENCH_MAPPING);
}
