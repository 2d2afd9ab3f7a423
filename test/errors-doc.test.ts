// docs/errors.md and src/errors.ts list the same codes with the same status, retry flag and message.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../src/errors.js';

describe('error registry and docs/errors.md', () => {
  it('agree on every code', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'errors.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}|—) \| (yes|no) \| ([^|]+) \|/gm)].map((m) => ({
      code: m[1]!,
      status: m[2] === '—' ? null : Number(m[2]),
      retryable: m[3] === 'yes',
      message: m[4]!.trim(),
    }));
    const registry = Object.entries(ERRORS).map(([code, e]) => ({ code, status: e.status, retryable: e.retryable, message: e.message }));
    expect(rows).toEqual(registry);
  });
});
