/**
 * The fulfilment workflow's rules, one per test, on its pure `react` (lambdas/domain/fulfilment):
 * given its state (and the order's history), when an event, the outcomes of its commands or its
 * timer come in, then its next state, the commands it sends and the timer it sets. The same
 * workflow through both stacks: test/integration/workflows.test.ts.
 */
import {
  type FulfilmentState,
  fulfilmentProcess,
  RESERVATION_TIMEOUT_MS,
} from '../../lambdas/domain/fulfilment';
import type { ProcessCommand } from '../../lambdas/core/workflows/process-manager';
import { accepted, givenProcess, outcomes, refused, timer } from '../support/given-process';

const ORDER = 'order-1';
const given = () => givenProcess(fulfilmentProcess, ORDER);

const created = { type: 'order/created', payload: { customerId: 'c-1', currency: 'EUR' } };
const line = (lineId: string, sku: string, quantity: number) => ({
  type: 'order/lineAdded',
  payload: { lineId, sku, quantity, unitPriceMinor: 100 },
});
const submitted = { type: 'order/submitted', payload: {} };
const cancelled = { type: 'order/cancelled', payload: {} };

const reserve = (sku: string, quantity: number): ProcessCommand => ({
  key: `reserve:${sku}`,
  type: 'inventory/reserve',
  aggregateId: sku,
  payload: { orderId: ORDER, quantity },
});
const release = (sku: string): ProcessCommand => ({
  key: `release:${sku}`,
  type: 'inventory/release',
  aggregateId: sku,
  payload: { orderId: ORDER },
});
const confirm: ProcessCommand = {
  key: 'confirm',
  type: 'order/confirm',
  aggregateId: ORDER,
  payload: {},
};
const reject = (reason: string, skusShort: string[]): ProcessCommand => ({
  key: 'reject',
  type: 'order/reject',
  aggregateId: ORDER,
  payload: { reason, skusShort },
});

const reservationTimeout = { name: 'reservation-timeout', afterMs: RESERVATION_TIMEOUT_MS };

/** A process of the order wanting 3 of A and 2 of B, with `changes` made. */
const fulfilment = (changes: Partial<FulfilmentState> = {}): FulfilmentState => ({
  orderId: ORDER,
  status: 'reserving',
  wanted: { A: 3, B: 2 },
  reserved: [],
  short: [],
  ...changes,
});

describe('order/submitted', () => {
  test('given an order with two lines of A and one of B, when it is submitted, then it reserves each SKU once, summed over its lines, and sets the 15-minute timer', () =>
    given()
      .source(created, line('l1', 'A', 1), line('l2', 'B', 2), line('l3', 'A', 2))
      .when(submitted)
      .then({
        state: fulfilment(),
        send: [reserve('A', 3), reserve('B', 2)],
        timer: reservationTimeout,
      }));

  test('the timeout is 15 minutes', () => expect(RESERVATION_TIMEOUT_MS).toBe(15 * 60 * 1000));
});

describe('outcomes of the reservations', () => {
  test('given a process reserving A and B, when both reservations are accepted, then it confirms the order', () =>
    given()
      .state(fulfilment())
      .when(outcomes(accepted(reserve('A', 3)), accepted(reserve('B', 2))))
      .then({ state: fulfilment({ reserved: ['A', 'B'] }), send: [confirm] }));

  test('given a process reserving A and B, when only A is answered so far, then it waits and sends nothing', () =>
    given()
      .state(fulfilment())
      .when(outcomes(accepted(reserve('A', 3))))
      .then({ state: fulfilment({ reserved: ['A'] }) }));

  test('given a process reserving A and B, when B is refused, then it releases A and rejects the order as not-enough-stock naming B', () =>
    given()
      .state(fulfilment())
      .when(outcomes(accepted(reserve('A', 3)), refused(reserve('B', 2), 'NOT_ENOUGH_STOCK')))
      .then({
        state: fulfilment({ status: 'rejected', reserved: ['A'], short: ['B'] }),
        send: [release('A'), reject('not-enough-stock', ['B'])],
      }));

  test('given a process reserving Z, B and A, when Z and B are refused, then skusShort lists them sorted', () =>
    given()
      .state(fulfilment({ wanted: { Z: 1, B: 2, A: 3 } }))
      .when(
        outcomes(
          refused(reserve('Z', 1), 'NOT_ENOUGH_STOCK'),
          refused(reserve('B', 2), 'NOT_ENOUGH_STOCK'),
          accepted(reserve('A', 3)),
        ),
      )
      .then({
        state: fulfilment({
          wanted: { Z: 1, B: 2, A: 3 },
          status: 'rejected',
          reserved: ['A'],
          short: ['Z', 'B'],
        }),
        send: [release('A'), reject('not-enough-stock', ['B', 'Z'])],
      }));

  test('given a process reserving A and B, when both are refused, then it releases nothing and rejects naming both', () =>
    given()
      .state(fulfilment())
      .when(
        outcomes(
          refused(reserve('A', 3), 'NOT_ENOUGH_STOCK'),
          refused(reserve('B', 2), 'NOT_FOUND', 'NOT_FOUND'),
        ),
      )
      .then({
        state: fulfilment({ status: 'rejected', short: ['A', 'B'] }),
        send: [reject('not-enough-stock', ['A', 'B'])],
      }));
});

describe('outcome of the confirmation', () => {
  test('given every SKU reserved, when the confirmation is accepted, then the process is confirmed and sends nothing', () =>
    given()
      .state(fulfilment({ reserved: ['A', 'B'] }))
      .when(outcomes(accepted(confirm, 5)))
      .then({ state: fulfilment({ status: 'confirmed', reserved: ['A', 'B'] }) }));

  test('given every SKU reserved, when the confirmation is refused (the order was cancelled meanwhile), then it releases every reservation and is cancelled', () =>
    given()
      .state(fulfilment({ reserved: ['A', 'B'] }))
      .when(outcomes(refused(confirm, 'INVALID_TRANSITION')))
      .then({
        state: fulfilment({ status: 'cancelled', reserved: ['A', 'B'] }),
        send: [release('A'), release('B')],
      }));
});

describe('outcomes of the releases', () => {
  test('given a rejected process holding A, when its release is accepted, then it holds nothing and sends nothing', () =>
    given()
      .state(fulfilment({ status: 'rejected', reserved: ['A'], short: ['B'] }))
      .when(outcomes(accepted(release('A'), 3)))
      .then({ state: fulfilment({ status: 'rejected', reserved: [], short: ['B'] }) }));

  test('given a cancelled process holding A and B, when A is released and B answers NO_RESERVATION, then it holds nothing', () =>
    given()
      .state(fulfilment({ status: 'cancelled', reserved: ['A', 'B'] }))
      .when(outcomes(accepted(release('A'), 4), refused(release('B'), 'NO_RESERVATION')))
      .then({ state: fulfilment({ status: 'cancelled', reserved: [] }) }));
});

describe('order/cancelled', () => {
  test('given a confirmed process holding A and B, when the order is cancelled, then it releases both and is cancelled', () =>
    given()
      .state(fulfilment({ status: 'confirmed', reserved: ['A', 'B'] }))
      .source(created, line('l1', 'A', 3), line('l2', 'B', 2), submitted, {
        type: 'order/confirmed',
        payload: {},
      })
      .when(cancelled)
      .then({
        state: fulfilment({ status: 'cancelled', reserved: ['A', 'B'] }),
        send: [release('A'), release('B')],
      }));

  test('given a confirmed process holding A and B, when the order is deleted, then it releases both', () =>
    given()
      .state(fulfilment({ status: 'confirmed', reserved: ['A', 'B'] }))
      .source(created, line('l1', 'A', 3), line('l2', 'B', 2), submitted, {
        type: 'order/confirmed',
        payload: {},
      })
      .when({ type: 'order/deleted', payload: {} })
      .then({
        state: fulfilment({ status: 'cancelled', reserved: ['A', 'B'] }),
        send: [release('A'), release('B')],
      }));

  test('given a draft order (no process yet), when it is cancelled, then nothing happens', () =>
    given()
      .source(created, line('l1', 'A', 1))
      .when(cancelled)
      .thenNothing());

  test('given a rejected process, when the order is cancelled, then nothing happens', () =>
    given()
      .state(fulfilment({ status: 'rejected', short: ['A', 'B'] }))
      .when(cancelled)
      .thenNothing());
});

describe('the reservation timer', () => {
  test('given a process still reserving with A held, when the timer fires, then it releases A and rejects the order as timed-out naming B', () =>
    given()
      .state(fulfilment({ reserved: ['A'] }))
      .when(timer('reservation-timeout'))
      .then({
        state: fulfilment({ status: 'rejected', reserved: ['A'] }),
        send: [release('A'), reject('timed-out', ['B'])],
      }));

  test('given a process still reserving with nothing held, when the timer fires, then it rejects the order naming every SKU, sorted', () =>
    given()
      .state(fulfilment({ wanted: { B: 2, A: 3 } }))
      .when(timer('reservation-timeout'))
      .then({
        state: fulfilment({ wanted: { B: 2, A: 3 }, status: 'rejected' }),
        send: [reject('timed-out', ['A', 'B'])],
      }));

  test('given a confirmed process, when the timer fires, then nothing happens', () =>
    given()
      .state(fulfilment({ status: 'confirmed', reserved: ['A', 'B'] }))
      .when(timer('reservation-timeout'))
      .thenNothing());

  test('given no process, when a timer fires, then nothing happens', () =>
    given().when(timer('reservation-timeout')).thenNothing());
});

describe('inputs it ignores', () => {
  test('given no process, when outcomes come in, then nothing happens', () =>
    given()
      .when(outcomes(accepted(reserve('A', 3))))
      .thenNothing());

  test('given a process reserving, when an event it does not react to comes in, then nothing happens', () =>
    given()
      .state(fulfilment())
      .source(created)
      .when(line('l9', 'C', 1))
      .thenNothing());
});

describe('the declaration', () => {
  test('reacts to order/submitted, order/cancelled and order/deleted, one process per order', () => {
    expect(fulfilmentProcess.eventTypes).toEqual([
      'order/submitted',
      'order/cancelled',
      'order/deleted',
    ]);
    expect(fulfilmentProcess.source.type).toBe('order');
    const event = {
      type: 'order/submitted',
      payload: {},
      meta: {
        aggregateId: 'order-7',
        version: 3,
        occurredAt: '2026-01-02T03:04:05.000Z',
        eventId: 'e-3',
        correlationId: 'c',
      },
    };
    expect(fulfilmentProcess.processKey(event, null)).toBe('order-7');
  });
});
