/**
 * The workload's orders: the command sequence a client sends, and the same history written
 * straight to a table (events exactly as the command runner stores them) to start an order at
 * a given history length without sending thousands of commands first.
 */
import { randomUUID } from 'node:crypto';
import { commandHash } from '../lambdas/core/command/command-runner';
import type { StoredEvent } from '../lambdas/core/events/events';
import { BENCH_USER } from './identity';

export type BenchCommandType = 'order/create' | 'order/addLine' | 'order/changeQuantity';

export interface BenchCommand {
  readonly type: BenchCommandType;
  readonly payload: Record<string, unknown>;
}

/** The first line of every order; the history and contention commands change its quantity. */
export const FIRST_LINE = 'line-1';
export const LINES_PER_ORDER = 3;

const quantityAt = (index: number) => (index % 9) + 1;

/**
 * Command `index` (0-based) of an order's lifecycle: create, three addLine, then
 * changeQuantity on those lines.
 */
export const commandAt = (index: number, customer = 'customer-1'): BenchCommand => {
  if (index === 0)
    return { type: 'order/create', payload: { customerId: customer, currency: 'EUR' } };
  if (index <= LINES_PER_ORDER) {
    return {
      type: 'order/addLine',
      payload: {
        lineId: `line-${index}`,
        sku: `SKU-${String(1000 + index * 7)}`,
        quantity: quantityAt(index),
        unitPrice: 1250 * index,
      },
    };
  }
  return changeQuantity(`line-${((index - 1) % LINES_PER_ORDER) + 1}`, quantityAt(index));
};

export const changeQuantity = (lineId: string, quantity: number): BenchCommand => ({
  type: 'order/changeQuantity',
  payload: { lineId, quantity },
});

/** A client's stream of commands: a new order every `commandsPerOrder` commands. */
export class OrderSession {
  private order = 0;
  private index = 0;

  constructor(
    private readonly idPrefix: string,
    private readonly commandsPerOrder: number,
  ) {}

  next(): { aggregateId: string; command: BenchCommand } {
    if (this.index >= this.commandsPerOrder) {
      this.order++;
      this.index = 0;
    }
    const aggregateId = `${this.idPrefix}-o${this.order}`;
    return { aggregateId, command: commandAt(this.index++, `customer-${this.idPrefix}`) };
  }
}

const EVENT_TYPES: Record<BenchCommandType, string> = {
  'order/create': 'order/created',
  'order/addLine': 'order/lineAdded',
  'order/changeQuantity': 'order/quantityChanged',
};

/** An event-table item, exactly as the command runner writes it. */
export type EventItem = StoredEvent<string, Record<string, unknown>>;

/**
 * Who the written events say sent their commands (the runner stamps the caller's `sub`): the
 * user the bench signs in as locally, so seeded events are those its commands would write.
 */
export const BENCH_ACTOR = BENCH_USER;

/** The event a command leads to, with every system field (same sizes as the real ones). */
export const eventFor = (
  aggregateId: string,
  version: number,
  command: BenchCommand,
  aggregateType = 'order',
  occurredAt = new Date().toISOString(),
  actor = BENCH_ACTOR,
): EventItem => {
  const commandId = randomUUID();
  return {
    aggregateId,
    version,
    aggregateType,
    type: EVENT_TYPES[command.type],
    payload: command.payload,
    eventId: randomUUID(),
    occurredAt,
    commandId,
    commandHash: commandHash({ type: command.type, aggregateId, payload: command.payload, actor }),
    correlationId: randomUUID(),
    causationId: commandId,
    actor,
  };
};

/**
 * The events of an order with `length` events: created, one line added, then quantity
 * changes of that line (what `length - 2` changeQuantity commands write).
 */
export const historyEvents = (
  aggregateId: string,
  length: number,
  aggregateType = 'order',
): EventItem[] => {
  if (length < 2) throw new RangeError('a history has at least 2 events (create, addLine)');
  const start = Date.now() - length * 1000;
  return Array.from({ length }, (_, i) => {
    const command =
      i === 0
        ? commandAt(0, `customer-${aggregateId}`)
        : i === 1
          ? commandAt(1)
          : changeQuantity(FIRST_LINE, quantityAt(i));
    return eventFor(
      aggregateId,
      i + 1,
      command,
      aggregateType,
      new Date(start + i * 1000).toISOString(),
    );
  });
};

/** The floor's order row: the fields the order view's lists read are typed. */
export interface FloorRow {
  readonly id: string;
  readonly customerId: string;
  readonly status: string;
  readonly createdAt: string;
  readonly version: number;
  readonly updatedAt: string;
  readonly [key: string]: unknown;
}

interface Line {
  lineId: string;
  sku: string;
  quantity: number;
  unitPrice: number;
  amount: number;
}

/**
 * The floor's stand-in for the order view's reducer: the same row shape and size as an order
 * row (so the same list slot attributes), without the framework's fold.
 */
export const applyToRow = (row: FloorRow | undefined, event: EventItem): FloorRow => {
  const payload = event.payload;
  if (row === undefined || event.type === 'order/created') {
    return {
      id: event.aggregateId,
      customerId: String(payload.customerId ?? 'customer'),
      currency: String(payload.currency ?? 'EUR'),
      status: 'draft',
      lines: [],
      lineCount: 0,
      total: 0,
      createdAt: event.occurredAt,
      updatedAt: event.occurredAt,
      version: event.version,
    };
  }
  let lines = (row.lines as Line[] | undefined) ?? [];
  if (event.type === 'order/lineAdded') {
    const quantity = Number(payload.quantity);
    const unitPrice = Number(payload.unitPrice);
    lines = [
      ...lines,
      {
        lineId: String(payload.lineId),
        sku: String(payload.sku),
        quantity,
        unitPrice,
        amount: quantity * unitPrice,
      },
    ];
  } else if (event.type === 'order/quantityChanged') {
    const quantity = Number(payload.quantity);
    lines = lines.map((l) =>
      l.lineId === payload.lineId ? { ...l, quantity, amount: quantity * l.unitPrice } : l,
    );
  }
  return {
    ...row,
    lines,
    lineCount: lines.length,
    total: lines.reduce((sum, l) => sum + l.amount, 0),
    updatedAt: event.occurredAt,
    version: event.version,
  };
};
