/**
 * What both pages of the demo share: the header (pages, stacks, connection, outbox), the hooks
 * that open one aggregate (load it, follow it live, send it commands), the live pill, the
 * history slider and the list of commands with their state.
 */
import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { useDispatch, useSelector } from 'react-redux';
import {
  type CommandStatus,
  type HistoryAnswer,
  selectCommandStatuses,
  selectIsSender,
  selectIsSubscribed,
  selectLiveConnected,
  selectOnline,
  selectOutboxLength,
  selectSettledCount,
  sendCommand,
  subscribeTo,
  unsubscribeFrom,
} from '../client';
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

/** A value kept in localStorage (the customer or owner id), so a reload keeps it. */
export const useStoredState = (key: string, initial: string) => {
  const [value, setValue] = useState(() => localStorage.getItem(key) ?? initial);
  useEffect(() => localStorage.setItem(key, value), [key, value]);
  return [value, setValue] as const;
};

/** The ids of `collection` this browser knows for `ownerId` (see `knownIds`), and how to add one. */
export const useKnownIds = (demo: DemoStore, collection: string, ownerId: string) => {
  const [known, setKnown] = useState(() => knownIds.read(demo.stack, collection, ownerId));
  useEffect(
    () => setKnown(knownIds.read(demo.stack, collection, ownerId)),
    [demo.stack, collection, ownerId],
  );
  const add = useCallback(
    (id: string) => {
      knownIds.add(demo.stack, collection, ownerId, id);
      setKnown(knownIds.read(demo.stack, collection, ownerId));
    },
    [demo.stack, collection, ownerId],
  );
  return [known, add] as const;
};

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
 * so another window's (or user's) change shows without a reload. Answers whether it is live.
 */
export const useOpenView = (demo: DemoStore, collection: string, id: string) => {
  const dispatch = useDispatch<AppDispatch>();
  useEffect(() => {
    demo.client.loadView(collection, id).catch(() => undefined);
  }, [demo, collection, id]);
  useEffect(() => {
    if (!demo.live) return;
    dispatch(subscribeTo(collection, id));
    return () => void dispatch(unsubscribeFrom(id));
  }, [demo, dispatch, collection, id]);
  // Offline, a socket may not have noticed yet: nothing can come through it.
  return useSelector(
    (s: RootState) =>
      selectOnline(s.client) && selectLiveConnected(s.client) && selectIsSubscribed(s.client, id),
  );
};

export const LivePill = ({ demo, live }: { demo: DemoStore; live: boolean }) =>
  demo.live ? (
    <span
      className={`pill live ${live ? 'ok' : 'off'}`}
      data-testid="live"
      title={live ? 'Changes from elsewhere show at once' : 'Reconnecting for live updates'}
    >
      <span className="dot" /> {live ? 'live' : 'not live'}
    </span>
  ) : null;

/** The version shown, and the confirmed one while commands are pending. */
export const VersionNote = ({
  view,
}: {
  view: { version: number; confirmedVersion: number; pending: readonly unknown[] };
}) => (
  <span className="muted version">
    v{view.version}
    {view.pending.length > 0 && ` (confirmed v${view.confirmedVersion})`}
  </span>
);

export const PendingBadge = () => <span className="badge pending-badge">pending</span>;

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

// ---- header ------------------------------------------------------------------------------

export const Header = ({
  page,
  stack,
  stacks,
}: {
  page: Page;
  stack: StackName;
  stacks: readonly StackName[];
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
      </div>
    </header>
  );
};

// ---- history -----------------------------------------------------------------------------

/** A slider over the confirmed versions of `id`: the state at each, from `/history`. */
export const History = ({
  demo,
  collection,
  id,
  version,
  summarize,
}: {
  demo: DemoStore;
  collection: string;
  id: string;
  version: number;
  /** One line about the state at the chosen version. */
  summarize: (state: HistoryAnswer['state']) => string;
}) => {
  const [at, setAt] = useState<number | undefined>();
  const [past, setPast] = useState<HistoryAnswer | undefined>();
  const [eventTypes, setEventTypes] = useState<Record<number, string>>({});
  const [error, setError] = useState<string | undefined>();
  const online = useSelector((s: RootState) => selectOnline(s.client));
  const shown = at === undefined || at > version ? version : at;

  useEffect(() => {
    setAt(undefined);
    setPast(undefined);
  }, [id]);

  useEffect(() => {
    if (version === 0) return;
    let current = true;
    demo.api.getHistory(collection, id, { version: shown }).then(
      (answer) => current && (setPast(answer), setError(undefined)),
      (e: unknown) => current && setError((e as Error).message),
    );
    demo.api.getEvents(collection, id, { limit: 100 }).then(
      (page) =>
        current && setEventTypes(Object.fromEntries(page.events.map((e) => [e.version, e.type]))),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [demo, collection, id, shown, version]);

  if (version === 0) return null;
  return (
    <div className="history">
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
        Version <b>{shown}</b> of {version}
        {eventTypes[shown] && <code>{eventTypes[shown]}</code>}
        {past?.state && ` · ${summarize(past.state)}`}
        {error && (
          <span className="error"> · {online ? error : 'history needs the server (offline)'}</span>
        )}
      </p>
    </div>
  );
};

// ---- commands ----------------------------------------------------------------------------

const describe = (status: CommandStatus) => {
  switch (status.state) {
    case 'pending':
      return status.attempts > 0
        ? `pending · ${status.attempts} tries · ${status.lastError ?? ''}`
        : 'pending';
    case 'confirmed':
      return `confirmed · v${status.version}${status.replayed ? ' (replayed)' : ''}`;
    case 'rejected':
      return `rejected · ${status.status} ${status.code}: ${status.message}`;
  }
};

/** The last commands whose type starts with `prefix` (`order/`), each with its state. */
export const Commands = ({ prefix }: { prefix: string }) => {
  const commands = useSelector((s: RootState) => selectCommandStatuses(s.client));
  const entries = commands
    .filter(([, status]) => status.type.startsWith(prefix))
    .reverse()
    .slice(0, 30);
  return (
    <section className="card commands">
      <h2>Commands</h2>
      {entries.length === 0 && (
        <p className="hint">Each change you make is a command; it shows up here.</p>
      )}
      <ol className="command-list">
        {entries.map(([commandId, status]) => (
          <li
            key={commandId}
            className={`command ${status.state}`}
            data-testid="command"
            data-state={status.state}
            data-command-id={commandId}
            data-type={status.type}
          >
            <span className="command-type">{status.type}</span>
            <span className="command-target muted">{status.aggregateId}</span>
            <span className="command-state">{describe(status)}</span>
          </li>
        ))}
      </ol>
    </section>
  );
};
