/**
 * The shopping-lists page: an owner's lists (the `owner-lists` read model plus the lists this
 * browser made) and one list: its items to check, add and remove, rename and delete, and its
 * history. The same client as the orders: commands queue offline and show at once, the open
 * list is followed live.
 */
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { useSelector } from 'react-redux';
import {
  ApiError,
  type OwnedList,
  type OwnerLists,
  selectConfirmedView,
  selectOnline,
  selectOptimisticView,
  type ShoppingListCommand,
  type ShoppingListView,
} from '../client';
import {
  FieldError,
  GoneNotice,
  History,
  LivePill,
  newId,
  PendingBadge,
  PickItem,
  PickList,
  refusalOf,
  RejectionNotice,
  useKnownIds,
  useLastRejection,
  useOpenView,
  useSend,
  useServerRead,
  useStoredState,
  VersionNote,
} from './common';
import { issueFor } from './demo-state';
import type { DemoStore, RootState } from './store';

const COLLECTION = 'shopping-lists';

const progress = (list: { itemCount: number; checkedCount: number }) =>
  list.itemCount === 0 ? 'empty' : `${list.checkedCount} of ${list.itemCount} checked`;

// ---- the owner's lists -------------------------------------------------------------------

const ListPick = ({
  id,
  summary,
  selected,
  onSelect,
}: {
  id: string;
  /** The list's entry in the owner's read model, if the server has it. */
  summary: OwnedList | undefined;
  selected: boolean;
  onSelect: () => void;
}) => {
  const view = useSelector((s: RootState) => selectOptimisticView<ShoppingListView>(s.client, id));
  const loaded = useSelector((s: RootState) => s.client.confirmed[id] !== undefined);
  const pending = view.pending.length;
  // This browser's view first (it has the pending commands); a deleted list is left out.
  const list = view.view ?? (loaded || pending > 0 ? undefined : summary);
  if (!list && pending === 0) return null;
  return (
    <PickItem
      selected={selected}
      onSelect={onSelect}
      testId="list-item"
      listId={id}
      meta={list ? progress(list) : 'being created'}
      pending={pending}
    >
      <span className="pick-name">{list?.name ?? id}</span>
    </PickItem>
  );
};

export const ShoppingLists = ({
  demo,
  selected,
  onSelect,
}: {
  demo: DemoStore;
  selected: string | undefined;
  onSelect: (id: string) => void;
}) => {
  const send = useSend();
  const [ownerId, setOwnerId] = useStoredState('demo:owner', 'owner-1');
  const [name, setName] = useState('');
  const [known, addKnown] = useKnownIds(demo, COLLECTION, ownerId);
  const online = useSelector((s: RootState) => selectOnline(s.client));
  // The owner's read model (it lags a little behind); no row yet: the owner never had a list.
  const [server, listError] = useServerRead<OwnerLists['lists']>(ownerId, {}, () =>
    demo.api.getReadModel<OwnerLists>('owner-lists', ownerId).then(
      (answer) => answer.row.lists,
      (error: unknown) => {
        if (error instanceof ApiError && error.status === 404) return {};
        throw error;
      },
    ),
  );

  const ids = useMemo(() => [...new Set([...known, ...Object.keys(server)])], [known, server]);

  const create = (event: FormEvent) => {
    event.preventDefault();
    const id = newId('list');
    addKnown(id);
    send({
      type: 'shoppingList/create',
      aggregateId: id,
      payload: { name: name.trim() || 'Groceries', ownerId },
    });
    setName('');
    onSelect(id);
  };

  return (
    <section className="card owner">
      <h2>Owner</h2>
      <label className="field">
        <span>Owner id</span>
        <input
          value={ownerId}
          onChange={(e) => setOwnerId(e.target.value.trim())}
          data-testid="owner"
        />
      </label>
      <form className="row grow-first" onSubmit={create}>
        <input
          placeholder="List name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          aria-label="List name"
          data-testid="new-list-name"
        />
        <button type="submit" className="primary" data-testid="create-list">
          New list
        </button>
      </form>
      <PickList
        noun="lists"
        ids={ids}
        listError={listError}
        online={online}
        item={(id) => (
          <ListPick
            key={id}
            id={id}
            summary={server[id]}
            selected={id === selected}
            onSelect={() => onSelect(id)}
          />
        )}
      />
    </section>
  );
};

// ---- one list ----------------------------------------------------------------------------

/** The list's name, editable: Enter or the button sends a rename. */
const RenameForm = ({
  name,
  issue,
  onRename,
}: {
  name: string;
  /** The last rename's field message, if it was rejected for its name. */
  issue: string | undefined;
  onRename: (name: string) => void;
}) => {
  const [text, setText] = useState(name);
  useEffect(() => setText(name), [name]);
  return (
    <form
      className="row grow-first"
      onSubmit={(e) => {
        e.preventDefault();
        onRename(text);
      }}
    >
      <input
        value={text}
        onChange={(e) => setText(e.target.value)}
        aria-label="Name"
        data-testid="list-name"
      />
      <button type="submit" data-testid="rename-list">
        Rename
      </button>
      <FieldError field="name" message={issue} />
    </form>
  );
};

/** The items of a past version, read-only. */
const PastItems = ({ list }: { list: ShoppingListView }) => (
  <ul className="items">
    {list.items.length === 0 && <li className="hint">No items.</li>}
    {list.items.map((item) => (
      <li
        key={item.itemId}
        className={`item${item.checked ? ' checked' : ''}`}
        data-testid="history-item"
      >
        <span className="item-text">
          {item.checked ? '☑' : '☐'} {item.text}
        </span>
      </li>
    ))}
  </ul>
);

/** A probe of addItem: refused only by the list's state (deleted, full), never the item. */
const ADD_ITEM_PROBE = {
  type: 'shoppingList/addItem',
  payload: { itemId: 'probe-not-an-item', text: ' probe: not an item ' },
} as const;

export const ShoppingList = ({ demo, id }: { demo: DemoStore; id: string }) => {
  const view = useSelector((s: RootState) => selectOptimisticView<ShoppingListView>(s.client, id));
  const confirmed = useSelector((s: RootState) =>
    selectConfirmedView<ShoppingListView>(s.client, id),
  );
  const { live, gone } = useOpenView(demo, COLLECTION, id);
  const rejection = useLastRejection(id);
  const send = useSend();
  const [text, setText] = useState('');
  // What the shared decide accepts on the state shown; a list the server lost takes nothing.
  const refused = (command: ShoppingListCommand) => gone ?? refusalOf(view, id, command);
  const addRefusal = refused(ADD_ITEM_PROBE);
  /** A field's message when the last rejection was this form's command. */
  const issue = (type: ShoppingListCommand['type'], field: string) =>
    rejection?.type === type ? issueFor(rejection, field) : undefined;

  const list = view.view;
  /** An item the server has not confirmed as shown (added or toggled by a pending command). */
  const isPending = (itemId: string, checked: boolean) => {
    const known = confirmed?.items.find((i) => i.itemId === itemId);
    return !known || known.checked !== checked;
  };
  const status = gone
    ? 'gone'
    : list
      ? list.status
      : view.version > 0
        ? 'deleted'
        : view.pending.length > 0
          ? 'pending'
          : 'not found';

  const addItem = (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim()) return;
    send({
      type: 'shoppingList/addItem',
      aggregateId: id,
      payload: { itemId: newId('item'), text: text.trim() },
    });
    setText('');
  };

  return (
    <section className="card shopping-list" data-testid="list" data-list-id={id}>
      <div className="view-head">
        <h2 data-testid="list-title">{list?.name ?? id}</h2>
        <span className={`badge status-${status}`} data-testid="list-status">
          {status}
        </span>
        <LivePill demo={demo} live={live} gone={gone} />
        <VersionNote view={view} />
      </div>
      {gone && <GoneNotice noun="list" reason={gone} />}
      <RejectionNotice rejection={rejection} />
      {list && (
        <fieldset className="plain" disabled={gone !== undefined}>
          <p className="muted list-progress">{progress(list)}</p>
          <ul className="items">
            {list.items.length === 0 && <li className="hint">No items yet.</li>}
            {list.items.map((item) => {
              const pending = isPending(item.itemId, item.checked);
              const refusal = refused({
                type: 'shoppingList/toggleItem',
                payload: { itemId: item.itemId },
              });
              return (
                <li
                  key={item.itemId}
                  className={`item${pending ? ' pending-row' : ''}${item.checked ? ' checked' : ''}`}
                  data-testid="item"
                  data-checked={item.checked}
                >
                  <label>
                    <input
                      type="checkbox"
                      checked={item.checked}
                      disabled={refusal !== undefined}
                      onChange={() =>
                        send({
                          type: 'shoppingList/toggleItem',
                          aggregateId: id,
                          payload: { itemId: item.itemId },
                        })
                      }
                      data-testid="item-check"
                    />
                    <span className="item-text">{item.text}</span>
                  </label>
                  {pending && <PendingBadge />}
                  <button
                    type="button"
                    className="link"
                    disabled={refusal !== undefined}
                    title={refusal}
                    aria-label={`Remove ${item.text}`}
                    onClick={() =>
                      send({
                        type: 'shoppingList/removeItem',
                        aggregateId: id,
                        payload: { itemId: item.itemId },
                      })
                    }
                    data-testid="remove-item"
                  >
                    Remove
                  </button>
                </li>
              );
            })}
          </ul>
          <form className="row grow-first add-item" onSubmit={addItem}>
            <input
              placeholder="Add an item, e.g. milk"
              value={text}
              disabled={addRefusal !== undefined}
              onChange={(e) => setText(e.target.value)}
              aria-label="Item"
              data-testid="item-text"
            />
            <button
              type="submit"
              disabled={addRefusal !== undefined}
              title={addRefusal}
              data-testid="add-item"
            >
              Add item
            </button>
            <FieldError field="text" message={issue('shoppingList/addItem', 'text')} />
          </form>
          <div className="list-actions">
            <RenameForm
              name={list.name}
              issue={issue('shoppingList/rename', 'name')}
              onRename={(name) =>
                send({ type: 'shoppingList/rename', aggregateId: id, payload: { name } })
              }
            />
            <button
              type="button"
              className="danger"
              onClick={() => send({ type: 'shoppingList/delete', aggregateId: id, payload: {} })}
              data-testid="delete-list"
            >
              Delete list
            </button>
          </div>
        </fieldset>
      )}
      {!list && status === 'deleted' && <p className="hint">This list was deleted.</p>}
      {!gone && (
        <History
          demo={demo}
          collection={COLLECTION}
          id={id}
          version={view.confirmedVersion}
          summarize={(state) => {
            const past = state as ShoppingListView;
            return `“${past.name}”, ${past.status === 'deleted' ? 'deleted' : progress(past)}`;
          }}
          renderState={(state) => <PastItems list={state as ShoppingListView} />}
        />
      )}
    </section>
  );
};
