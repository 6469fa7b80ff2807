/**
 * The inventory aggregate (one per SKU) as given(events) / when(command) / then(events or
 * error): one rule, one sentence (lambdas/core/given.ts, docs/reference/testing.md).
 */
import {
  INVENTORY_RULES,
  inventoryAggregate,
  MAX_QUANTITY,
  MAX_RESERVATIONS,
} from '../../lambdas/domain/inventory';
import { scenario } from '../../lambdas/core/given';

const { given } = scenario(inventoryAggregate, 'sku-1');
const received = (quantity: number) => ({ type: 'inventory/received', payload: { quantity } });
const reserved = (orderId: string, quantity: number) => ({
  type: 'inventory/reserved',
  payload: { orderId, quantity },
});
const released = (orderId: string, quantity: number) => ({
  type: 'inventory/released',
  payload: { orderId, quantity },
});
const shipped = (orderId: string, quantity: number) => ({
  type: 'inventory/shipped',
  payload: { orderId, quantity },
});

const rulesAsserted = new Set<string>();
const rule = (name: keyof typeof INVENTORY_RULES) => {
  rulesAsserted.add(name);
  return {
    code: 'RULE_VIOLATED',
    status: 422,
    message: INVENTORY_RULES[name],
    details: expect.objectContaining({ rule: name }),
  };
};
const invalid = (path: string) => ({
  code: 'VALIDATION_FAILED',
  status: 400,
  details: { issues: expect.arrayContaining([expect.objectContaining({ path })]) },
});

describe('inventory/receive', () => {
  test('the first receipt starts the SKU', () =>
    given().when('inventory/receive', { quantity: 10 }).then(received(10)));
  test('a later receipt adds to it', () =>
    given(received(10)).when('inventory/receive', { quantity: 5 }).then(received(5)));
  test.each([[0], [-1], [1.5], [MAX_QUANTITY + 1]])('quantity %p: 400', (quantity) =>
    given().when('inventory/receive', { quantity }).thenThrows(invalid('payload.quantity')),
  );
  test('TOO_MUCH_STOCK: on hand never passes the maximum', () =>
    given(received(MAX_QUANTITY))
      .when('inventory/receive', { quantity: 1 })
      .thenThrows(rule('TOO_MUCH_STOCK')));
});

describe('inventory/reserve', () => {
  test('holds units for an order', () =>
    given(received(10))
      .when('inventory/reserve', { orderId: 'o-1', quantity: 4 })
      .then(reserved('o-1', 4)));
  test('may take every available unit', () =>
    given(received(10), reserved('o-1', 4))
      .when('inventory/reserve', { orderId: 'o-2', quantity: 6 })
      .then(reserved('o-2', 6)));
  test('NOT_ENOUGH_STOCK: more than available (reserved units are not available)', () =>
    given(received(10), reserved('o-1', 4))
      .when('inventory/reserve', { orderId: 'o-2', quantity: 7 })
      .thenThrows({ ...rule('NOT_ENOUGH_STOCK'), details: { requested: 7, available: 6 } }));
  test('ALREADY_RESERVED: one reservation per order and SKU', () =>
    given(received(10), reserved('o-1', 4))
      .when('inventory/reserve', { orderId: 'o-1', quantity: 1 })
      .thenThrows(rule('ALREADY_RESERVED')));
  test('after a release, the order may reserve again', () =>
    given(received(10), reserved('o-1', 4), released('o-1', 4))
      .when('inventory/reserve', { orderId: 'o-1', quantity: 10 })
      .then(reserved('o-1', 10)));
  test('TOO_MANY_RESERVATIONS: open reservations are bounded', () =>
    given(
      received(MAX_RESERVATIONS + 1),
      ...Array.from({ length: MAX_RESERVATIONS }, (_, i) => reserved(`o-${i}`, 1)),
    )
      .when('inventory/reserve', { orderId: 'o-last', quantity: 1 })
      .thenThrows(rule('TOO_MANY_RESERVATIONS')));
  test('a SKU never received: 404 NOT_FOUND', () =>
    given()
      .when('inventory/reserve', { orderId: 'o-1', quantity: 1 })
      .thenThrows({ code: 'NOT_FOUND', status: 404 }));
  test('an order id that is not an aggregate id: 400', () =>
    given(received(1))
      .when('inventory/reserve', { orderId: 'o 1', quantity: 1 })
      .thenThrows(invalid('payload.orderId')));
});

describe('inventory/release and inventory/ship', () => {
  test('a release gives the reserved units back', () =>
    given(received(10), reserved('o-1', 4))
      .when('inventory/release', { orderId: 'o-1' })
      .then(released('o-1', 4)));
  test('a shipment takes the reserved units out', () =>
    given(received(10), reserved('o-1', 4))
      .when('inventory/ship', { orderId: 'o-1' })
      .then(shipped('o-1', 4)));
  test.each([['inventory/release'], ['inventory/ship']])(
    'NO_RESERVATION: %s of an order holding none',
    (type) =>
      given(received(10), reserved('o-1', 4), shipped('o-1', 4))
        .when(type, { orderId: 'o-1' })
        .thenThrows(rule('NO_RESERVATION')),
  );
});

test('the state is the fold of the events: available = on hand - reserved', () => {
  expect(
    given(received(10), reserved('o-1', 4), reserved('o-2', 3), shipped('o-1', 4), received(2))
      .state,
  ).toMatchObject({
    id: 'sku-1',
    onHand: 8,
    reserved: 3,
    available: 5,
    reservations: { 'o-2': 3 },
    version: 5,
  });
});

test('every rule has a test', () => {
  expect([...rulesAsserted].sort()).toEqual(Object.keys(INVENTORY_RULES).sort());
});
