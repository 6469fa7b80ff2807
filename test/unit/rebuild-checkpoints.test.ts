/** The rebuild's checkpoint policy (lambdas/core/repair/rebuild.ts): whole aggregates, by event count. */
import { CHECKPOINT_EVENTS, chunkByEvents } from '../../lambdas/core/repair/rebuild';

const aggregate = (id: string, events: number) =>
  Array.from({ length: events }, (_, i) => `${id}v${i + 1}`);

test('groups consecutive whole aggregates up to the event count, in order', () => {
  const page = [aggregate('a', 3), aggregate('b', 4), aggregate('c', 2), aggregate('d', 5)];
  const chunks = chunkByEvents(page, 7);
  expect(chunks.map((c) => c.map((a) => a[0]))).toEqual([
    ['av1', 'bv1'],
    ['cv1', 'dv1'],
  ]);
  expect(chunks.flat()).toEqual(page);
});

test('an aggregate longer than the count is a chunk of its own, never split', () => {
  const chunks = chunkByEvents([aggregate('a', 2), aggregate('b', 9), aggregate('c', 1)], 5);
  expect(chunks.map((c) => c.map((a) => a.length))).toEqual([[2], [9], [1]]);
});

test('nothing in, nothing out; the default is CHECKPOINT_EVENTS', () => {
  expect(chunkByEvents([])).toEqual([]);
  const many = Array.from({ length: 1000 }, (_, i) => aggregate(`x${i}`, 1));
  const chunks = chunkByEvents(many);
  expect(chunks).toHaveLength(Math.ceil(1000 / CHECKPOINT_EVENTS));
  expect(chunks.every((c) => c.length <= CHECKPOINT_EVENTS)).toBe(true);
});
