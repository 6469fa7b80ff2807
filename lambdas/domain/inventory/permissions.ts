/**
 * Who may do what with stock: every signed-in user reads it (a shop shows what is available);
 * only an admin (an operator, or a workflow running as one) changes it.
 */
import { isAdmin, type ReadRule } from '../../core/identity/authorization';
import type { Principal } from '../../core/identity/principal';
import type { InventoryCommand } from './commands';
import type { InventoryState } from './reducer';

/** The rule codes a 403 answer can carry in `details.rule`. */
export const INVENTORY_PERMISSIONS = {
  ADMIN_ONLY: 'Only an admin changes stock.',
} as const;

export type InventoryPermission = keyof typeof INVENTORY_PERMISSIONS;

export const canReadInventory: ReadRule<InventoryState> = () => true;

export const authorizeInventory = (
  principal: Principal,
  _stock: InventoryState,
  _command: InventoryCommand,
): InventoryPermission | undefined => (isAdmin(principal) ? undefined : 'ADMIN_ONLY');
