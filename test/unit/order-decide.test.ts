import { orderAggregate } from '../../lambdas/domain/order';
import { scenario, SCENARIO_ACTOR } from '../../lambdas/core/given';

const { given } = scenario(orderAggregate, 'order-1');
const created = { type: 'order/created', payload: { customerId: 'c-1', currency: 'EUR' } };
const lineA = {
  type: 'order/lineAdded',
  payload: { lineId: 'a', sku: 'SKU-A', quantity: 2, unitPriceMinor: 1250 },
};
const submitted = { type: 'order/submitted', payload: {} };
const cancelled = { type: 'order/cancelled', payload: {} };
const confirmed = { type: 'order/confirmed', payload: {} };
const shortOfA = { reason: 'not-enough-stock', skusShort: ['SKU-A'] };
const rejected = { type: 'order/rejected', payload: shortOfA };
const deleted = { type: 'order/deleted', payload: {} };

const rule = (name: string) => ({
  code: 'RULE_VIOLATED',
  status: 422,
  details: expect.objectContaining({ rule: name }),
});
const invalid = (path: string) => ({
  code: 'VALIDATION_FAILED',
  status: 400,
  details: { issues: expect.arrayContaining([expect.objectContaining({ path })]) },
});

describe('order/create', () => {
  test('creates a new order', () =>
    given().when('order/create', { customerId: 'c-1', currency: 'EUR' }).then(created));
  test('on an existing order: 409 ALREADY_EXISTS', () =>
    given(created)
      .when('order/create', { customerId: 'c-1', currency: 'EUR' })
      .thenThrows({ code: 'ALREADY_EXISTS', status: 409 }));
  test('on a deleted order: still 409 (the history stays)', () =>
    given(created, deleted)
      .when('order/create', { customerId: 'c-2', currency: 'EUR' })
      .thenThrows({ code: 'ALREADY_EXISTS' }));
  test.each([['eur'], ['EURO'], ['E1R'], ['']])('currency %p: 400', (currency) =>
    given()
      .when('order/create', { customerId: 'c-1', currency })
      .thenThrows(invalid('payload.currency')),
  );
  test('given no order, when it is created without customerId, then its customer is the caller', () =>
    given()
      .when('order/create', { currency: 'EUR' })
      .then({
        type: 'order/created',
        payload: { customerId: SCENARIO_ACTOR.subject, currency: 'EUR' },
      }));
  test.each([[''], ['x'.repeat(129)]])('customerId %p: 400', (customerId) =>
    given()
      .when('order/create', { customerId, currency: 'EUR' })
      .thenThrows(invalid('payload.customerId')),
  );
  test('unknown field: 400', () =>
    given()
      .when('order/create', { customerId: 'c', currency: 'EUR', discount: 5 })
      .thenThrows({ code: 'VALIDATION_FAILED' }));
});

describe('commands on an unknown order: 404', () => {
  test.each([
    ['order/addLine', { lineId: 'a', sku: 's', quantity: 1, unitPrice: 1 }],
    ['order/changeQuantity', { lineId: 'a', quantity: 1 }],
    ['order/removeLine', { lineId: 'a' }],
    ['order/submit', {}],
    ['order/cancel', {}],
    ['order/delete', {}],
    ['order/confirm', {}],
    ['order/reject', shortOfA],
  ])('%s', (type, payload) =>
    given().when(type, payload).thenThrows({ code: 'NOT_FOUND', status: 404 }),
  );
});

describe('order/addLine', () => {
  const add = (lineId: string, quantity = 1, unitPrice = 100) => ({
    lineId,
    sku: `SKU-${lineId}`,
    quantity,
    unitPrice,
  });
  /** The event payload (schema version 2 names the unit: `unitPriceMinor`). */
  const added = (lineId: string, quantity = 1, unitPriceMinor = 100) => ({
    lineId,
    sku: `SKU-${lineId}`,
    quantity,
    unitPriceMinor,
  });
  test('adds a line', () =>
    given(created)
      .when('order/addLine', add('a', 2, 1250))
      .then({ type: 'order/lineAdded', payload: added('a', 2, 1250) }));
  test('a free line (unitPrice 0) is allowed', () =>
    given(created)
      .when('order/addLine', add('free', 1, 0))
      .then({ type: 'order/lineAdded', payload: added('free', 1, 0) }));
  test('duplicate lineId: 422 DUPLICATE_LINE_ID', () =>
    given(created, lineA).when('order/addLine', add('a')).thenThrows(rule('DUPLICATE_LINE_ID')));
  test('the 101st line: 422 TOO_MANY_LINES', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => ({
      type: 'order/lineAdded',
      payload: added(`l${i}`),
    }));
    given(created, ...hundred)
      .when('order/addLine', add('one-more'))
      .thenThrows(rule('TOO_MANY_LINES'));
  });
  test.each([[0], [10_001], [1.5], [-1]])('quantity %p: 400', (quantity) =>
    given(created)
      .when('order/addLine', add('a', quantity))
      .thenThrows(invalid('payload.quantity')),
  );
  test.each([[-1], [9.99], [1_000_000_001]])('unitPrice %p: 400', (unitPrice) =>
    given(created)
      .when('order/addLine', add('a', 1, unitPrice))
      .thenThrows(invalid('payload.unitPrice')),
  );
  test('quantity 10000 is the maximum allowed', () =>
    given(created)
      .when('order/addLine', add('a', 10_000))
      .then({ type: 'order/lineAdded', payload: added('a', 10_000) }));
  test.each([
    ['submitted', [submitted]],
    ['confirmed', [submitted, confirmed]],
    ['rejected', [submitted, rejected]],
    ['cancelled', [cancelled]],
  ])('on a %s order: 422 ORDER_NOT_EDITABLE', (_s, after) =>
    given(created, lineA, ...after)
      .when('order/addLine', add('b'))
      .thenThrows(rule('ORDER_NOT_EDITABLE')),
  );
  test('on a deleted order: 422 INVALID_TRANSITION', () =>
    given(created, deleted).when('order/addLine', add('b')).thenThrows(rule('INVALID_TRANSITION')));
});

describe('order/changeQuantity and order/removeLine', () => {
  test('changes a quantity', () =>
    given(created, lineA)
      .when('order/changeQuantity', { lineId: 'a', quantity: 5 })
      .then({ type: 'order/quantityChanged', payload: { lineId: 'a', quantity: 5 } }));
  test('removes a line', () =>
    given(created, lineA)
      .when('order/removeLine', { lineId: 'a' })
      .then({ type: 'order/lineRemoved', payload: { lineId: 'a' } }));
  test('unknown lineId: 422 LINE_NOT_FOUND', () => {
    given(created, lineA)
      .when('order/changeQuantity', { lineId: 'zz', quantity: 5 })
      .thenThrows(rule('LINE_NOT_FOUND'));
    given(created, lineA)
      .when('order/removeLine', { lineId: 'zz' })
      .thenThrows(rule('LINE_NOT_FOUND'));
  });
  test('a removed line is unknown afterwards', () =>
    given(created, lineA, { type: 'order/lineRemoved', payload: { lineId: 'a' } })
      .when('order/changeQuantity', { lineId: 'a', quantity: 1 })
      .thenThrows(rule('LINE_NOT_FOUND')));
  test('on a submitted order: 422 ORDER_NOT_EDITABLE', () => {
    given(created, lineA, submitted)
      .when('order/changeQuantity', { lineId: 'a', quantity: 5 })
      .thenThrows(rule('ORDER_NOT_EDITABLE'));
    given(created, lineA, submitted)
      .when('order/removeLine', { lineId: 'a' })
      .thenThrows(rule('ORDER_NOT_EDITABLE'));
  });
});

describe('order/submit, order/cancel, order/delete', () => {
  test('submits an order with lines', () =>
    given(created, lineA).when('order/submit').then(submitted));
  test('an empty order: 422 ORDER_EMPTY', () =>
    given(created).when('order/submit').thenThrows(rule('ORDER_EMPTY')));
  test('an order whose lines were all removed is empty', () =>
    given(created, lineA, { type: 'order/lineRemoved', payload: { lineId: 'a' } })
      .when('order/submit')
      .thenThrows(rule('ORDER_EMPTY')));
  test('submitting twice: 422 INVALID_TRANSITION', () =>
    given(created, lineA, submitted).when('order/submit').thenThrows(rule('INVALID_TRANSITION')));
  test('cancels a draft, with a reason', () =>
    given(created)
      .when('order/cancel', { reason: 'changed my mind' })
      .then({ type: 'order/cancelled', payload: { reason: 'changed my mind' } }));
  test('cancels a submitted order', () =>
    given(created, lineA, submitted).when('order/cancel').then(cancelled));
  test('cancelling a cancelled order: 422 INVALID_TRANSITION', () =>
    given(created, cancelled).when('order/cancel').thenThrows(rule('INVALID_TRANSITION')));
  test('deletes an order in any live status', () => {
    given(created).when('order/delete').then(deleted);
    given(created, lineA, submitted).when('order/delete').then(deleted);
    given(created, cancelled).when('order/delete').then(deleted);
  });
  test('deleting twice: 422 INVALID_TRANSITION', () =>
    given(created, deleted).when('order/delete').thenThrows(rule('INVALID_TRANSITION')));
  test('submit with a payload field: 400', () =>
    given(created, lineA)
      .when('order/submit', { now: true })
      .thenThrows({ code: 'VALIDATION_FAILED' }));
});

describe('order/confirm and order/reject (the fulfilment workflow)', () => {
  test('given a submitted order, when it is confirmed, then order/confirmed', () =>
    given(created, lineA, submitted).when('order/confirm').then(confirmed));

  test('given a submitted order, when it is rejected for want of stock, then order/rejected names the SKUs short', () =>
    given(created, lineA, submitted).when('order/reject', shortOfA).then(rejected));

  test('given a submitted order, when it is rejected as timed out with no SKU named, then order/rejected', () =>
    given(created, lineA, submitted)
      .when('order/reject', { reason: 'timed-out', skusShort: [] })
      .then({ type: 'order/rejected', payload: { reason: 'timed-out', skusShort: [] } }));

  test.each([
    ['draft', [] as { type: string; payload: unknown }[]],
    ['confirmed', [submitted, confirmed]],
    ['rejected', [submitted, rejected]],
    ['cancelled', [submitted, cancelled]],
    ['deleted', [deleted]],
  ])('given a %s order, when it is confirmed, then 422 INVALID_TRANSITION', (_status, after) =>
    given(created, lineA, ...after)
      .when('order/confirm')
      .thenThrows(rule('INVALID_TRANSITION')),
  );

  test.each([
    ['draft', [] as { type: string; payload: unknown }[]],
    ['confirmed', [submitted, confirmed]],
    ['rejected', [submitted, rejected]],
    ['cancelled', [submitted, cancelled]],
  ])('given a %s order, when it is rejected, then 422 INVALID_TRANSITION', (_status, after) =>
    given(created, lineA, ...after)
      .when('order/reject', shortOfA)
      .thenThrows(rule('INVALID_TRANSITION')),
  );

  test('given a confirmed order, when it is cancelled, then order/cancelled (the workflow releases its stock)', () =>
    given(created, lineA, submitted, confirmed)
      .when('order/cancel', { reason: 'found it cheaper' })
      .then({ type: 'order/cancelled', payload: { reason: 'found it cheaper' } }));

  test('given a rejected order, when it is cancelled, then 422 INVALID_TRANSITION (it is over already)', () =>
    given(created, lineA, submitted, rejected)
      .when('order/cancel')
      .thenThrows(rule('INVALID_TRANSITION')));

  test('given a confirmed or rejected order, when it is submitted again, then 422 INVALID_TRANSITION', () => {
    given(created, lineA, submitted, confirmed)
      .when('order/submit')
      .thenThrows(rule('INVALID_TRANSITION'));
    given(created, lineA, submitted, rejected)
      .when('order/submit')
      .thenThrows(rule('INVALID_TRANSITION'));
  });

  test('given a confirmed or rejected order, when it is deleted, then order/deleted', () => {
    given(created, lineA, submitted, confirmed).when('order/delete').then(deleted);
    given(created, lineA, submitted, rejected).when('order/delete').then(deleted);
  });

  test('the INVALID_TRANSITION message names every transition the rule guards', () =>
    given(created, lineA)
      .when('order/confirm')
      .thenThrows({
        message:
          'Submit needs a draft; confirm and reject need a submitted order; cancel needs a draft, submitted or confirmed order; a deleted order takes no command.',
        details: { rule: 'INVALID_TRANSITION', status: 'draft' },
      }));
});

describe('order/reject: its payload', () => {
  const submittedOrder = () => given(created, lineA, submitted);

  test('given a submitted order, when rejected for want of stock naming no SKU, then 400 on skusShort', () =>
    submittedOrder()
      .when('order/reject', { reason: 'not-enough-stock', skusShort: [] })
      .thenThrows({
        code: 'VALIDATION_FAILED',
        status: 400,
        details: {
          issues: [
            {
              path: 'payload.skusShort',
              message: 'must name at least one SKU when the reason is not-enough-stock',
            },
          ],
        },
      }));

  test.each([[''], ['x'.repeat(65)]])(
    'given a submitted order, when rejected naming the SKU %p, then 400 on skusShort',
    (sku) =>
      submittedOrder()
        .when('order/reject', { reason: 'not-enough-stock', skusShort: [sku] })
        .thenThrows(invalid('payload.skusShort.0')),
  );

  test('given a submitted order, when rejected naming 101 SKUs, then 400 on skusShort', () =>
    submittedOrder()
      .when('order/reject', {
        reason: 'not-enough-stock',
        skusShort: Array.from({ length: 101 }, (_, i) => `SKU-${i}`),
      })
      .thenThrows(invalid('payload.skusShort')));

  test('given a submitted order, when rejected naming 100 SKUs, then it is rejected', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => `SKU-${i}`);
    submittedOrder()
      .when('order/reject', { reason: 'not-enough-stock', skusShort: hundred })
      .then({
        type: 'order/rejected',
        payload: { reason: 'not-enough-stock', skusShort: hundred },
      });
  });

  test.each([
    ['an unknown reason', { reason: 'changed-mind', skusShort: ['SKU-A'] }, 'payload.reason'],
    ['no reason', { skusShort: ['SKU-A'] }, 'payload.reason'],
    ['no skusShort', { reason: 'timed-out' }, 'payload.skusShort'],
  ])('given a submitted order, when rejected with %s, then 400', (_what, payload, path) =>
    submittedOrder().when('order/reject', payload).thenThrows(invalid(path)),
  );

  test('given a submitted order, when rejected with a field the schema does not know, then 400', () =>
    submittedOrder()
      .when('order/reject', { ...shortOfA, note: 'x' })
      .thenThrows({ code: 'VALIDATION_FAILED' }));

  test('given a submitted order, when confirmed with a payload field, then 400', () =>
    submittedOrder()
      .when('order/confirm', { force: true })
      .thenThrows({ code: 'VALIDATION_FAILED' }));
});
