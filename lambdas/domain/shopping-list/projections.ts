/**
 * Read models of the shopping-list domain (declared projections, see
 * lambdas/core/projections/row-projection.ts). Each reducer is pure; `owner-lists` is fed by many lists and
 * commutes across them (each list only changes its own entry and adds its own deltas), so a row
 * is the fold of the log whatever order lists are delivered in.
 */
import { ownerOrStaff, ownPartitionOrStaff } from '../../core/identity/authorization';
import type { EventAction } from '../../core/events/events';
import type { RowProjection } from '../../core/projections/row-projection';
import { aggregateView } from '../../core/projections/collections';
import type { ShoppingListEventAction, ShoppingListEventType } from './events';
import { shoppingListAggregate } from './index';
import { shoppingListReducer, type ShoppingListState, type ShoppingListView } from './reducer';

const EVENT_TYPES: readonly ShoppingListEventType[] = [
  'shoppingList/created',
  'shoppingList/renamed',
  'shoppingList/itemAdded',
  'shoppingList/itemToggled',
  'shoppingList/itemRemoved',
  'shoppingList/deleted',
];

const asListEvent = (event: EventAction) => event as ShoppingListEventAction;

/** The list after `event`: the aggregate's own reducer, so rows and state cannot disagree. */
const listAfter = (event: EventAction, before: ShoppingListState): ShoppingListView => {
  const after = shoppingListReducer(before, asListEvent(event));
  if (after === null) {
    throw new Error(`${event.type} of ${event.meta.aggregateId} applies to no shopping list`);
  }
  return after;
};

/**
 * One row per list, keyed by its id: the list view itself (the aggregate's state). A deleted
 * list stays, with status `deleted`.
 */
export const shoppingListRowProjection = aggregateView<ShoppingListState, ShoppingListView>({
  name: 'shopping-list',
  version: 1,
  source: shoppingListAggregate,
  // Its sharing too: who may read the row (canRead) follows it.
  eventTypes: [...EVENT_TYPES, 'shoppingList/shared', 'shoppingList/unshared'],
  createdBy: 'shoppingList/created',
  lists: [
    {
      // GET /shopping-lists?ownerId=u-1: an owner's lists, last changed first; a deleted list
      // leaves it.
      param: 'ownerId',
      pattern: /^.{1,128}$/,
      partitionOf: (row) => (row.status === 'deleted' ? undefined : row.ownerId),
      sortOf: (row) => row.updatedAt,
      mayList: ownPartitionOrStaff,
    },
  ],
});

/** One active list of an owner, as the owner's row shows it. */
export interface OwnedList {
  readonly name: string;
  readonly itemCount: number;
  readonly checkedCount: number;
}

export interface OwnerLists {
  readonly ownerId: string;
  /** Lists of this owner not deleted. */
  readonly activeLists: number;
  /** Unchecked items over the owner's active lists. */
  readonly openItems: number;
  /** Every active list of the owner, by list id. */
  readonly lists: Readonly<Record<string, OwnedList>>;
  /** The latest `occurredAt` of any event of any of the owner's lists. */
  readonly lastActivityAt: string;
}

/** What one list adds to its owner's counts. */
const contribution = (list: ShoppingListState) =>
  list?.status === 'active'
    ? { lists: 1, openItems: list.itemCount - list.checkedCount }
    : { lists: 0, openItems: 0 };

/**
 * One row per owner. A list's event replaces that list's own entry and adds the difference its
 * change makes to the counts (after minus before), so lists' events commute with each other.
 * Unsharded: an owner with some thousands of lists would outgrow one item (see `shards`).
 */
export const ownerListsProjection: RowProjection<OwnerLists, ShoppingListState> = {
  name: 'owner-lists',
  version: 1,
  source: shoppingListAggregate,
  eventTypes: EVENT_TYPES,
  rowKey: (event, before) => {
    const e = asListEvent(event);
    // A list's owner never changes: the created event names it, the state keeps it.
    return e.type === 'shoppingList/created' ? e.payload.ownerId : before?.ownerId;
  },
  reducer: (row, event, before) => {
    const after = listAfter(event, before);
    const { occurredAt, aggregateId } = event.meta;
    const current: OwnerLists = row ?? {
      ownerId: after.ownerId,
      activeLists: 0,
      openItems: 0,
      lists: {},
      lastActivityAt: occurredAt,
    };
    const [was, is] = [contribution(before), contribution(after)];
    const { [aggregateId]: _previous, ...others } = current.lists;
    const lists =
      after.status === 'active'
        ? {
            ...others,
            [aggregateId]: {
              name: after.name,
              itemCount: after.itemCount,
              checkedCount: after.checkedCount,
            },
          }
        : others;
    return {
      ownerId: current.ownerId,
      activeLists: current.activeLists + is.lists - was.lists,
      openItems: current.openItems + is.openItems - was.openItems,
      lists,
      lastActivityAt: occurredAt > current.lastActivityAt ? occurredAt : current.lastActivityAt,
    };
  },
  keyPattern: /^.{1,128}$/su,
  canRead: ownerOrStaff((row) => row.ownerId),
};
