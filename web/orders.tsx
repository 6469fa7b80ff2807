/**
 * The orders page: the signed-in customer's orders (`GET /orders?customerId=<me>` plus the ones
 * this browser made), or for support and admins every order of a status (`?status=`), and one
 * order: its lines, quantities, submit and cancel, and its history. A new order names no
 * customer: the token decides whose it is. Each control is on only if the order's rules allow it
 * for the signed-in user (support may cancel anyone's order, but change no one's lines). Once
 * submitted, the fulfilment workflow confirms or rejects the order by itself (pushed live): no
 * control sends confirm or reject, which only the workflow may.
 */
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { useDispatch, useSelector } from 'react-redux';
import {
  type OrderCommand,
  type OrderStatus,
  type OrderView,
  selectConfirmedView,
  selectOnline,
  selectOptimisticView,
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
  isStaff,
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
import type { RejectReason } from '../lambdas/domain/order/commands';
import { ORDER_STATUSES } from '../lambdas/domain/order/reducer';
import { type AppDispatch, type DemoStore, loaded, type RootState } from './store';

const linesOf = (count: number) => `${count} ${count === 1 ? 'line' : 'lines'}`;

const money = (minor: number, currency: string) =>
  `${(minor / 100).toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;

// ---- the customer's orders ---------------------------------------------------------------

/** The statuses an order list may be asked for (`GET /orders?status=`): all but deleted. */
const LISTED_STATUSES = ORDER_STATUSES.filter((status) => status !== 'deleted');

/** Why the fulfilment workflow rejected an order, in words (every reason has some: a Record). */
const REJECT_REASONS: Record<RejectReason, string> = {
  'not-enough-stock': 'not enough stock',
  'timed-out': 'the stock was not reserved in time',
};

/** What became of a submitted order, under its status (nothing for the other statuses). */
const FulfilmentNotice = ({ order }: { order: OrderView }) => {
  switch (order.status) {
    case 'submitted':
      return (
        <p className="notice" data-testid="order-outcome">
          Reserving stock: the order is confirmed or rejected by itself.
        </p>
      );
    case 'confirmed':
      return (
        <p className="notice ok" data-testid="order-outcome">
          Confirmed: the stock of every line is reserved.
        </p>
      );
    case 'rejected': {
      const short = order.skusShort ?? [];
      return (
        <p className="notice bad" data-testid="order-outcome">
          Rejected: {order.rejectReason ? REJECT_REASONS[order.rejectReason] : 'by the workflow'}
          {short.length > 0 && ` (${short.join(', ')})`}.
        </p>
      );
    }
    default:
      return null;
  }
};

const OrderListItem = ({
  id,
  selected,
  onSelect,
  showCustomer,
}: {
  id: string;
  selected: boolean;
  onSelect: () => void;
  /** Staff see whose order it is. */
  showCustomer: boolean;
}) => {
  const view = useSelector((s: RootState) => selectOptimisticView<OrderView>(s.client, id));
  const gone = useSelector((s: RootState) => s.demo.gone[id] !== undefined);
  const order = view.view;
  const pending = view.pending.length;
  return (
    <PickItem
      selected={selected}
      onSelect={onSelect}
      testId="order-item"
      meta={
        order
          ? `${showCustomer ? `${order.customerId} · ` : ''}${linesOf(order.lineCount)} · ${money(order.total, order.currency)}`
          : ''
      }
      pending={pending}
    >
      <span className="pick-id">{id}</span>
      <span className={`badge status-${gone ? 'gone' : (order?.status ?? 'unknown')}`}>
        {gone ? 'gone' : (order?.status ?? 'not loaded')}
      </span>
    </PickItem>
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
  const principal = usePrincipal();
  const staff = isStaff(principal);
  const me = principal?.subject ?? demo.user;
  const [status, setStatus] = useState<OrderStatus>('submitted');
  const [currency, setCurrency] = useState('EUR');
  const [known, addKnown] = useKnownIds(demo, 'orders');
  const online = useSelector((s: RootState) => selectOnline(s.client));
  // The server's list (the decoupled one may lag a bit): a customer's own orders, or for staff
  // every order of a status.
  const query = staff ? { status } : { customerId: me };
  const [serverIds, listError] = useServerRead(JSON.stringify(query), [] as string[], async () => {
    const page = await demo.api.listViews<OrderView>('orders', { ...query, limit: 50 });
    for (const order of page.items) dispatch(loaded(order));
    return page.items.map((o) => o.id);
  });

  const ids = useMemo(
    () => (staff ? [...new Set([...serverIds, ...known])] : [...new Set([...known, ...serverIds])]),
    [staff, known, serverIds],
  );

  const create = (event: FormEvent) => {
    event.preventDefault();
    const id = newId('order');
    addKnown(id);
    // No customerId: the order is the signed-in user's (the server reads it from the token).
    send({ type: 'order/create', aggregateId: id, payload: { currency } });
    onSelect(id);
  };

  return (
    <section className="card orders">
      <h2 data-testid="orders-title">{staff ? 'All orders' : 'My orders'}</h2>
      {staff && (
        <label className="field">
          <span>Status</span>
          <select
            value={status}
            onChange={(e) => setStatus(e.target.value as OrderStatus)}
            data-testid="status-filter"
          >
            {LISTED_STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      )}
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
            showCustomer={staff}
          />
        )}
      />
    </section>
  );
};

// ---- one order ---------------------------------------------------------------------------

const QuantityInput = ({
  value,
  disabled,
  onChange,
}: {
  value: number;
  disabled: boolean;
  onChange: (q: number) => void;
}) => {
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
      disabled={disabled}
      onChange={(e) => setText(e.target.value)}
      onBlur={commit}
      onKeyDown={(e) => e.key === 'Enter' && commit()}
      aria-label="Quantity"
      data-testid="line-quantity"
    />
  );
};

/**
 * An order's lines. `edit` absent: read-only (a past version); otherwise each line's controls
 * are enabled only where the shared `decide` would accept their command.
 */
const LinesTable = ({
  order,
  testId,
  edit,
}: {
  order: OrderView;
  testId: string;
  edit?: {
    readonly isPending: (lineId: string, quantity: number) => boolean;
    /** Why the line's commands would be refused, if they would. */
    readonly refusal: (lineId: string) => string | undefined;
    readonly changeQuantity: (lineId: string, quantity: number) => void;
    readonly remove: (lineId: string) => void;
  };
}) => (
  <table className="lines">
    <thead>
      <tr>
        <th>SKU</th>
        <th className="num">Qty</th>
        <th className="num unit-price">Unit price</th>
        <th className="num">Amount</th>
        {edit && (
          <th>
            <span className="visually-hidden">Remove</span>
          </th>
        )}
      </tr>
    </thead>
    <tbody>
      {order.lines.length === 0 && (
        <tr>
          <td colSpan={edit ? 5 : 4} className="hint">
            No lines yet.
          </td>
        </tr>
      )}
      {order.lines.map((line) => {
        const pending = edit?.isPending(line.lineId, line.quantity) ?? false;
        const refusal = edit?.refusal(line.lineId);
        return (
          <tr
            key={line.lineId}
            data-testid={testId}
            className={pending ? 'pending-row' : undefined}
          >
            <td className="sku">
              {line.sku}
              {order.skusShort?.includes(line.sku) && (
                <span className="badge short-badge status-rejected" data-testid="line-short">
                  short
                </span>
              )}
              {pending && <PendingBadge />}
              {/* On a phone the unit price column is hidden: it shows here instead. */}
              <span className="unit-inline muted">× {money(line.unitPrice, order.currency)}</span>
            </td>
            <td className="num">
              {edit ? (
                <QuantityInput
                  value={line.quantity}
                  disabled={refusal !== undefined}
                  onChange={(q) => edit.changeQuantity(line.lineId, q)}
                />
              ) : (
                line.quantity
              )}
            </td>
            <td className="num unit-price">{money(line.unitPrice, order.currency)}</td>
            <td className="num">{money(line.amount, order.currency)}</td>
            {edit && (
              <td className="num">
                <button
                  type="button"
                  className="link"
                  disabled={refusal !== undefined}
                  title={refusal}
                  onClick={() => edit.remove(line.lineId)}
                  data-testid="remove-line"
                >
                  Remove
                </button>
              </td>
            )}
          </tr>
        );
      })}
    </tbody>
    <tfoot>
      <tr>
        <td colSpan={2}>Total</td>
        <td className="unit-price" />
        <td className="num" data-testid={`${testId}-total`}>
          {money(order.total, order.currency)}
        </td>
        {edit && <td />}
      </tr>
    </tfoot>
  </table>
);

/** A probe of addLine: refused only by the order's state (status, line count), never the line. */
const ADD_LINE_PROBE = {
  type: 'order/addLine',
  payload: { lineId: 'probe-not-a-line', sku: 'SKU', quantity: 1, unitPrice: 0 },
} as const;

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

  const { live, gone } = useOpenView(demo, 'orders', id);
  const rejection = useLastRejection(id);
  const send = useSend();
  const principal = usePrincipal();

  const order: OrderView | null = view.view;
  // What the order's rules (who may) and decide (what) accept on the state shown, for the
  // signed-in user; an order the server lost takes nothing.
  const refused = (command: OrderCommand) => gone ?? refusalOf(view, id, command, principal);
  const editRefusal = refused(ADD_LINE_PROBE);
  const submitRefusal = refused({ type: 'order/submit', payload: {} });
  const cancelRefusal = refused({ type: 'order/cancel', payload: {} });
  const fieldIssues = useFieldIssues(rejection);
  /** A field's message when the last rejection was this form's command, until it is edited. */
  const addLineIssue = (field: string) => fieldIssues.issue('order/addLine', field);
  const editedLine = (field: string) => fieldIssues.edited('order/addLine', field);

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
        <span
          className={`badge status-${gone ? 'gone' : (order?.status ?? 'unknown')}`}
          data-testid="order-status"
        >
          {gone ? 'gone' : (order?.status ?? (view.pending.length > 0 ? 'pending' : 'not found'))}
        </span>
        {order && order.customerId !== principal?.subject && (
          <span className="muted" data-testid="order-customer">
            of {order.customerId}
          </span>
        )}
        <LivePill demo={demo} live={live} gone={gone} />
        <VersionNote view={view} />
      </div>
      {gone && <GoneNotice noun="order" reason={gone} />}
      <RejectionNotice rejection={rejection} />
      {order && (
        <>
          {!gone && <FulfilmentNotice order={order} />}
          {editRefusal && !gone && (
            <p className="notice" data-testid="read-only">
              Read-only: {editRefusal}
            </p>
          )}
          <LinesTable
            order={order}
            testId="line"
            edit={{
              isPending,
              refusal: (lineId) => refused({ type: 'order/removeLine', payload: { lineId } }),
              changeQuantity: (lineId, q) =>
                send({
                  type: 'order/changeQuantity',
                  aggregateId: id,
                  payload: { lineId, quantity: q },
                }),
              remove: (lineId) =>
                send({ type: 'order/removeLine', aggregateId: id, payload: { lineId } }),
            }}
          />
          <form className="add-line" onSubmit={addLine}>
            <fieldset disabled={editRefusal !== undefined} className="add-line-fields">
              <label className="field sku-field">
                <span>SKU</span>
                <input
                  placeholder="SKU-1"
                  value={sku}
                  onChange={(e) => {
                    setSku(e.target.value);
                    editedLine('sku');
                  }}
                  data-testid="sku"
                />
                <FieldError field="sku" message={addLineIssue('sku')} />
              </label>
              <label className="field">
                <span>Quantity</span>
                <input
                  type="number"
                  min={1}
                  value={quantity}
                  onChange={(e) => {
                    setQuantity(e.target.value);
                    editedLine('quantity');
                  }}
                  data-testid="quantity"
                />
                <FieldError field="quantity" message={addLineIssue('quantity')} />
              </label>
              <label className="field">
                <span>Unit price</span>
                <input
                  type="number"
                  step="0.01"
                  min={0}
                  value={price}
                  onChange={(e) => {
                    setPrice(e.target.value);
                    editedLine('unitPrice');
                  }}
                  data-testid="unit-price"
                />
                <FieldError field="unitPrice" message={addLineIssue('unitPrice')} />
              </label>
              {/* An empty label keeps the button level with the inputs, whatever is below them. */}
              <div className="field">
                <span aria-hidden="true">&nbsp;</span>
                <button type="submit" data-testid="add-line">
                  Add line
                </button>
              </div>
            </fieldset>
          </form>
          <div className="row actions">
            <button
              type="button"
              className="primary"
              disabled={submitRefusal !== undefined}
              title={submitRefusal}
              onClick={() => send({ type: 'order/submit', aggregateId: id, payload: {} })}
              data-testid="submit"
            >
              Submit
            </button>
            <input
              placeholder="Cancel reason (optional)"
              value={reason}
              disabled={cancelRefusal !== undefined}
              onChange={(e) => setReason(e.target.value)}
              aria-label="Cancel reason"
            />
            <button
              type="button"
              className="danger"
              disabled={cancelRefusal !== undefined}
              title={cancelRefusal}
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
          {/* Why Submit is off while lines may still change (e.g. no lines yet). */}
          {submitRefusal && !editRefusal && (
            <p className="hint" data-testid="submit-refusal">
              Submit: {submitRefusal}
            </p>
          )}
        </>
      )}
      {/* A lost order has no history on the server to travel through. */}
      {!gone && (
        <History
          demo={demo}
          collection="orders"
          id={id}
          version={view.confirmedVersion}
          summarize={(state) => {
            const o = state as OrderView;
            return `${o.status}, ${linesOf(o.lineCount)}, ${money(o.total, o.currency)}`;
          }}
          renderState={(state) => {
            const past = state as OrderView;
            return (
              <>
                <span className={`badge status-${past.status}`} data-testid="history-status">
                  {past.status}
                </span>
                <LinesTable order={past} testId="history-line" />
              </>
            );
          }}
        />
      )}
    </section>
  );
};
