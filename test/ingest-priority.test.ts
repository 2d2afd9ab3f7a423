// The worker gives way to deliveries: while they arrive in numbers and the event loop is busier
// than the ceiling, the number of steps executing at once halves each window, down to one; below
// the ceiling it grows by one; at a trickle, or without deliveries, it is the full concurrency.
// Clock and utilization are given, so every window is decided here, not by the machine's speed.
import { describe, expect, it } from 'vitest';
import { createIngestPriority } from '../src/worker/ingest-priority.js';

function setup(options: { concurrency?: number; ceiling?: number; busy?: number } = {}) {
  let clock = 0;
  let busy = options.busy ?? 1;
  const priority = createIngestPriority({
    concurrency: options.concurrency ?? 16,
    ceiling: options.ceiling ?? 0.5,
    windowMs: 50,
    now: () => clock,
    utilization: () => busy,
  });
  return {
    priority,
    /** One window later, with `deliveries` in it (10 in 50 ms: 200/s, over the default 100/s). */
    window(deliveries = 10) {
      clock += 50;
      for (let i = 0; i < deliveries; i++) priority.noteDelivery();
      return priority.limit();
    },
    setBusy(value: number) {
      busy = value;
    },
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('ingest priority: how many steps may execute at once', () => {
  it('is the full concurrency while no delivery arrives, however busy the loop is', () => {
    const { priority, window } = setup({ busy: 1 });
    expect(priority.limit()).toBe(16);
    expect([window(0), window(0), window(0)]).toEqual([16, 16, 16]);
  });

  it('halves each window while deliveries arrive and the loop is over the ceiling, never below one', () => {
    const { window } = setup({ busy: 0.9 });
    expect([window(), window(), window(), window(), window(), window()]).toEqual([8, 4, 2, 1, 1, 1]);
  });

  it('grows by one each window while deliveries arrive and the loop is under the ceiling', () => {
    const { window, setBusy } = setup({ busy: 0.9 });
    for (let i = 0; i < 5; i++) window();
    setBusy(0.3);
    expect([window(), window(), window()]).toEqual([2, 3, 4]);
  });

  it('a trickle of deliveries (under WORKER_YIELD_ABOVE_RATE) changes nothing: a draining backlog keeps its speed', () => {
    const { window } = setup({ busy: 1 });
    expect([window(4), window(4), window(4)]).toEqual([16, 16, 16]); // 80/s
    expect(window(5)).toBe(8); // 100/s
    expect(window(1)).toBe(16);
  });

  it('is back at full concurrency in the first window without a delivery', () => {
    const { window } = setup({ busy: 0.9 });
    for (let i = 0; i < 5; i++) window();
    expect(window(0)).toBe(16);
  });

  it('decides once per window: calls within a window do not halve again', () => {
    const { priority, window } = setup({ busy: 0.9 });
    expect(window()).toBe(8);
    priority.noteDelivery();
    expect([priority.limit(), priority.limit()]).toEqual([8, 8]);
  });

  it('a ceiling of 1 turns yielding off', () => {
    const { window } = setup({ ceiling: 1, busy: 1 });
    expect([window(), window(), window()]).toEqual([16, 16, 16]);
  });
});

describe('ingest priority: step slots', () => {
  it('lets steps through up to the limit and queues the rest in order until slots come back', async () => {
    const { priority, window } = setup({ concurrency: 4, busy: 0.9 });
    for (let i = 0; i < 3; i++) window(); // limit 4 → 2 → 1 → 1
    expect(priority.limit()).toBe(1);

    const first = await priority.stepSlot();
    const order: string[] = [];
    const second = priority.stepSlot().then((release) => (order.push('second'), release));
    const third = priority.stepSlot().then((release) => (order.push('third'), release));
    await flush();
    expect(order).toEqual([]);
    expect(priority.stats()).toEqual({ limit: 1, executing: 1, waiting: 2 });

    first();
    first(); // a second call of the same release gives nothing back twice
    const releaseSecond = await second;
    await flush();
    expect(order).toEqual(['second']);
    expect(priority.stats()).toMatchObject({ executing: 1, waiting: 1 });

    releaseSecond();
    (await third)();
    expect(order).toEqual(['second', 'third']);
    expect(priority.stats()).toMatchObject({ executing: 0, waiting: 0 });
  });

  it('admits waiting steps when the limit rises, even if no running step finishes', async () => {
    let clock = 0;
    const priority = createIngestPriority({ concurrency: 4, ceiling: 0.5, minRate: 0, windowMs: 20, now: () => clock, utilization: () => 1 });
    for (let i = 0; i < 3; i++) {
      clock += 20;
      priority.noteDelivery();
      priority.limit();
    }
    const held = await priority.stepSlot(); // a slow vendor call that stays out
    const waiting = [priority.stepSlot(), priority.stepSlot()];
    await flush();
    expect(priority.stats()).toMatchObject({ executing: 1, waiting: 2 });

    clock += 100; // deliveries stopped: the next look finds the full concurrency
    const released = await Promise.all(waiting);
    expect(priority.stats()).toEqual({ limit: 4, executing: 3, waiting: 0 });
    for (const release of [held, ...released]) release();
  });
});
