import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, nextRunAt } from '../src/worker/backoff.js';
import { parseRetryAfter } from '../src/connectors/response-headers.js';

const policy = { baseMs: 2_000, maxMs: 60_000 };

describe('nextRunAt', () => {
  it('doubles per attempt with equal jitter, capped at the maximum', () => {
    const low = (attempt: number) => nextRunAt(attempt, 1_000, policy, undefined, () => 0) - 1_000;
    const high = (attempt: number) => nextRunAt(attempt, 1_000, policy, undefined, () => 1) - 1_000;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(low)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(high)).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(nextRunAt(3, 0, policy, undefined, () => 0.5)).toBe(6_000);
  });

  it('a Retry-After wins over the table, bounded to a day', () => {
    expect(nextRunAt(1, 500, policy, 120_000)).toBe(120_500);
    expect(nextRunAt(9, 500, policy, 0)).toBe(500);
    expect(nextRunAt(1, 0, policy, 10 * MAX_RETRY_AFTER_MS)).toBe(MAX_RETRY_AFTER_MS);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
