import { describe, expect, it } from 'vitest';
import type { Call } from '../src/payload/call.js';
import { CallHandoff } from '../src/store/call-handoff.js';

const call = (id: number) => ({ id }) as unknown as Call;

describe('call hand-off', () => {
  it('gives each run of a call the one object once, and frees its room when the last run took it', () => {
    const handoff = new CallHandoff({ maxBytes: 100 });
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
    const handoff = new CallHandoff({ maxBytes: 100 });
    handoff.offer([1], call(1), 60);
    handoff.offer([2], call(2), 60); // over the bound: not kept
    handoff.offer([], call(3), 10); // no queued run: nothing to keep
    expect(handoff.runIds()).toEqual([1]);
    expect(handoff.take(2)).toBeUndefined();
    handoff.take(1);
    handoff.offer([4], call(4), 60);
    expect(handoff.runIds()).toEqual([4]);
  });

  it('with an age bound, lets go of calls offered longer ago, so runs claimed elsewhere free their room', () => {
    let now = 1_000;
    const handoff = new CallHandoff({ maxBytes: 100, maxAgeMs: 500, now: () => now });
    handoff.offer([1, 2], call(1), 60);
    now += 300;
    handoff.offer([3], call(3), 30);
    handoff.take(1); // run 2 was claimed by another instance: never taken here
    now += 300;
    expect(handoff.runIds()).toEqual([3]);
    expect(handoff.heldBytes).toBe(30);
    expect(handoff.take(2)).toBeUndefined();
    handoff.offer([4], call(4), 60); // room again
    expect(handoff.runIds()).toEqual([3, 4]);
  });
});
