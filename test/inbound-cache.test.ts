// The inbound lookup cache: a TTL per entry and a bound on entries, least recently used first out.
import { describe, expect, it } from 'vitest';
import { LookupCache } from '../src/ingest/inbound/lookup-cache.js';

describe('LookupCache', () => {
  it('answers within the TTL and misses after it', () => {
    let now = 1_000;
    const cache = new LookupCache(100, 10, () => now);
    cache.set('a', { name: 'Ada' });
    now += 99;
    expect(cache.get('a')).toEqual({ name: 'Ada' });
    now += 1;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxEntries, evicting the least recently used', () => {
    const cache = new LookupCache(60_000, 2, () => 0);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('keeps "found nothing" (null) and caches nothing with a TTL of 0', () => {
    const cache = new LookupCache(1_000, 5, () => 0);
    cache.set('nobody', null);
    expect(cache.get('nobody')).toBeNull();
    const off = new LookupCache(0, 5, () => 0);
    off.set('a', 1);
    expect(off.get('a')).toBeUndefined();
  });
});
