/**
 * Authorization as data beside `decide`: pure rules each aggregate and view declares, run by
 * the server and by the client's optimistic prediction alike. Reads never reveal existence: a
 * row the caller may not read answers 404 as if absent (docs/decisions/authorization.md).
 */
import { AppError } from '../shared/errors';
import { hasRole, type Principal } from './principal';

/** A rule forbids the caller this command on this state (HTTP 403); `details.rule` names it. */
export class ForbiddenError extends AppError {
  constructor(
    readonly rule: string,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super('FORBIDDEN', message, { rule, ...details });
  }
}

/** Who may read a row (a view's, or the state behind `/events` and `/history`). */
export type ReadRule<Row> = (principal: Principal, row: Row) => boolean;

/** Who may run a command on a state: returns the rule that forbids it, or `undefined`. */
export type CommandRule<State, C> = (
  principal: Principal,
  state: State,
  command: C,
) => string | undefined;

/** Admins may do and read anything: operators and service callers. */
export const isAdmin = (principal: Principal) => hasRole(principal, 'admin');

/**
 * The one read rule of rows, pushes and lists: an admin always; anyone else as `rule` says; no
 * rule, admins only. Takes the rule of any view (typed on its own row, hence `never` here).
 */
export const mayRead = (
  rule: ReadRule<never> | undefined,
  principal: Principal,
  subject: unknown,
): boolean => isAdmin(principal) || (rule?.(principal, subject as never) ?? false);

/** Support and admins: staff who read everything. */
export const isStaff = (principal: Principal) =>
  isAdmin(principal) || hasRole(principal, 'support');

/** A read rule for rows only staff read (analytics across users). */
export const staffOnly: ReadRule<unknown> = (principal) => isStaff(principal);

/** A list rule: a user lists their own partition (`?customerId=<their sub>`); staff list any. */
export const ownPartitionOrStaff = (principal: Principal, value: string) =>
  isStaff(principal) || value === principal.subject;

/** A read rule: admin, support, or the principal the row names as its owner. */
export const ownerOrStaff =
  <Row>(ownerOf: (row: Row) => string | undefined): ReadRule<Row> =>
  (principal, row) =>
    isStaff(principal) || ownerOf(row) === principal.subject;
