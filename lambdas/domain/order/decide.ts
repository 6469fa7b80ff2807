/** Pure decisions: an order command and the current state give events, or a typed error. */
import type { DecideContext } from '../../core/command/aggregate';
import { AlreadyExistsError, NotFoundError, RuleViolation } from '../../core/shared/errors';
import { MAX_LINES, type OrderCommand } from './commands';
import type { OrderEvent } from './events';
import type { OrderStatus, OrderView, OrderState } from './reducer';

/** The rule codes a 422 answer can carry in `details.rule`. */
export const ORDER_RULES = {
  ORDER_NOT_EDITABLE: 'Lines can only change while the order is a draft.',
  ORDER_EMPTY: 'An order without lines cannot be submitted.',
  TOO_MANY_LINES: `An order has at most ${MAX_LINES} lines.`,
  DUPLICATE_LINE_ID: 'A lineId is unique within its order.',
  LINE_NOT_FOUND: 'The lineId names no line of this order.',
  INVALID_TRANSITION:
    'Submit needs a draft; confirm and reject need a submitted order; cancel needs a draft, submitted or confirmed order; a deleted order takes no command.',
} as const;

export type OrderRule = keyof typeof ORDER_RULES;

const violation = (rule: OrderRule, details: Record<string, unknown> = {}) =>
  new RuleViolation(rule, ORDER_RULES[rule], details);

const requireStatus = (order: OrderView, allowed: readonly OrderStatus[], rule: OrderRule) => {
  if (!allowed.includes(order.status)) throw violation(rule, { status: order.status });
};

const requireLine = (order: OrderView, lineId: string) => {
  if (!order.lines.some((l) => l.lineId === lineId)) throw violation('LINE_NOT_FOUND', { lineId });
};

export const decideOrder = (
  state: OrderState,
  command: OrderCommand,
  context: DecideContext,
): OrderEvent[] => {
  if (command.type === 'order/create') {
    if (state !== null) {
      throw new AlreadyExistsError(`Order ${context.aggregateId} already exists`, {
        aggregateId: context.aggregateId,
      });
    }
    const customerId = command.payload.customerId ?? context.actor.subject;
    return [{ type: 'order/created', payload: { ...command.payload, customerId } }];
  }
  if (state === null) {
    throw new NotFoundError(`Order ${context.aggregateId} does not exist`, {
      aggregateId: context.aggregateId,
    });
  }
  if (state.status === 'deleted') throw violation('INVALID_TRANSITION', { status: state.status });

  switch (command.type) {
    case 'order/addLine': {
      requireStatus(state, ['draft'], 'ORDER_NOT_EDITABLE');
      if (state.lines.some((l) => l.lineId === command.payload.lineId)) {
        throw violation('DUPLICATE_LINE_ID', { lineId: command.payload.lineId });
      }
      if (state.lines.length >= MAX_LINES) throw violation('TOO_MANY_LINES', { max: MAX_LINES });
      const { unitPrice, ...line } = command.payload;
      return [{ type: 'order/lineAdded', payload: { ...line, unitPriceMinor: unitPrice } }];
    }
    case 'order/changeQuantity':
      requireStatus(state, ['draft'], 'ORDER_NOT_EDITABLE');
      requireLine(state, command.payload.lineId);
      return [{ type: 'order/quantityChanged', payload: command.payload }];
    case 'order/removeLine':
      requireStatus(state, ['draft'], 'ORDER_NOT_EDITABLE');
      requireLine(state, command.payload.lineId);
      return [{ type: 'order/lineRemoved', payload: command.payload }];
    case 'order/submit':
      requireStatus(state, ['draft'], 'INVALID_TRANSITION');
      if (state.lines.length === 0) throw violation('ORDER_EMPTY');
      return [{ type: 'order/submitted', payload: {} }];
    case 'order/cancel':
      // A rejected order is over already; cancelling a confirmed one releases its stock (the
      // fulfilment workflow reacts to order/cancelled).
      requireStatus(state, ['draft', 'submitted', 'confirmed'], 'INVALID_TRANSITION');
      return [{ type: 'order/cancelled', payload: command.payload }];
    case 'order/confirm':
      requireStatus(state, ['submitted'], 'INVALID_TRANSITION');
      return [{ type: 'order/confirmed', payload: {} }];
    case 'order/reject':
      requireStatus(state, ['submitted'], 'INVALID_TRANSITION');
      return [{ type: 'order/rejected', payload: command.payload }];
    case 'order/delete':
      return [{ type: 'order/deleted', payload: {} }];
    default: {
      const unhandled: never = command;
      throw new Error(`Unhandled command ${(unhandled as OrderCommand).type}`);
    }
  }
};
