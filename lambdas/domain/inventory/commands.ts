/**
 * Stock commands: one inventory aggregate per SKU (its aggregate id is the SKU), each with the
 * runtime schema its payload must satisfy (checked at the edge, before `decide` runs: a bad
 * payload is a 400). Orders reserve stock here (issue 22: the fulfilment workflow).
 */
import * as z from 'zod';

/** Units received at once. */
export const MAX_QUANTITY = 1_000_000;
/**
 * Open reservations of one SKU at once: bounds the row (1,000 order ids of 64 characters stay
 * far below DynamoDB's 400 KB item limit).
 */
export const MAX_RESERVATIONS = 1_000;

const quantity = z
  .number()
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(MAX_QUANTITY, `must be at most ${MAX_QUANTITY}`);
/** The order a reservation is for: an order's aggregate id. */
const orderId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, _ or -');

/** Every command type starts with `inventory/`: the aggregate's namespace. */
export const inventoryCommandSchemas = {
  /** Stock arrives; the first receipt of a SKU starts its inventory. */
  'inventory/receive': z.strictObject({ quantity }),
  /** Holds `quantity` units for an order; refused when fewer are available. */
  'inventory/reserve': z.strictObject({ orderId, quantity }),
  /** Gives an order's reserved units back. */
  'inventory/release': z.strictObject({ orderId }),
  /** The order's reserved units leave the warehouse. */
  'inventory/ship': z.strictObject({ orderId }),
};

type Schemas = typeof inventoryCommandSchemas;

export type InventoryCommand = {
  [K in keyof Schemas]: { readonly type: K; readonly payload: z.infer<Schemas[K]> };
}[keyof Schemas];

export type InventoryCommandType = InventoryCommand['type'];
