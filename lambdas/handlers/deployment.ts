/**
 * What this deployment serves: its aggregates and its declared projections. The projector runs
 * every projection listed here, the query route `GET /read-models/{name}/{key}` serves them, and
 * their storage (PROJECTIONS_TABLE) is created by the CDK stacks and the local runtime. Adding a
 * projection: declare it in its domain folder and add it here (docs/guide/change-a-read-model.md).
 * Collections name the URL segment each aggregate is served under (`GET /{collection}/{id}`).
 */
import { orderAggregate, type OrderView } from '../domain/order';
import {
  customerSummaryProjection,
  orderViewProjection,
  removedLinesProjection,
} from '../domain/order/projections';
import { shoppingListAggregate, type ShoppingListView } from '../domain/shopping-list';
import {
  ownerListsProjection,
  shoppingListRowProjection,
} from '../domain/shopping-list/projections';
import { fulfilmentProcess } from '../domain/fulfilment';
import { inventoryAggregate } from '../domain/inventory';
import { inventoryRowProjection } from '../domain/inventory/projections';
import type { AnyRowProjection } from '../core/projections/row-projection';
import type { AnyProcessManager } from '../core/workflows/process-manager';
import { checkCollections, type CollectionDeclaration } from '../core/projections/collections';
import type { PushedCollection } from '../core/push/push';
import { RESERVED_SEGMENTS } from './routes';

export const AGGREGATES = [orderAggregate, shoppingListAggregate, inventoryAggregate];

export const PROJECTIONS: readonly AnyRowProjection[] = [
  orderViewProjection,
  customerSummaryProjection,
  removedLinesProjection,
  shoppingListRowProjection,
  ownerListsProjection,
  inventoryRowProjection,
];

/**
 * The process managers (lambdas/core/workflows/process-manager.ts): each turns events of its
 * source aggregate into commands, run by the workflows function on each stack's event stream.
 */
export const PROCESS_MANAGERS: readonly AnyProcessManager[] = [fulfilmentProcess];

/**
 * Every aggregate's collection: its URL segment (`GET /{collection}/{id}`, `/events`,
 * `/history`, and `GET /{collection}?<param>=` for the lists its view declares) and its view, a
 * declared projection above, one row per aggregate keyed by its id. Checked at module load
 * (lambdas/core/projections/collections.ts): a bad declaration fails the cold start. A plain
 * array literal, like AGGREGATES and PROJECTIONS, so a tool can append an entry.
 */
export const COLLECTIONS: readonly CollectionDeclaration[] = [
  {
    collection: 'orders',
    aggregate: orderAggregate,
    view: orderViewProjection,
    isDeleted: (row: OrderView) => row.status === 'deleted',
  },
  {
    collection: 'shopping-lists',
    aggregate: shoppingListAggregate,
    view: shoppingListRowProjection,
    isDeleted: (row: ShoppingListView) => row.status === 'deleted',
  },
  { collection: 'inventory', aggregate: inventoryAggregate, view: inventoryRowProjection },
];
checkCollections(COLLECTIONS, {
  aggregates: AGGREGATES,
  projections: PROJECTIONS,
  reserved: RESERVED_SEGMENTS,
});

/**
 * Every aggregate of the deployment with its collection (the URL segment of its routes) and its
 * view (the row `GET /{collection}/{id}` answers, pushed as `<view name>/changed`, with the read
 * rule every push is checked against): what push and the Redux client (client/) read, so
 * neither names a domain.
 */
export interface ServedAggregate extends PushedCollection {
  readonly aggregate: (typeof AGGREGATES)[number];
  /** A state that is a deleted aggregate: the client shows `null`, as `GET` answers 404. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly isDeleted: (state: any) => boolean;
}

export const SERVED_AGGREGATES: readonly ServedAggregate[] = COLLECTIONS.map(
  ({ aggregate, collection, view, isDeleted }) => ({
    aggregate: aggregate as ServedAggregate['aggregate'],
    collection,
    view: { name: view.name, ...(view.canRead && { canRead: view.canRead }) },
    isDeleted: isDeleted ?? (() => false),
  }),
);

/**
 * What a WebSocket may follow (`{ action: 'subscribe', collection, id }`): every served
 * aggregate's collection, each with the view whose rows are pushed (`<view name>/changed`,
 * `/deleted`) and its read rule, which a subscribe and every push are checked against.
 */
export const PUSHED_COLLECTIONS: readonly PushedCollection[] = SERVED_AGGREGATES;

type CommandOf<A> = A extends { readonly decide: (s: never, c: infer C, x: never) => unknown }
  ? C
  : never;
type StateOf<A> = A extends { readonly initialState: infer S } ? S : never;

/** Any command of the deployment's aggregates: what `POST /commands` and the client accept. */
export type DeploymentCommand = CommandOf<(typeof AGGREGATES)[number]>;
/** Any aggregate's view (its state once created): what the client's selectors answer. */
export type DeploymentView = NonNullable<StateOf<(typeof AGGREGATES)[number]>>;
