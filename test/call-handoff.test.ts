import { describe, expect, it } from 'vitest';
import type { Call } from '../src/payload/call.js';
import { CallHandoff } from '../src/store/call-handoff.js';

const call = (id: number) => ({ id }) as unknown as Call;

describe('call hand-off', () => {
  it('gives each run of a call the one object once, and frees its room when the last run took it', () => {
    const handoff = new CallHandoff(100);
    const c = call(1);
    handoff.offer([10, 11], c, 60);
    expect(handoff.runIds()).toEqual([10, 11]);
    expect(handoff.take(10)).toBe(c);
    expect(handoff.take(10)).toBeUndefined();
    expect(handoff.heldBytes).toBe(60);
    expect(handoff.take(11)).toBe(c);
    expect(handoff.heldBytes).toBe(0);
    expect(handoff.runIds()).toEqual([]);
  });

  it('keeps the first calls once full and takes new ones again when room is freed', () => {
    const handoff = new CallHandoff(100);
    handoff.offer([1], call(1), 60);
    handoff.offer([2], call(2), 60); // over the bound: not kept
    handoff.offer([], call(3), 10); // no queued run: nothing to keep
    expect(handoff.runIds()).toEqual([1]);
    expect(handoff.take(2)).toBeUndefined();
    handoff.take(1);
    handoff.offer([4], call(4), 60);
    expect(handoff.runIds()).toEqual([4]);
  });
});
