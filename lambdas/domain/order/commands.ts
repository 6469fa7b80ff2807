/** Order commands: imperative intents, with the runtime schema each payload must satisfy. */
import * as z from 'zod';

export const MAX_LINES = 100;
export const MAX_QUANTITY = 10_000;
/** Caps unit prices so 100 lines x 10,000 x price stays a safe integer (minor units). */
export const MAX_UNIT_PRICE = 1_000_000_000;

const lineId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, _ or -');
const sku = z.string().min(1).max(64);
const quantity = z
  .number()
  .int('must be an integer')
  .min(1, 'must be at least 1')
  .max(MAX_QUANTITY, `must be at most ${MAX_QUANTITY}`);

/** Why the fulfilment workflow rejects an order: stock refused a line, or no answer in time. */
export const REJECT_REASONS = ['not-enough-stock', 'timed-out'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export const orderCommandSchemas = {
  'order/create': z.strictObject({
    /** The signed-in customer when omitted; naming another customer is an admin's right. */
    customerId: z.string().min(1).max(128).optional(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be 3 upper-case letters (ISO 4217)'),
  }),
  'order/addLine': z.strictObject({
    lineId,
    sku,
    quantity,
    unitPrice: z
      .number()
      .int('must be an integer amount in minor units')
      .min(0, 'must not be negative')
      .max(MAX_UNIT_PRICE, `must be at most ${MAX_UNIT_PRICE}`),
  }),
  'order/changeQuantity': z.strictObject({ lineId, quantity }),
  'order/removeLine': z.strictObject({ lineId }),
  'order/submit': z.strictObject({}),
  'order/cancel': z.strictObject({ reason: z.string().max(500).optional() }),
  'order/delete': z.strictObject({}),
  /** Sent by the fulfilment workflow: every line's stock is reserved. */
  'order/confirm': z.strictObject({}),
  /** Sent by the fulfilment workflow: stock was short (naming the SKUs), or it timed out. */
  'order/reject': z
    .strictObject({
      reason: z.enum(REJECT_REASONS),
      skusShort: z.array(sku).max(MAX_LINES, `must name at most ${MAX_LINES} SKUs`),
    })
    .refine((p) => p.reason !== 'not-enough-stock' || p.skusShort.length > 0, {
      path: ['skusShort'],
      message: 'must name at least one SKU when the reason is not-enough-stock',
    }),
};

type Schemas = typeof orderCommandSchemas;

export type OrderCommand = {
  [K in keyof Schemas]: { readonly type: K; readonly payload: z.infer<Schemas[K]> };
}[keyof Schemas];

export type OrderCommandType = OrderCommand['type'];
