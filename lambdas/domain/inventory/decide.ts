/**
 * Pure decisions: an inventory command and the SKU's current state give events, or a typed
 * error. No clock, no random ids, no I/O: what the edge knows comes in `context`.
 */
import type { DecideContext } from '../../core/command/aggregate';
import { NotFoundError, RuleViolation } from '../../core/shared/errors';
import { MAX_QUANTITY, MAX_RESERVATIONS, type InventoryCommand } from './commands';
import type { InventoryEvent } from './events';
import type { InventoryState, InventoryView } from './reducer';

/**
 * The rule codes a 422 answer can carry in `details.rule`. A command other than a receipt on a
 * SKU never received is a 404 (NOT_FOUND).
 */
export const INVENTORY_RULES = {
  NOT_ENOUGH_STOCK: 'A reservation takes at most the units available (on hand, not reserved).',
  ALREADY_RESERVED: 'An order holds one reservation per SKU: release it before reserving again.',
  NO_RESERVATION: 'The order holds no reservation of this SKU.',
  TOO_MANY_RESERVATIONS: `A SKU holds at most ${MAX_RESERVATIONS} open reservations.`,
  TOO_MUCH_STOCK: `A SKU holds at most ${MAX_QUANTITY} units on hand.`,
} as const;

export type InventoryRule = keyof typeof INVENTORY_RULES;

const violation = (rule: InventoryRule, details: Record<string, unknown> = {}) =>
  new RuleViolation(rule, INVENTORY_RULES[rule], details);

/** The units an order holds; an order without a reservation is a rule violation. */
const requireReservation = (stock: InventoryView, orderId: string): number => {
  const quantity = stock.reservations[orderId];
  if (quantity === undefined) throw violation('NO_RESERVATION', { orderId });
  return quantity;
};

export const decideInventory = (
  state: InventoryState,
  command: InventoryCommand,
  context: DecideContext,
): InventoryEvent[] => {
  if (command.type === 'inventory/receive') {
    const onHand = (state?.onHand ?? 0) + command.payload.quantity;
    if (onHand > MAX_QUANTITY) throw violation('TOO_MUCH_STOCK', { onHand: state?.onHand ?? 0 });
    return [{ type: 'inventory/received', payload: command.payload }];
  }
  if (state === null) {
    throw new NotFoundError(`SKU ${context.aggregateId} has never been received`, {
      aggregateId: context.aggregateId,
    });
  }

  switch (command.type) {
    case 'inventory/reserve': {
      const { orderId, quantity } = command.payload;
      if (state.reservations[orderId] !== undefined) {
        throw violation('ALREADY_RESERVED', { orderId, reserved: state.reservations[orderId] });
      }
      if (quantity > state.available) {
        throw violation('NOT_ENOUGH_STOCK', { requested: quantity, available: state.available });
      }
      if (Object.keys(state.reservations).length >= MAX_RESERVATIONS) {
        throw violation('TOO_MANY_RESERVATIONS', { max: MAX_RESERVATIONS });
      }
      return [{ type: 'inventory/reserved', payload: { orderId, quantity } }];
    }
    case 'inventory/release': {
      const { orderId } = command.payload;
      const quantity = requireReservation(state, orderId);
      return [{ type: 'inventory/released', payload: { orderId, quantity } }];
    }
    case 'inventory/ship': {
      const { orderId } = command.payload;
      const quantity = requireReservation(state, orderId);
      return [{ type: 'inventory/shipped', payload: { orderId, quantity } }];
    }
    default: {
      const unhandled: never = command;
      throw new Error(`Unhandled command ${(unhandled as InventoryCommand).type}`);
    }
  }
};
