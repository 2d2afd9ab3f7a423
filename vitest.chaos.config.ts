// `npm run test:chaos`: the reliability harness in test/chaos at full scale (CHAOS_SCALE=full
// unless set otherwise), one file at a time so the kill, outage and fuzzing scenarios do not
// compete for the CPU. `npm test` runs the same files at short scale with the rest.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    env: { CHAOS_SCALE: process.env.CHAOS_SCALE ?? 'full' },
    testTimeout: 600_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
