/**
 * The rebuild's checkpoint policy (lambdas/core/repair/rebuild.ts): a chunk of whole aggregates
 * closes before the aggregate that would take it past the rows or the events it may hold.
 */
import { CHECKPOINT_EVENTS, CHECKPOINT_ROWS, closesChunk } from '../../lambdas/core/repair/rebuild';

const limits = { rows: 10, events: 100 };

test('given a chunk below both bounds, when an aggregate keeps it within them, then it joins the chunk', () => {
  expect(closesChunk({ rows: 4, events: 50 }, { newRows: 6, events: 50 }, limits)).toBe(false);
});

test('given a chunk, when an aggregate would take it past the rows it may write, then the chunk closes before it', () => {
  expect(closesChunk({ rows: 8, events: 20 }, { newRows: 3, events: 2 }, limits)).toBe(true);
});

test('given a chunk, when an aggregate would take it past the events, then the chunk closes before it', () => {
  expect(closesChunk({ rows: 1, events: 99 }, { newRows: 0, events: 2 }, limits)).toBe(true);
});

test('given hot rows, when aggregates only add events to rows the chunk already writes, then it grows up to the event bound', () => {
  let chunk = { rows: 3, events: 5 };
  let aggregates = 1;
  while (!closesChunk(chunk, { newRows: 0, events: 5 }, limits)) {
    chunk = { rows: 3, events: chunk.events + 5 };
    aggregates++;
  }
  expect(aggregates).toBe(20);
});

test('given an empty chunk, when an aggregate exceeds both bounds, then it is a chunk of its own, never split', () => {
  expect(closesChunk({ rows: 0, events: 0 }, { newRows: 50, events: 500 }, limits)).toBe(false);
});

test('given the default bounds, a chunk closes at CHECKPOINT_ROWS rows or CHECKPOINT_EVENTS events', () => {
  expect(closesChunk({ rows: CHECKPOINT_ROWS, events: 1 }, { newRows: 1, events: 1 })).toBe(true);
  expect(closesChunk({ rows: 1, events: CHECKPOINT_EVENTS }, { newRows: 0, events: 1 })).toBe(true);
});
