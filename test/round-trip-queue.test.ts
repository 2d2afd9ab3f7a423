// The PostgreSQL group commit's queue: one batch out at a time, the next one made of what queued
// meanwhile, sent as soon as the round trip ends rather than at the end of the event-loop turn.
import { describe, expect, it } from 'vitest';
import { RoundTripQueue } from '../src/store/postgres/round-trip-queue.js';

function controlledQueue(maxBatch = 10) {
  const sent: string[][] = [];
  const answers: Array<() => void> = [];
  const queue = new RoundTripQueue<string>(maxBatch, (items) => {
    sent.push(items);
    return new Promise<void>((resolve) => answers.push(resolve));
  });
  return { queue, sent, answers };
}

const microtasks = async (n = 5) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('RoundTripQueue', () => {
  it("sends an idle moment's items together at the end of the turn", async () => {
    const { queue, sent } = controlledQueue();
    queue.push('a');
    queue.push('b');
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual([['a', 'b']]);
  });

  it('sends what queued during a round trip as soon as it ends, one batch out at a time, at most maxBatch each', async () => {
    const { queue, sent, answers } = controlledQueue(2);
    queue.push('a');
    await nextTurn();
    queue.push('b');
    queue.push('c');
    queue.push('d');
    await nextTurn();
    expect(sent).toEqual([['a']]);
    answers[0]!();
    await microtasks();
    expect(sent).toEqual([['a'], ['b', 'c']]);
    answers[1]!();
    await microtasks();
    expect(sent).toEqual([['a'], ['b', 'c'], ['d']]);
    answers[2]!();
    await queue.drain();
    expect(sent).toHaveLength(3);
  });
});
