/**
 * What both pages of the demo share: the header (pages, stacks, who is signed in, connection,
 * outbox), the hooks
 * that open one aggregate (load it, follow it live, send it commands, what its rules allow),
 * the live pill, the last rejection, the history slider and the activity list.
 */
import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { useDispatch, useSelector, useStore } from 'react-redux';
import {
  ApiError,
  type DeploymentCommand,
  type HistoryAnswer,
  type OptimisticView,
  predictRejection,
  type Principal,
  selectIsSender,
  selectIsSubscribed,
  selectLiveConnected,
  selectOnline,
  selectOutboxLength,
  selectPrincipal,
  selectSettledCount,
  sendCommand,
  subscribeTo,
  unsubscribeFrom,
} from '../client';
import type { StoredEvent } from '../lambdas/core/events/events';
import { type ActivityEntry, aggregateGone, issueFor, lastRejection } from './demo-state';
import { actorLabel, describeOutcome, historyStateLabel } from './labels';
import {
  type AppDispatch,
  type DemoStore,
  knownIds,
  type RootState,
  type StackName,
} from './store';

export const newId = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export type Page = 'orders' | 'lists';

export const PAGES: readonly { readonly page: Page; readonly title: string }[] = [
  { page: 'orders', title: 'Orders' },
  { page: 'lists', title: 'Shopping lists' },
];

/** The ids of `collection` this browser knows for its user (see `knownIds`), and how to add one. */
export const useKnownIds = (demo: DemoStore, collection: string) => {
  const [known, setKnown] = useState(() => knownIds.read(demo, collection));
  useEffect(() => setKnown(knownIds.read(demo, collection)), [demo, collection]);
  const add = useCallback(
    (id: string) => {
      knownIds.add(demo, collection, id);
      setKnown(knownIds.read(demo, collection));
    },
    [demo, collection],
  );
  return [known, add] as const;
};

/** Who is signed in, as the token says (what the page offers; the server decides). */
export const usePrincipal = (): Principal | null =>
  useSelector((s: RootState) => selectPrincipal(s.client));

/** Support and admins list every order by status; a customer lists their own. */
export const isStaff = (principal: Principal | null) =>
  principal !== null && principal.roles.length > 0;

/** How many commands have settled: a list read from the server is refreshed when it changes. */
export const useSettledCount = () => useSelector((s: RootState) => selectSettledCount(s.client));

/** Dispatches a command; its state shows in `Commands`, its effect at once in the views. */
export const useSend = () => {
  const dispatch = useDispatch<AppDispatch>();
  return useCallback(
    (command: Parameters<typeof sendCommand>[0]) => void dispatch(sendCommand(command)),
    [dispatch],
  );
};

/**
 * The open aggregate: loaded from the server (kept from localStorage offline) and followed live,
 * so another window's (or user's) change shows without a reload. Answers whether it is live, and
 * why it is gone when the server no longer has it.
 */
export const useOpenView = (demo: DemoStore, collection: string, id: string) => {
  const dispatch = useDispatch<AppDispatch>();
  const store = useStore<RootState>();
  useEffect(() => {
    demo.client.loadView(collection, id).catch(async (error: unknown) => {
      // A 404 is expected before a pending create and after a delete; for a view this browser
      // shows as existing it means the server lost it (e.g. `npm start` restarted in memory).
      // Its events (read from the event table, strongly) tell a lagging view from a loss.
      if (!(error instanceof ApiError && error.status === 404)) return;
      if (!store.getState().client.confirmed[id]?.view) return;
      const events = await demo.api.getEvents(collection, id, { limit: 1 }).then(
        (page) => page.events.length,
        (e: unknown) => (e instanceof ApiError && e.status === 404 ? 0 : undefined),
      );
      if (events === 0) dispatch(aggregateGone(id, 'it has no events any more'));
    });
  }, [demo, store, dispatch, collection, id]);
  useEffect(() => {
    if (!demo.live) return;
    dispatch(subscribeTo(collection, id));
    return () => void dispatch(unsubscribeFrom(id));
  }, [demo, dispatch, collection, id]);
  const gone = useSelector((s: RootState) => s.demo.gone[id]);
  // Offline, a socket may not have noticed yet: nothing can come through it.
  const live = useSelector(
    (s: RootState) =>
      selectOnline(s.client) && selectLiveConnected(s.client) && selectIsSubscribed(s.client, id),
  );
  return { live: live && gone === undefined, gone };
};

/**
 * Why the server would refuse `command` on the optimistic state (the rule's message: who may,
 * from the aggregate's `authorize`, or what, from its `decide`), or `undefined` when it would
 * accept it: a control is enabled only if its command could apply.
 */
export const refusalOf = (
  view: OptimisticView,
  aggregateId: string,
  command: DeploymentCommand,
  principal: Principal | null,
): string | undefined => predictRejection(view, aggregateId, command, principal)?.message;

export const LivePill = ({
  demo,
  live,
  gone,
}: {
  demo: DemoStore;
  live: boolean;
  gone?: string | undefined;
}) =>
  demo.live ? (
    <span
      className={`pill live ${live ? 'ok' : 'off'}`}
      data-testid="live"
      title={
        gone ??
        (live ? 'Changes from elsewhere show at once' : 'Offline or reconnecting: not followed')
      }
    >
      <span className="dot" /> {gone ? 'gone' : live ? 'live' : 'not live'}
    </span>
  ) : null;

/** The server lost the open aggregate: said where the view is. */
export const GoneNotice = ({ noun, reason }: { noun: string; reason: string }) => (
  <p className="notice bad" role="alert" data-testid="gone">
    The server no longer has this {noun} ({reason}). It may have restarted without its data; what is
    shown is this browser&apos;s last copy, read-only.
  </p>
);

/**
 * The last answer for this aggregate, when it was a rejection: on top of the view, where it is
 * seen without scrolling, with each invalid field's message (`details.issues`).
 */
export const RejectionNotice = ({ rejection }: { rejection: ActivityEntry | undefined }) => {
  const [dismissed, setDismissed] = useState<string | undefined>();
  if (!rejection || dismissed === rejection.commandId) return null;
  return (
    <div className="notice bad" role="alert" data-testid="rejection">
      <div className="notice-text">
        <b>{rejection.type}</b> refused: {rejection.message}
        {rejection.issues && rejection.issues.length > 0 && (
          <ul className="issues">
            {rejection.issues.map((issue) => (
              <li key={issue.path}>
                <code>{issue.path.replace(/^payload\./, '')}</code> {issue.message}
              </li>
            ))}
          </ul>
        )}
      </div>
      <button
        type="button"
        className="link"
        onClick={() => setDismissed(rejection.commandId)}
        aria-label="Dismiss"
      >
        ×
      </button>
    </div>
  );
};

/** The last rejection of `aggregateId` (its notice, and the forms' field messages). */
export const useLastRejection = (aggregateId: string) =>
  useSelector((s: RootState) => lastRejection(s.demo.activity, aggregateId));

/**
 * The field messages of the last rejection (`useLastRejection`): a field's message (`issue`)
 * shows until that field is edited (`edited`), after which it no longer says what the field
 * holds. Keyed by the command type too: two forms may share a field name.
 */
export const useFieldIssues = (rejection: ActivityEntry | undefined) => {
  const [editedAfter, setEditedAfter] = useState<Readonly<Record<string, string>>>({});
  const key = (type: string, field: string) => `${type} ${field}`;
  return {
    issue: (type: string, field: string): string | undefined =>
      rejection?.type === type && editedAfter[key(type, field)] !== rejection.commandId
        ? issueFor(rejection, field)
        : undefined,
    edited: (type: string, field: string) => {
      if (!rejection) return;
      setEditedAfter((before) =>
        before[key(type, field)] === rejection.commandId
          ? before
          : { ...before, [key(type, field)]: rejection.commandId },
      );
    },
  };
};

/** A field's message from the last rejection (`useFieldIssues`), under the field. */
export const FieldError = ({ field, message }: { field: string; message: string | undefined }) =>
  message ? (
    <span className="field-error" role="alert" data-testid={`field-error-${field}`}>
      {message}
    </span>
  ) : null;

/** The version shown, and the server's while commands are pending. */
export const VersionNote = ({
  view,
}: {
  view: { version: number; confirmedVersion: number; pending: readonly unknown[] };
}) => (
  <span className="muted version">
    v{view.version}
    {view.pending.length > 0 && ` (server has v${view.confirmedVersion})`}
  </span>
);

export const PendingBadge = () => <span className="badge pending-badge">pending</span>;

/**
 * What `read` answers from the server (a page's list of its aggregates), read again whenever a
 * command settles, since such a list lags the commands a little, and whenever `key` changes.
 * An answer that comes back after `key` changed is dropped. `error` is why the last read failed.
 */
export const useServerRead = <T,>(key: string, initial: T, read: () => Promise<T>) => {
  const [value, setValue] = useState<T>(initial);
  const [error, setError] = useState<string | undefined>();
  const settled = useSettledCount();
  useEffect(() => {
    if (!key) return;
    let current = true;
    read().then(
      (answer) => {
        if (!current) return;
        setValue(answer);
        setError(undefined);
      },
      (failure: unknown) => current && setError(String((failure as Error).message ?? failure)),
    );
    return () => {
      current = false;
    };
    // `read` is a new function on every render; what it reads is named by `key`.
  }, [key, settled]);
  return [value, error] as const;
};

/**
 * A page's pick list: the ids this browser knows (each drawn by `item`), with why the server's
 * list is missing (an error, or offline) when it is.
 */
export const PickList = ({
  noun,
  ids,
  listError,
  online,
  item,
}: {
  /** Plural, e.g. `orders`. */
  readonly noun: string;
  readonly ids: readonly string[];
  readonly listError: string | undefined;
  readonly online: boolean;
  readonly item: (id: string) => ReactNode;
}) => (
  <>
    {listError && (
      <p className="hint">
        {online
          ? `The ${noun} are unavailable: ${listError}`
          : `Offline: the ${noun} this browser knows.`}
      </p>
    )}
    <ul className="pick-list">
      {ids.length === 0 && <li className="hint">No {noun} yet.</li>}
      {ids.map(item)}
    </ul>
  </>
);

/** One entry of a pick list: what it is (`children`), a line about it, its pending commands. */
export const PickItem = ({
  selected,
  onSelect,
  testId,
  listId,
  meta,
  pending,
  children,
}: {
  readonly selected: boolean;
  readonly onSelect: () => void;
  readonly testId: string;
  /** Set as `data-list-id`, for tests that pick an entry by its id. */
  readonly listId?: string;
  readonly meta: ReactNode;
  readonly pending: number;
  readonly children: ReactNode;
}) => (
  <li>
    <button
      type="button"
      className={`pick-item${selected ? ' selected' : ''}`}
      onClick={onSelect}
      data-testid={testId}
      data-list-id={listId}
    >
      {children}
      <span className="pick-meta">
        {meta}
        {pending > 0 && <span className="pending-mark"> · {pending} pending</span>}
      </span>
    </button>
  </li>
);

// ---- header ------------------------------------------------------------------------------

/** Who is signed in, and the way out (their outbox and saved views leave this browser). */
const SignedInAs = ({ onSignOut }: { onSignOut: () => Promise<void> }) => {
  const principal = usePrincipal();
  const [signingOut, setSigningOut] = useState(false);
  if (!principal) return null;
  const roles = principal.roles.length === 0 ? 'customer' : principal.roles.join(', ');
  return (
    <span className="who">
      <span
        className="pill user"
        data-testid="signed-in-as"
        title={`Signed in as ${principal.subject} (${roles})`}
      >
        <b data-testid="signed-in-user">{principal.subject}</b>
        {/* Locally the staff users are named after their role: once is enough. */}
        {roles !== principal.subject && <span className="muted">{roles}</span>}
      </span>
      <button
        type="button"
        className="sign-out"
        disabled={signingOut}
        onClick={() => {
          setSigningOut(true);
          void onSignOut();
        }}
        data-testid="sign-out"
      >
        Sign out
      </button>
    </span>
  );
};

export const Header = ({
  page,
  stack,
  stacks,
  onSignOut,
}: {
  page: Page;
  stack: StackName;
  stacks: readonly StackName[];
  onSignOut: () => Promise<void>;
}) => {
  const online = useSelector((s: RootState) => selectOnline(s.client));
  const outbox = useSelector((s: RootState) => selectOutboxLength(s.client));
  const sender = useSelector((s: RootState) => selectIsSender(s.client));
  return (
    <header className="header">
      <h1>
        Redux client <span className="muted">demo</span>
      </h1>
      <nav className="switch tabs" aria-label="Page">
        {PAGES.map(({ page: p, title }) => (
          <a
            key={p}
            href={`#${p}`}
            className={p === page ? 'active' : undefined}
            aria-current={p === page ? 'page' : undefined}
            data-testid={`page-${p}`}
          >
            {title}
          </a>
        ))}
      </nav>
      <nav className="switch" aria-label="Stack">
        {stacks.map((s) => (
          <a
            key={s}
            href={`?stack=${s}#${page}`}
            className={s === stack ? 'active' : undefined}
            aria-current={s === stack ? 'page' : undefined}
            data-testid={`stack-${s}`}
          >
            {s}
          </a>
        ))}
      </nav>
      <div className="status">
        <span className={`pill ${online ? 'ok' : 'off'}`} data-testid="online">
          <span className="dot" /> {online ? 'Online' : 'Offline'}
        </span>
        <span className="pill" data-testid="outbox">
          Outbox <b data-testid="outbox-length">{outbox}</b>
        </span>
        <span className="pill muted" title="Only one tab sends; the others show the same outbox">
          {sender ? 'this tab sends' : 'another tab sends'}
        </span>
        <SignedInAs onSignOut={onSignOut} />
      </div>
    </header>
  );
};

// ---- history -----------------------------------------------------------------------------

/** Reads events until the one at `version` (a page at a time, a few pages at most). */
const eventAt = async (
  demo: DemoStore,
  collection: string,
  id: string,
  version: number,
): Promise<StoredEvent | undefined> => {
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const answer = await demo.api.getEvents(collection, id, {
      limit: 100,
      ...(cursor && { cursor }),
    });
    const found = answer.events.find((e) => e.version === version);
    if (found || !answer.nextCursor) return found;
    cursor = answer.nextCursor;
  }
  return undefined;
};

/**
 * `/history`'s answer; `actor` (who made that version) is in the JSON, not yet in the client's
 * `HistoryAnswer` type.
 */
type HistoryWithActor = HistoryAnswer & { readonly actor?: string };

/**
 * A slider over the versions of `id` the server has acknowledged: the state at the chosen one
 * (`/history`), drawn read-only, who made it (its `actor`) and the event that made it (`/events`).
 */
export const History = ({
  demo,
  collection,
  id,
  version,
  summarize,
  renderState,
}: {
  demo: DemoStore;
  collection: string;
  id: string;
  version: number;
  /** One line about the state at the chosen version. */
  summarize: (state: HistoryAnswer['state']) => string;
  /** The state at the chosen version, read-only. */
  renderState: (state: HistoryAnswer['state']) => ReactNode;
}) => {
  const [at, setAt] = useState<number | undefined>();
  const [past, setPast] = useState<HistoryWithActor | undefined>();
  const [event, setEvent] = useState<StoredEvent | undefined>();
  const [error, setError] = useState<string | undefined>();
  const online = useSelector((s: RootState) => selectOnline(s.client));
  const shown = at === undefined || at > version ? version : at;

  useEffect(() => {
    setAt(undefined);
    setPast(undefined);
    setEvent(undefined);
  }, [id]);

  useEffect(() => {
    if (version === 0) return;
    let current = true;
    demo.api.getHistory(collection, id, { version: shown }).then(
      (answer) => current && (setPast(answer), setError(undefined)),
      (e: unknown) => current && setError((e as Error).message),
    );
    eventAt(demo, collection, id, shown).then(
      (found) => current && setEvent(found),
      () => current && setEvent(undefined),
    );
    return () => {
      current = false;
    };
  }, [demo, collection, id, shown, version]);

  if (version === 0) return null;
  // Until the answer for the chosen version is in, nothing older is passed off as it.
  const state = past?.version === shown ? past.state : undefined;
  const actor = past?.version === shown ? past.actor : undefined;
  const made = event?.version === shown ? event : undefined;
  const payload = made && JSON.stringify(made.payload);
  return (
    <div className="history" data-testid="history">
      <h3>
        History <span className="muted">time travel through /history</span>
      </h3>
      <input
        type="range"
        min={1}
        max={version}
        value={shown}
        onChange={(e) => setAt(Number(e.target.value))}
        aria-label="Version"
        data-testid="history-slider"
      />
      <p className="history-caption" data-testid="history-caption">
        {/* The event's type is on the line below, after who made it. */}
        Version <b>{shown}</b> of {version}
        {state && ` · ${summarize(state)}`}
        {error && (
          <span className="error"> · {online ? error : 'history needs the server (offline)'}</span>
        )}
      </p>
      {made && (
        <p className="history-event muted" data-testid="history-event">
          {/* Events stored before users have no actor: no "by" rather than a guess. */}
          {actor && (
            <>
              made by{' '}
              <b className="history-actor" title={actor} data-testid="history-actor">
                {actorLabel(actor)}
              </b>{' '}
              ·{' '}
            </>
          )}
          <code>{made.type}</code> at {new Date(made.occurredAt).toLocaleString()}
          {payload !== '{}' && <code className="payload">{payload}</code>}
        </p>
      )}
      {state && (
        <div className="history-state" data-testid="history-state" data-version={shown}>
          <p className="muted history-label">{historyStateLabel(shown, version)}</p>
          {renderState(state)}
        </div>
      )}
    </div>
  );
};

// ---- activity ----------------------------------------------------------------------------

/**
 * The last commands whose type starts with `prefix` (`order/`), each with its state: the
 * activity this browser keeps (web/demo-state.ts), so a reload keeps it too.
 */
export const Commands = ({ prefix }: { prefix: string }) => {
  const activity = useSelector((s: RootState) => s.demo.activity);
  const entries = activity.filter((entry) => entry.type.startsWith(prefix)).slice(0, 30);
  return (
    <section className="card commands">
      <h2>Activity</h2>
      {entries.length === 0 && (
        <p className="hint">Each change you make is a command; it shows up here.</p>
      )}
      <ol className="command-list">
        {entries.map((entry) => (
          <li
            key={entry.commandId}
            className={`command ${entry.state}`}
            data-testid="command"
            data-state={entry.state}
            data-command-id={entry.commandId}
            data-type={entry.type}
          >
            <span className="command-type">{entry.type}</span>
            <span className="command-target muted">{entry.aggregateId}</span>
            <span className="command-state">{describeOutcome(entry)}</span>
          </li>
        ))}
      </ol>
    </section>
  );
};
