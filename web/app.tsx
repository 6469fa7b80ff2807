/**
 * The demo app: a customer's orders, one order's lines and commands, each command's state
 * (pending, confirmed or rejected with the rule's message), the connection and the outbox,
 * and the order's history as a slider over its versions. Every change is a dispatched command;
 * what is shown is the client's optimistic view (confirmed state + pending commands).
 */
import { type FormEvent, useCallback, useEffect, useMemo, useState } from 'react';
import { useDispatch, useSelector } from 'react-redux';
import {
  type CommandStatus,
  type HistoryAnswer,
  type OrderView,
  selectConfirmedView,
  selectIsSender,
  selectIsSubscribed,
  selectLiveConnected,
  selectOnline,
  selectOptimisticView,
  selectOutboxLength,
  sendCommand,
  subscribeTo,
  unsubscribeFrom,
} from '../client';
import {
  type AppDispatch,
  type DemoStore,
  knownOrders,
  loaded,
  type RootState,
  type StackName,
} from './store';

const newId = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

const money = (minor: number, currency: string) =>
  `${(minor / 100).toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;

const CUSTOMER_KEY = 'demo:customer';

// ---- header ------------------------------------------------------------------------------

const Header = ({ stack, stacks }: { stack: StackName; stacks: readonly StackName[] }) => {
  const online = useSelector((s: RootState) => selectOnline(s.client));
  const outbox = useSelector((s: RootState) => selectOutboxLength(s.client));
  const sender = useSelector((s: RootState) => selectIsSender(s.client));
  return (
    <header className="header">
      <h1>
        Orders <span className="muted">· Redux client demo</span>
      </h1>
      <nav className="switch" aria-label="Stack">
        {stacks.map((s) => (
          <a
            key={s}
            href={`?stack=${s}`}
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

// ---- the customer's orders ---------------------------------------------------------------

const OrderListItem = ({
  id,
  selected,
  onSelect,
}: {
  id: string;
  selected: boolean;
  onSelect: () => void;
}) => {
  const view = useSelector((s: RootState) => selectOptimisticView<OrderView>(s.client, id));
  const order = view.view;
  const pending = view.pending.length;
  return (
    <li>
      <button
        type="button"
        className={`order-item${selected ? ' selected' : ''}`}
        onClick={onSelect}
        data-testid="order-item"
      >
        <span className="order-id">{id}</span>
        <span className={`badge status-${order?.status ?? 'unknown'}`}>
          {order?.status ?? 'not loaded'}
        </span>
        <span className="order-meta">
          {order ? `${order.lineCount} lines · ${money(order.total, order.currency)}` : ''}
          {pending > 0 && <span className="pending-mark"> · {pending} pending</span>}
        </span>
      </button>
    </li>
  );
};

const Orders = ({
  demo,
  selected,
  onSelect,
}: {
  demo: DemoStore;
  selected: string | undefined;
  onSelect: (id: string) => void;
}) => {
  const dispatch = useDispatch<AppDispatch>();
  const [customerId, setCustomerId] = useState(
    () => localStorage.getItem(CUSTOMER_KEY) ?? 'customer-1',
  );
  const [currency, setCurrency] = useState('EUR');
  const [serverIds, setServerIds] = useState<string[]>([]);
  const [listError, setListError] = useState<string | undefined>();
  const [known, setKnown] = useState(() => knownOrders.read(demo.stack, customerId));
  const online = useSelector((s: RootState) => selectOnline(s.client));
  const confirmedCount = useSelector(
    (s: RootState) => Object.values(s.client.commands).filter((c) => c.state !== 'pending').length,
  );

  useEffect(() => {
    localStorage.setItem(CUSTOMER_KEY, customerId);
    setKnown(knownOrders.read(demo.stack, customerId));
  }, [customerId, demo.stack]);

  // The server's list, refreshed whenever a command settles (the decoupled list may lag a bit).
  useEffect(() => {
    if (!customerId) return;
    let current = true;
    demo.api.listOrders({ customerId, limit: 50 }).then(
      (page) => {
        if (!current) return;
        for (const order of page.items) dispatch(loaded(order));
        setServerIds(page.items.map((o) => o.id));
        setListError(undefined);
      },
      (error: unknown) => current && setListError(String((error as Error).message ?? error)),
    );
    return () => {
      current = false;
    };
  }, [customerId, confirmedCount, demo, dispatch]);

  const ids = useMemo(() => [...new Set([...known, ...serverIds])], [known, serverIds]);

  const create = (event: FormEvent) => {
    event.preventDefault();
    const id = newId('order');
    knownOrders.add(demo.stack, customerId, id);
    setKnown(knownOrders.read(demo.stack, customerId));
    void dispatch(
      sendCommand({ type: 'order/create', aggregateId: id, payload: { customerId, currency } }),
    );
    onSelect(id);
  };

  return (
    <section className="card orders">
      <h2>Customer</h2>
      <label className="field">
        <span>Customer id</span>
        <input
          value={customerId}
          onChange={(e) => setCustomerId(e.target.value.trim())}
          data-testid="customer"
        />
      </label>
      <form className="row" onSubmit={create}>
        <select
          value={currency}
          onChange={(e) => setCurrency(e.target.value)}
          aria-label="Currency"
        >
          {['EUR', 'USD', 'GBP', 'CHF'].map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
        <button type="submit" className="primary" data-testid="create-order">
          New order
        </button>
      </form>
      {listError && (
        <p className="hint">
          {online
            ? `The list is unavailable: ${listError}`
            : 'Offline: the orders this browser knows.'}
        </p>
      )}
      <ul className="order-list">
        {ids.length === 0 && <li className="hint">No orders yet.</li>}
        {ids.map((id) => (
          <OrderListItem
            key={id}
            id={id}
            selected={id === selected}
            onSelect={() => onSelect(id)}
          />
        ))}
      </ul>
    </section>
  );
};

// ---- one order ---------------------------------------------------------------------------

const QuantityInput = ({ value, onChange }: { value: number; onChange: (q: number) => void }) => {
  const [text, setText] = useState(String(value));
  useEffect(() => setText(String(value)), [value]);
  const commit = () => {
    const quantity = Number(text);
    if (Number.isInteger(quantity) && quantity !== value) onChange(quantity);
    else setText(String(value));
  };
  return (
    <input
      className="qty"
      type="number"
      value={text}
      onChange={(e) => setText(e.target.value)}
      onBlur={commit}
      onKeyDown={(e) => e.key === 'Enter' && commit()}
      aria-label="Quantity"
    />
  );
};

const History = ({ demo, id, version }: { demo: DemoStore; id: string; version: number }) => {
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
    demo.api.getHistory('orders', id, { version: shown }).then(
      (answer) => current && (setPast(answer), setError(undefined)),
      (e: unknown) => current && setError((e as Error).message),
    );
    demo.api.getEvents('orders', id, { limit: 100 }).then(
      (page) =>
        current && setEventTypes(Object.fromEntries(page.events.map((e) => [e.version, e.type]))),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [demo, id, shown, version]);

  if (version === 0) return null;
  const pastOrder = past?.state as OrderView | undefined;
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
        {past &&
          ` · ${pastOrder!.status}, ${pastOrder!.lineCount} lines, ${money(pastOrder!.total, pastOrder!.currency)}`}
        {error && (
          <span className="error"> · {online ? error : 'history needs the server (offline)'}</span>
        )}
      </p>
    </div>
  );
};

const Order = ({ demo, id }: { demo: DemoStore; id: string }) => {
  const dispatch = useDispatch<AppDispatch>();
  const view = useSelector((s: RootState) => selectOptimisticView<OrderView>(s.client, id));
  const confirmed = useSelector((s: RootState) => selectConfirmedView<OrderView>(s.client, id));
  /** A line the server has not confirmed yet (added or changed by a pending command). */
  const isPending = (lineId: string, quantity: number) => {
    const known = confirmed?.lines.find((l) => l.lineId === lineId);
    return !known || known.quantity !== quantity;
  };
  const [sku, setSku] = useState('');
  const [quantity, setQuantity] = useState('1');
  const [price, setPrice] = useState('9.90');
  const [reason, setReason] = useState('');

  useEffect(() => {
    demo.client.loadView('orders', id).catch(() => undefined);
  }, [demo, id]);

  // The open order is followed: another window's (or user's) change shows without a reload.
  const live = useSelector(
    (s: RootState) => selectLiveConnected(s.client) && selectIsSubscribed(s.client, id),
  );
  useEffect(() => {
    if (!demo.live) return;
    dispatch(subscribeTo('orders', id));
    return () => void dispatch(unsubscribeFrom(id));
  }, [demo, dispatch, id]);

  const send = useCallback(
    (command: Parameters<typeof sendCommand>[0]) => void dispatch(sendCommand(command)),
    [dispatch],
  );

  const order: OrderView | null = view.view;
  const addLine = (event: FormEvent) => {
    event.preventDefault();
    send({
      type: 'order/addLine',
      aggregateId: id,
      payload: {
        lineId: newId('line'),
        sku: sku.trim() || 'SKU-1',
        quantity: Number(quantity),
        unitPrice: Math.round(Number(price) * 100),
      },
    });
    setSku('');
  };

  return (
    <section className="card order" data-testid="order">
      <div className="order-head">
        <h2>{id}</h2>
        <span className={`badge status-${order?.status ?? 'unknown'}`} data-testid="order-status">
          {order?.status ?? (view.pending.length > 0 ? 'pending' : 'not found')}
        </span>
        {demo.live && (
          <span
            className={`pill live ${live ? 'ok' : 'off'}`}
            data-testid="live"
            title={live ? 'Changes from elsewhere show at once' : 'Reconnecting for live updates'}
          >
            <span className="dot" /> {live ? 'live' : 'not live'}
          </span>
        )}
        <span className="muted version">
          v{view.version}
          {view.pending.length > 0 && ` (confirmed v${view.confirmedVersion})`}
        </span>
      </div>
      {order && (
        <>
          <table className="lines">
            <thead>
              <tr>
                <th>SKU</th>
                <th className="num">Qty</th>
                <th className="num">Unit price</th>
                <th className="num">Amount</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {order.lines.length === 0 && (
                <tr>
                  <td colSpan={5} className="hint">
                    No lines yet.
                  </td>
                </tr>
              )}
              {order.lines.map((line) => (
                <tr
                  key={line.lineId}
                  data-testid="line"
                  className={isPending(line.lineId, line.quantity) ? 'pending-row' : undefined}
                >
                  <td>
                    {line.sku}
                    {isPending(line.lineId, line.quantity) && (
                      <span className="badge pending-badge">pending</span>
                    )}
                  </td>
                  <td className="num">
                    <QuantityInput
                      value={line.quantity}
                      onChange={(q) =>
                        send({
                          type: 'order/changeQuantity',
                          aggregateId: id,
                          payload: { lineId: line.lineId, quantity: q },
                        })
                      }
                    />
                  </td>
                  <td className="num">{money(line.unitPrice, order.currency)}</td>
                  <td className="num">{money(line.amount, order.currency)}</td>
                  <td className="num">
                    <button
                      type="button"
                      className="link"
                      onClick={() =>
                        send({
                          type: 'order/removeLine',
                          aggregateId: id,
                          payload: { lineId: line.lineId },
                        })
                      }
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <td colSpan={3}>Total</td>
                <td className="num" data-testid="order-total">
                  {money(order.total, order.currency)}
                </td>
                <td />
              </tr>
            </tfoot>
          </table>
          <form className="row add-line" onSubmit={addLine}>
            <input
              placeholder="SKU"
              value={sku}
              onChange={(e) => setSku(e.target.value)}
              data-testid="sku"
            />
            <input
              type="number"
              min={1}
              value={quantity}
              onChange={(e) => setQuantity(e.target.value)}
              aria-label="Quantity"
              data-testid="quantity"
            />
            <input
              type="number"
              step="0.01"
              min={0}
              value={price}
              onChange={(e) => setPrice(e.target.value)}
              aria-label="Unit price"
            />
            <button type="submit" data-testid="add-line">
              Add line
            </button>
          </form>
          <div className="row actions">
            <button
              type="button"
              className="primary"
              onClick={() => send({ type: 'order/submit', aggregateId: id, payload: {} })}
              data-testid="submit"
            >
              Submit
            </button>
            <input
              placeholder="Cancel reason (optional)"
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />
            <button
              type="button"
              className="danger"
              onClick={() =>
                send({
                  type: 'order/cancel',
                  aggregateId: id,
                  payload: reason.trim() ? { reason: reason.trim() } : {},
                })
              }
              data-testid="cancel"
            >
              Cancel order
            </button>
          </div>
        </>
      )}
      <History demo={demo} id={id} version={view.confirmedVersion} />
    </section>
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

const Commands = () => {
  const commands = useSelector((s: RootState) => s.client.commands);
  const entries = Object.entries(commands).reverse().slice(0, 30);
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
            <span className="command-order muted">{status.aggregateId}</span>
            <span className="command-state">{describe(status)}</span>
          </li>
        ))}
      </ol>
    </section>
  );
};

// ---- the app -----------------------------------------------------------------------------

export const App = ({ demo, stacks }: { demo: DemoStore; stacks: readonly StackName[] }) => {
  const [selected, setSelected] = useState<string | undefined>(
    () => sessionStorage.getItem(`demo:${demo.stack}:selected`) ?? undefined,
  );
  const select = (id: string) => {
    sessionStorage.setItem(`demo:${demo.stack}:selected`, id);
    setSelected(id);
  };
  return (
    <div className="app">
      <Header stack={demo.stack} stacks={stacks} />
      <main className="layout">
        <Orders demo={demo} selected={selected} onSelect={select} />
        <div className="main-column">
          {selected ? (
            <Order demo={demo} id={selected} />
          ) : (
            <section className="card hint">Create or pick an order.</section>
          )}
          <Commands />
        </div>
      </main>
      <footer className="footer muted">
        {demo.stack} API: <code>{demo.api.baseUrl}</code> · commands are kept in this browser until
        the server answers
      </footer>
    </div>
  );
};
