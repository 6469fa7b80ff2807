/**
 * Event upcasting in the one event codec: old payload shapes are lifted on read, the current
 * version is stamped on write, and a version the code does not know is refused, never guessed.
 */
import { decodeStoredEvent } from '../../lambdas/core/events/event-codec';
import { CorruptEventError } from '../../lambdas/core/shared/errors';
import { checkEventSchemas, upcastPayload } from '../../lambdas/core/events/upcasting';
import { EVENT_SCHEMAS } from '../../lambdas/domain/event-schemas';
import { orderEventSchemas } from '../../lambdas/domain/order';

const item = (payload: Record<string, unknown>, schemaVersion?: number) => ({
  aggregateId: 'o-1',
  version: 2,
  aggregateType: 'order',
  type: 'order/lineAdded',
  payload,
  eventId: 'e-2',
  occurredAt: '2026-01-01T00:00:00.000Z',
  commandId: 'c-2',
  commandHash: 'h',
  correlationId: 'k',
  causationId: 'c-2',
  ...(schemaVersion !== undefined && { schemaVersion }),
});

const v1 = { lineId: 'a', sku: 'A', quantity: 2, unitPrice: 1250 };
const v2 = { lineId: 'a', sku: 'A', quantity: 2, unitPriceMinor: 1250 };

test('an event without schemaVersion is version 1 and is upcast to the current shape', () => {
  const event = decodeStoredEvent(item(v1));
  expect(event.payload).toEqual(v2);
  expect(event.schemaVersion).toBe(2);
});

test('an explicit version 1 is upcast the same way; the input item is not changed', () => {
  const stored = item(v1, 1);
  expect(decodeStoredEvent(stored).payload).toEqual(v2);
  expect(stored.payload).toEqual(v1);
});

test('a current event passes unchanged, and decoding twice is decoding once', () => {
  const once = decodeStoredEvent(item(v2, 2));
  expect(once.payload).toEqual(v2);
  expect(decodeStoredEvent(once)).toEqual(once);
});

test('a type with no declared schema is version 1 and untouched', () => {
  const created = decodeStoredEvent({
    ...item({ customerId: 'c', currency: 'EUR' }),
    type: 'order/created',
  });
  expect(created.payload).toEqual({ customerId: 'c', currency: 'EUR' });
  expect(created.schemaVersion).toBe(1);
});

test('a version newer than the code knows is a CorruptEventError naming the event', () => {
  let thrown: unknown;
  try {
    decodeStoredEvent(item(v2, 3));
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(CorruptEventError);
  expect((thrown as CorruptEventError).details).toMatchObject({
    aggregateId: 'o-1',
    version: 2,
    reason: expect.stringMatching(/schemaVersion 3 of order\/lineAdded is newer/),
  });
});

test('the deployment list holds every domain schema and has a step for every old version', () => {
  expect(EVENT_SCHEMAS).toMatchObject(orderEventSchemas);
  expect(() => checkEventSchemas(EVENT_SCHEMAS)).not.toThrow();
  expect(() => checkEventSchemas({ 't/x': { version: 3, steps: { 1: (p) => p } } })).toThrow(
    /no upcaster from version 2 to 3/,
  );
});

test('steps run in order, one version at a time', () => {
  const schemas = {
    't/x': {
      version: 3,
      steps: {
        1: (p: Record<string, unknown>) => ({ ...p, a: 1 }),
        2: (p: Record<string, unknown>) => ({ ...p, b: Number(p.a) + 1 }),
      },
    },
  };
  expect(upcastPayload(schemas, 't/x', 1, {})).toEqual({ a: 1, b: 2 });
  expect(upcastPayload(schemas, 't/x', 2, { a: 5 })).toEqual({ a: 5, b: 6 });
});
