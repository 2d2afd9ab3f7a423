// The one knob of the reliability harness: CHAOS_SCALE=short (default, part of `npm test`)
// or full (`npm run test:chaos`). Every scenario takes its counts and time limits from here,
// so both scales stay bounded in count and in time.
export type ChaosScale = 'short' | 'full';

const raw = (process.env.CHAOS_SCALE ?? 'short').trim().toLowerCase();
if (raw !== 'short' && raw !== 'full') {
  throw new Error(`CHAOS_SCALE must be "short" or "full", not "${process.env.CHAOS_SCALE}"`);
}
export const SCALE: ChaosScale = raw;

/** The value for the current scale. */
export function pick<T>(values: { short: T; full: T }): T {
  return values[SCALE];
}

/**
 * A seeded PRNG (mulberry32), so a failing run can be repeated with CHAOS_SEED=<seed>.
 * Each scenario prints the seed it used.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function chaosSeed(): number {
  const given = process.env.CHAOS_SEED;
  if (given && /^\d+$/.test(given)) return Number(given);
  return Math.floor(Math.random() * 2 ** 31);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until `done` holds or `timeoutMs` passes; returns the last value either way. */
export async function pollUntil<T>(probe: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await sleep(everyMs);
    value = await probe();
  }
  return value;
}

/** One summary line per scenario, in the same shape everywhere. */
export interface ChaosSummary {
  sent: number;
  acked: number;
  processed: number;
  duplicates: number;
  lost: number;
  crashes: number;
  /** Scenario-specific counts printed after the common ones. */
  extra?: Record<string, number | string>;
}

export function printSummary(scenario: string, s: ChaosSummary): string {
  const extra = Object.entries(s.extra ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const line =
    `[chaos ${SCALE}] ${scenario}: calls sent=${s.sent} acked=${s.acked} processed=${s.processed} ` +
    `duplicates executed=${s.duplicates} lost=${s.lost} crashes=${s.crashes}` + (extra ? ` | ${extra}` : '');
  console.log(line);
  return line;
}
