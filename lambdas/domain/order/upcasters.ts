/**
 * How order events evolved. Each step is pure and total over every payload ever stored with
 * its version (see docs/decisions/event-upcasting.md for the rules).
 */
import type { EventSchemas } from '../../core/events/upcasting';

/** `order/lineAdded` version 1, as stored before the unit of the price was made explicit. */
export interface LineAddedV1 {
  lineId: string;
  sku: string;
  quantity: number;
  unitPrice: number;
}

export const orderEventSchemas: EventSchemas = {
  'order/lineAdded': {
    version: 2,
    steps: {
      // v2: `unitPrice` (minor units, implied) is named `unitPriceMinor`. Same number.
      1: ({ unitPrice, ...rest }) => ({ ...rest, unitPriceMinor: unitPrice }),
    },
  },
};
