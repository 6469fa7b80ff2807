/**
 * The shopping-lists page: the signed-in user's lists (`GET /shopping-lists?ownerId=<me>` plus
 * the lists this browser made) and one list: its items to check, add and remove, rename, share
 * with another user and delete, and its history. The same client as the orders: commands queue
 * offline and show at once, the open list is followed live, and each control is on only if the
 * list's rules allow it for the signed-in user.
 */
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { useDispatch, useSelector } from 'react-redux';
import {
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
  useFieldIssues,
  useLastRejection,
  useOpenView,
  usePrincipal,
  useSend,
  useServerRead,
  VersionNote,
} from './common';
import { type AppDispatch, type DemoStore, loaded, type RootState } from './store';

const COLLECTION = 'shopping-lists';

const progress = (list: { itemCount: number; checkedCount: number }) =>
  list.itemCount === 0 ? 'empty' : `${list.checkedCount} of ${list.itemCount} checked`;

// ---- the owner's lists -------------------------------------------------------------------

const ListPick = ({
  id,
  selected,
  onSelect,
}: {
  id: string;
  selected: boolean;
  onSelect: () => void;
}) => {
  const view = useSelector((s: RootState) => selectOptimisticView<ShoppingListView>(s.client, id));
  const pending = view.pending.length;
  // The view with its pending commands (the server's list loads it); a deleted list is left out.
  const list = view.view;
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
  const dispatch = useDispatch<AppDispatch>();
  const send = useSend();
  const principal = usePrincipal();
  const me = principal?.subject ?? demo.user;
  const [name, setName] = useState('');
  const [known, addKnown] = useKnownIds(demo, COLLECTION);
  const online = useSelector((s: RootState) => selectOnline(s.client));
  // The user's lists from the server (the decoupled list lags a little behind).
  const [serverIds, listError] = useServerRead(me, [] as string[], async () => {
    const page = await demo.api.listViews<ShoppingListView>(COLLECTION, { ownerId: me, limit: 50 });
    for (const list of page.items) dispatch(loaded(list));
    return page.items.map((l) => l.id);
  });

  const ids = useMemo(() => [...new Set([...known, ...serverIds])], [known, serverIds]);

  const create = (event: FormEvent) => {
    event.preventDefault();
    const id = newId('list');
    addKnown(id);
    // No ownerId: the list is the signed-in user's (the server reads it from the token).
    send({
      type: 'shoppingList/create',
      aggregateId: id,
      payload: { name: name.trim() || 'Groceries' },
    });
    setName('');
    onSelect(id);
  };

  return (
    <section className="card owner">
      <h2>My lists</h2>
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
          <ListPick key={id} id={id} selected={id === selected} onSelect={() => onSelect(id)} />
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
  onEdit,
  refusal,
  onRename,
}: {
  name: string;
  /** The last rename's field message, if it was rejected for its name. */
  issue: string | undefined;
  /** The name was edited: its message no longer applies. */
  onEdit: () => void;
  /** Why a rename would be refused for the signed-in user (only the owner renames). */
  refusal: string | undefined;
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
        disabled={refusal !== undefined}
        title={refusal}
        onChange={(e) => {
          setText(e.target.value);
          onEdit();
        }}
        aria-label="Name"
        data-testid="list-name"
      />
      <button
        type="submit"
        disabled={refusal !== undefined}
        title={refusal}
        data-testid="rename-list"
      >
        Rename
      </button>
      <FieldError field="name" message={issue} />
    </form>
  );
};

/**
 * Who else may use the list: the users it is shared with (each removable) and a form to share
 * it with one more. Only the owner may (the rules say so for anyone else: the controls are off).
 */
const Sharing = ({
  sharedWith,
  refusal,
  issue,
  onEdit,
  onShare,
  onUnshare,
}: {
  sharedWith: readonly string[];
  /** Why sharing would be refused for the signed-in user, if it would. */
  refusal: string | undefined;
  issue: string | undefined;
  /** The user field was edited: its message no longer applies. */
  onEdit: () => void;
  onShare: (userId: string) => void;
  onUnshare: (userId: string) => void;
}) => {
  const [userId, setUserId] = useState('');
  return (
    <div className="sharing" data-testid="sharing">
      <p className="muted sharing-with">
        {sharedWith.length === 0 ? 'Not shared.' : 'Shared with '}
        {sharedWith.map((user) => (
          <span key={user} className="badge shared-user" data-testid="shared-user">
            {user}
            <button
              type="button"
              className="link"
              disabled={refusal !== undefined}
              title={refusal}
              aria-label={`Stop sharing with ${user}`}
              onClick={() => onUnshare(user)}
            >
              ×
            </button>
          </span>
        ))}
      </p>
      <form
        className="row grow-first"
        onSubmit={(e) => {
          e.preventDefault();
          if (!userId.trim()) return;
          onShare(userId.trim());
          setUserId('');
        }}
      >
        <input
          placeholder="Share with (a user, e.g. bob)"
          value={userId}
          disabled={refusal !== undefined}
          title={refusal}
          onChange={(e) => {
            setUserId(e.target.value);
            onEdit();
          }}
          aria-label="Share with"
          data-testid="share-with"
        />
        <button type="submit" disabled={refusal !== undefined} title={refusal} data-testid="share">
          Share
        </button>
        <FieldError field="userId" message={issue} />
      </form>
    </div>
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

/** A probe of share: refused by who asks (only the owner shares) or the list's state, never the user. */
const SHARE_PROBE = 'probe-not-a-user';

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
  const principal = usePrincipal();
  const [text, setText] = useState('');
  // What the list's rules (who may) and decide (what) accept on the state shown, for the
  // signed-in user; a list the server lost takes nothing.
  const refused = (command: ShoppingListCommand) => gone ?? refusalOf(view, id, command, principal);
  const addRefusal = refused(ADD_ITEM_PROBE);
  const deleteRefusal = refused({ type: 'shoppingList/delete', payload: {} });
  /** A field's message when the last rejection was this form's command. */
  const fieldIssues = useFieldIssues(rejection);
  const issue = (type: ShoppingListCommand['type'], field: string) =>
    fieldIssues.issue(type, field);

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
              onChange={(e) => {
                setText(e.target.value);
                fieldIssues.edited('shoppingList/addItem', 'text');
              }}
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
          <Sharing
            sharedWith={list.sharedWith ?? []}
            refusal={refused({ type: 'shoppingList/share', payload: { userId: SHARE_PROBE } })}
            issue={issue('shoppingList/share', 'userId')}
            onEdit={() => fieldIssues.edited('shoppingList/share', 'userId')}
            onShare={(userId) =>
              send({ type: 'shoppingList/share', aggregateId: id, payload: { userId } })
            }
            onUnshare={(userId) =>
              send({ type: 'shoppingList/unshare', aggregateId: id, payload: { userId } })
            }
          />
          <div className="list-actions">
            <RenameForm
              name={list.name}
              issue={issue('shoppingList/rename', 'name')}
              onEdit={() => fieldIssues.edited('shoppingList/rename', 'name')}
              refusal={refused({
                type: 'shoppingList/rename',
                payload: { name: 'probe: not a name' },
              })}
              onRename={(name) =>
                send({ type: 'shoppingList/rename', aggregateId: id, payload: { name } })
              }
            />
            <button
              type="button"
              className="danger"
              disabled={deleteRefusal !== undefined}
              title={deleteRefusal}
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
