/**
 * The orders page: a customer's orders (the server's list plus the ones this browser made) and
 * one order: its lines, quantities, submit and cancel, and its history.
 */
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { useDispatch, useSelector } from 'react-redux';
import { type OrderView, selectConfirmedView, selectOnline, selectOptimisticView } from '../client';
import {
  History,
  LivePill,
  newId,
  PendingBadge,
  PickList,
  useKnownIds,
  useOpenView,
  useSend,
  useSettledCount,
  useStoredState,
  VersionNote,
} from './common';
import { type AppDispatch, type DemoStore, loaded, type RootState } from './store';

const money = (minor: number, currency: string) =>
  `${(minor / 100).toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;

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
        className={`pick-item${selected ? ' selected' : ''}`}
        onClick={onSelect}
        data-testid="order-item"
      >
        <span className="pick-id">{id}</span>
        <span className={`badge status-${order?.status ?? 'unknown'}`}>
          {order?.status ?? 'not loaded'}
        </span>
        <span className="pick-meta">
          {order ? `${order.lineCount} lines · ${money(order.total, order.currency)}` : ''}
          {pending > 0 && <span className="pending-mark"> · {pending} pending</span>}
        </span>
      </button>
    </li>
  );
};

export const Orders = ({
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
  const [customerId, setCustomerId] = useStoredState('demo:customer', 'customer-1');
  const [currency, setCurrency] = useState('EUR');
  const [serverIds, setServerIds] = useState<string[]>([]);
  const [listError, setListError] = useState<string | undefined>();
  const [known, addKnown] = useKnownIds(demo, 'orders', customerId);
  const online = useSelector((s: RootState) => selectOnline(s.client));
  const confirmedCount = useSettledCount();

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
    addKnown(id);
    send({ type: 'order/create', aggregateId: id, payload: { customerId, currency } });
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
      <PickList
        noun="orders"
        ids={ids}
        listError={listError}
        online={online}
        item={(id) => (
          <OrderListItem
            key={id}
            id={id}
            selected={id === selected}
            onSelect={() => onSelect(id)}
          />
        )}
      />
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

export const Order = ({ demo, id }: { demo: DemoStore; id: string }) => {
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

  const live = useOpenView(demo, 'orders', id);
  const send = useSend();

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
      <div className="view-head">
        <h2>{id}</h2>
        <span className={`badge status-${order?.status ?? 'unknown'}`} data-testid="order-status">
          {order?.status ?? (view.pending.length > 0 ? 'pending' : 'not found')}
        </span>
        <LivePill demo={demo} live={live} />
        <VersionNote view={view} />
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
                    {isPending(line.lineId, line.quantity) && <PendingBadge />}
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
      <History
        demo={demo}
        collection="orders"
        id={id}
        version={view.confirmedVersion}
        summarize={(state) => {
          const o = state as OrderView;
          return `${o.status}, ${o.lineCount} lines, ${money(o.total, o.currency)}`;
        }}
      />
    </section>
  );
};
