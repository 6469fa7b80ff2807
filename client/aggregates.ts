/**
 * The aggregates the client knows: the deployment's list (lambdas/handlers/deployment.ts), the
 * only place that names domains. A command goes to the aggregate its type's prefix names
 * (`order/…`, `shoppingList/…`), as on the server; its collection names its routes and its
 * live subscriptions, its view's name the messages pushed for it.
 */
import type { EventAction, NewEvent } from '../lambdas/core/events/events';
import type { DecideContext } from '../lambdas/core/command/aggregate';
import type { Principal } from '../lambdas/core/identity/principal';
import {
  type DeploymentCommand,
  type DeploymentView,
  SERVED_AGGREGATES,
} from '../lambdas/handlers/deployment';

export type { DeploymentCommand, DeploymentView };

/** What the client runs of one aggregate: the server's own reducer, rules and `decide`. */
export interface ClientAggregate {
  readonly type: string;
  readonly collection: string;
  /** The pushed view's name: messages `<name>/changed` carry the row under `<name>`. */
  readonly viewName: string;
  readonly initialState: unknown;
  readonly reducer: (state: unknown, event: EventAction) => unknown;
  /** Throws an AppError (a rule, not found...) like the server's. */
  readonly decide: (
    state: unknown,
    command: { readonly type: string; readonly payload: unknown },
    context: DecideContext,
  ) => readonly NewEvent[];
  readonly isDeleted: (state: unknown) => boolean;
  /** Who may read a state (the server answers 404 to anyone else): the aggregate's own rule. */
  readonly canRead: (principal: Principal, state: unknown) => boolean;
  /** The rule code that forbids the command (the server's 403 `details.rule`), or undefined. */
  readonly authorize: (
    principal: Principal,
    state: unknown,
    command: { readonly type: string; readonly payload: unknown },
  ) => string | undefined;
  /** Each rule code's message, as the server's 403 says it. */
  readonly permissions: Readonly<Record<string, string>>;
}

export const CLIENT_AGGREGATES: readonly ClientAggregate[] = SERVED_AGGREGATES.map(
  ({ aggregate, collection, view, isDeleted }) => ({
    type: aggregate.type,
    collection,
    viewName: view.name,
    initialState: aggregate.initialState,
    reducer: aggregate.reducer as ClientAggregate['reducer'],
    decide: aggregate.decide as ClientAggregate['decide'],
    canRead: aggregate.canRead as ClientAggregate['canRead'],
    authorize: aggregate.authorize as ClientAggregate['authorize'],
    permissions: aggregate.permissions,
    isDeleted,
  }),
);

export const aggregateOfType = (type: string): ClientAggregate | undefined =>
  CLIENT_AGGREGATES.find((a) => a.type === type);

/** The aggregate a command type belongs to: its prefix before `/`. */
export const aggregateOfCommand = (commandType: string): ClientAggregate | undefined =>
  CLIENT_AGGREGATES.find((a) => commandType.startsWith(`${a.type}/`));

export const aggregateOfCollection = (collection: string): ClientAggregate =>
  CLIENT_AGGREGATES.find((a) => a.collection === collection) ??
  (() => {
    throw new Error(
      `No collection ${collection} in this deployment (${CLIENT_AGGREGATES.map((a) => a.collection).join(', ')})`,
    );
  })();

export const aggregateOfView = (viewName: string): ClientAggregate | undefined =>
  CLIENT_AGGREGATES.find((a) => a.viewName === viewName);

/** The state a component shows: `null` before creation and once deleted (as `GET` answers 404). */
export const visibleIn = (aggregate: ClientAggregate, state: unknown): DeploymentView | null =>
  state === null ||
  state === undefined ||
  aggregate.isDeleted(state) ||
  (state as { deleted?: unknown }).deleted === true
    ? null
    : (state as DeploymentView);
