/**
 * The order's read models with the fulfilment workflow's statuses: the status lists take
 * `confirmed` and `rejected`; the customer summary counts them, and its `submittedTotals` keeps
 * a confirmed order's total (placed and standing) until it is cancelled, rejected or deleted.
 */
import { type EventAction, toAction } from '../../lambdas/core/events/events';
import { stamp } from '../../lambdas/core/given';
import { foldRows } from '../../lambdas/core/projections/row-projection';
import {
  type CustomerSummary,
  customerSummaryProjection,
  orderViewProjection,
} from '../../lambdas/domain/order/projections';

const at = (second: number) => `2026-03-01T10:00:${String(second).padStart(2, '0')}.000Z`;

/** One order's log, its events a second apart from `start`. */
const log = (orderId: string, start: number, events: { type: string; payload: unknown }[]) =>
  stamp(orderId, events).map((e, i) => toAction({ ...e, occurredAt: at(start + i) }));

const created = { type: 'order/created', payload: { customerId: 'c-1', currency: 'EUR' } };
const line = (sku: string, quantity: number) => ({
  type: 'order/lineAdded',
  payload: { lineId: sku, sku, quantity, unitPriceMinor: 100 },
});
const submitted = { type: 'order/submitted', payload: {} };
const confirmed = { type: 'order/confirmed', payload: {} };
const rejected = {
  type: 'order/rejected',
  payload: { reason: 'not-enough-stock', skusShort: ['B'] },
};
const cancelled = { type: 'order/cancelled', payload: {} };

const summaryOf = (logs: EventAction[][]) =>
  foldRows(customerSummaryProjection, logs).get('c-1') as CustomerSummary;

describe('customer-summary', () => {
  test('given an order submitted and then confirmed, then it counts as confirmed and its total stays in submittedTotals', () => {
    expect(summaryOf([log('o-1', 0, [created, line('A', 3), submitted, confirmed])])).toEqual({
      customerId: 'c-1',
      ordersByStatus: {
        draft: 0,
        submitted: 0,
        confirmed: 1,
        rejected: 0,
        cancelled: 0,
        deleted: 0,
      },
      submittedTotals: { EUR: 300 },
      lastActivityAt: at(3),
    });
  });

  test('given an order submitted and then rejected, then it counts as rejected and leaves submittedTotals', () => {
    const summary = summaryOf([log('o-1', 0, [created, line('B', 2), submitted, rejected])]);
    expect(summary.ordersByStatus).toMatchObject({ submitted: 0, rejected: 1 });
    expect(summary.submittedTotals).toEqual({ EUR: 0 });
  });

  test('given a confirmed order that is then cancelled, then it counts as cancelled and leaves submittedTotals', () => {
    const summary = summaryOf([
      log('o-1', 0, [created, line('A', 1), submitted, confirmed, cancelled]),
      log('o-2', 10, [created, line('A', 5), submitted]),
    ]);
    expect(summary.ordersByStatus).toMatchObject({ submitted: 1, confirmed: 0, cancelled: 1 });
    expect(summary.submittedTotals).toEqual({ EUR: 500 });
  });

  test('given a row stored before confirmed and rejected existed, when an order is confirmed, then every status has its count', () => {
    const submittedLog = log('o-1', 0, [created, line('A', 2), submitted]);
    // The row as version 1 stored it before this change: no count for the two new statuses.
    const oldRow = {
      customerId: 'c-1',
      ordersByStatus: { draft: 0, submitted: 1, cancelled: 0, deleted: 0 },
      submittedTotals: { EUR: 200 },
      lastActivityAt: at(2),
    } as unknown as CustomerSummary;
    const order = foldRows(orderViewProjection, [submittedLog]).get('o-1')!;
    const confirmedEvent = toAction({ ...stamp('o-1', [confirmed], 3)[0]!, occurredAt: at(3) });
    expect(customerSummaryProjection.reducer(oldRow, confirmedEvent, order)).toEqual({
      customerId: 'c-1',
      ordersByStatus: {
        draft: 0,
        submitted: 0,
        confirmed: 1,
        rejected: 0,
        cancelled: 0,
        deleted: 0,
      },
      submittedTotals: { EUR: 200 },
      lastActivityAt: at(3),
    });
  });
});

describe('the order lists', () => {
  const statusList = orderViewProjection.lists!.find((list) => list.param === 'status')!;
  const filtered = orderViewProjection.lists!.find((list) => list.param === 'customerId')!;

  test.each(['draft', 'submitted', 'confirmed', 'rejected', 'cancelled'])(
    'GET /orders?status=%s is a list, alone and with customerId',
    (status) => {
      expect(statusList.pattern.test(status)).toBe(true);
      expect(filtered.filters!.status!.test(status)).toBe(true);
    },
  );

  test.each(['deleted', 'confirmedx', 'reject'])('GET /orders?status=%s is not', (status) => {
    expect(statusList.pattern.test(status)).toBe(false);
    expect(filtered.filters!.status!.test(status)).toBe(false);
  });

  test('given a rejected order, then it is in the rejected list', () => {
    const order = foldRows(orderViewProjection, [
      log('o-1', 0, [created, line('B', 2), submitted, rejected]),
    ]).get('o-1')!;
    expect(statusList.partitionOf(order)).toBe('rejected');
  });
});
