/**
 * Who may do what with an order: pure rules as data, beside `decide`, run by the server and by
 * the client's optimistic prediction alike (docs/guide/users-and-permissions.md).
 * The customer is the signed-in user; support reads every order and may cancel one; an admin
 * may do anything. Confirm and reject are the fulfilment workflow's, which runs as an admin.
 */
import { isAdmin, type ReadRule } from '../../core/identity/authorization';
import { hasRole, type Principal } from '../../core/identity/principal';
import type { OrderCommand } from './commands';
import type { OrderState } from './reducer';

/** The rule codes a 403 answer can carry in `details.rule`. */
export const ORDER_PERMISSIONS = {
  CUSTOMER_IS_THE_CALLER:
    'An order is created for the signed-in customer: omit customerId or name yourself (only an admin names another customer).',
  OWNER_ONLY: 'Only the customer who owns the order may change it.',
  OWNER_OR_SUPPORT: 'Only the customer who owns the order, or support, may cancel it.',
  WORKFLOW_ONLY:
    'Only the fulfilment workflow (running as an admin) confirms or rejects an order, once its stock is settled.',
} as const;

export type OrderPermission = keyof typeof ORDER_PERMISSIONS;

const isSupport = (principal: Principal) => hasRole(principal, 'support');

/** The owner, support and admins read an order; nobody is refused an order that does not exist. */
export const canReadOrder: ReadRule<OrderState> = (principal, order) =>
  order === null ||
  isAdmin(principal) ||
  isSupport(principal) ||
  order.customerId === principal.subject;

export const authorizeOrder = (
  principal: Principal,
  order: OrderState,
  command: OrderCommand,
): OrderPermission | undefined => {
  if (isAdmin(principal)) return undefined;
  const isOwner = order !== null && order.customerId === principal.subject;
  switch (command.type) {
    case 'order/create': {
      const named = command.payload.customerId;
      return named === undefined || named === principal.subject
        ? undefined
        : 'CUSTOMER_IS_THE_CALLER';
    }
    case 'order/cancel':
      // As below: a missing order is decide's NOT_FOUND (a 403 would tell it from another's).
      return isOwner || isSupport(principal) || order === null ? undefined : 'OWNER_OR_SUPPORT';
    case 'order/confirm':
    case 'order/reject':
      // Stock decides, not a person: otherwise a customer could confirm her order with nothing reserved.
      return order === null ? undefined : 'WORKFLOW_ONLY';
    case 'order/addLine':
    case 'order/changeQuantity':
    case 'order/removeLine':
    case 'order/submit':
    case 'order/delete':
      // A command on an order that does not exist yet is decide's NOT_FOUND, not a refusal.
      return isOwner || order === null ? undefined : 'OWNER_ONLY';
    default: {
      const unhandled: never = command;
      throw new Error(`Unhandled command ${(unhandled as OrderCommand).type}`);
    }
  }
};
