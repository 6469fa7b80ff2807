/**
 * Which batches a stream consumer folds as delivered, without reading the event table
 * (lambdas/core/events/delivered-run.ts, used by the row projector and the workflows function).
 */
import type { StoredEvent } from '../../lambdas/core/events/events';
import { deliveredRun } from '../../lambdas/core/events/delivered-run';

const at = (version: number): StoredEvent => ({
  aggregateId: 'o-1',
  version,
  aggregateType: 'order',
  type: 'order/quantityChanged',
  payload: { lineId: 'a', quantity: version },
  eventId: `e-${version}`,
  occurredAt: '2026-01-01T00:00:00.000Z',
  commandId: `c-${version}`,
  commandHash: 'h',
  correlationId: 'x',
  causationId: `c-${version}`,
});
const versions = (run: StoredEvent[] | undefined) => run?.map((e) => e.version);

describe('deliveredRun', () => {
  it('every event after what was applied, delivered: those events, in version order', () => {
    expect(versions(deliveredRun([at(5), at(4), at(6)], 3, 6))).toEqual([4, 5, 6]);
  });

  it('a new aggregate delivered from version 1: its events, nothing read', () => {
    expect(versions(deliveredRun([at(1), at(2)], 0, 2))).toEqual([1, 2]);
  });

  it('a version delivered twice: counted once', () => {
    expect(versions(deliveredRun([at(4), at(4), at(5)], 3, 5))).toEqual([4, 5]);
  });

  it('events at or below what was applied are left out', () => {
    expect(versions(deliveredRun([at(2), at(3), at(4)], 3, 4))).toEqual([4]);
  });

  it('a gap after what was applied: undefined (the log is read)', () => {
    expect(deliveredRun([at(5), at(6)], 3, 6)).toBeUndefined();
  });

  it('a gap in the middle: undefined', () => {
    expect(deliveredRun([at(4), at(6)], 3, 6)).toBeUndefined();
  });

  it('a cold instance given a later batch: undefined (read from version 1)', () => {
    expect(deliveredRun([at(7)], 0, 7)).toBeUndefined();
  });
});
