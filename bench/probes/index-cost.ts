/**
 * What one event costs the order view's lists in write units, with its status list holding rows
 * against keys only (issue 11, item 6; docs/decisions/by-status-keys-only.md): why the status
 * list holds keys only.
 *
 * One DynamoDB Local, two projections tables side by side, both of the one definition
 * (PROJECTIONS_TABLE, its list slots): into one go the order view's items as declared (status
 * list `holds: 'keys'`, slot `keys1`; customer list of rows, `rows1`), into the other the same
 * view with its status list holding rows (slots `rows1`, `rows2`). The same stream of order
 * views is put into both, item after item, as the row projector stores them (one PutItem per
 * event of `{ key, view, applied, rev, ...list slots }`), with `ReturnConsumedCapacity:
 * INDEXES`: DynamoDB Local reports the table's and each index's write units (checked: an
 * unchanged KEYS_ONLY entry reports nothing, a moved entry a delete plus a put), so nothing is
 * computed from item sizes here.
 *
 * `npm run bench -- --index-cost [--orders N] [--lines N]`, or `measureIndexCost()` from the
 * default bench run (bench/run.ts).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { EventAction } from '../../lambdas/core/events/events';
import {
  advanceSource,
  type AnyRowProjection,
  storageName,
  storedKey,
} from '../../lambdas/core/projections/row-projection';
import { listAttributes, listSlotsOf } from '../../lambdas/core/projections/row-lists';
import { createTableInput, PROJECTIONS_TABLE } from '../../lambdas/core/shared/schema';
import type { OrderView } from '../../lambdas/domain/order';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
import { startDynamoDbLocal } from '../../local/emulators/dynamodb-local';

/** The order view with its status list holding whole rows: what every event paid before. */
export const STATUS_ROWS_VIEW: AnyRowProjection = {
  ...orderViewProjection,
  lists: orderViewProjection.lists?.map((list) =>
    list.param === 'status' ? { ...list, holds: 'rows' as const } : list,
  ),
};

export interface IndexCostOptions {
  /** A running DynamoDB Local; without it one is started and stopped here. */
  readonly endpoint?: string;
  /** Orders in the stream. @default 20 */
  readonly orders?: number;
  /** Lines added to each order (row size grows with them). @default 10 */
  readonly lines?: number;
}

/** Write units per event of one table, split by where they were spent. */
export interface WriteUnits {
  readonly total: number;
  readonly table: number;
  /** Per list (its parameter: `status`, `customerId`), the units of its slot's index. */
  readonly indexes: Readonly<Record<string, number>>;
}

export interface IndexCostFigures {
  readonly orders: number;
  readonly linesPerOrder: number;
  readonly events: number;
  /** Mean stored row size (bytes of its JSON), a hint of why ALL indexes cost what they do. */
  readonly meanRowBytes: number;
  /** What was compared, `before` against `after` (absent in results of older runs). */
  readonly sides?: { readonly before: string; readonly after: string };
  readonly before: WriteUnits;
  readonly after: WriteUnits;
  /** Writes per event on the busiest status partition (the `draft` one), before and after. */
  readonly draftPartitionWritesPerEvent: { readonly before: number; readonly after: number };
  readonly method: string;
}

export const INDEX_COST_SIDES = {
  before: 'status list of rows',
  after: 'status list of keys',
} as const;

export const INDEX_COST_METHOD =
  'the same order views (create, N lines, a quantity change, a line removed, submit or cancel, every fifth deleted; one PutItem per event of the view item as the row projector stores it, list slot attributes included) put into two projections tables side by side on one DynamoDB Local: the order view as declared (status list holding keys, customer list holding rows) and the same view with its status list holding rows; ReturnConsumedCapacity INDEXES; write units as DynamoDB Local reports them for the table and each list’s slot index, divided by the number of events.';

/** One order's events as actions, as the runner would stamp them (a fixed clock per event). */
const orderEvents = (n: number, lines: number): EventAction[] => {
  const id = `ic-${String(n).padStart(4, '0')}`;
  const payloads: [string, unknown][] = [
    ['order/created', { customerId: `c-${n % 5}`, currency: 'EUR' }],
    ...Array.from({ length: lines }, (_, i): [string, unknown] => [
      'order/lineAdded',
      {
        lineId: `l${i}`,
        sku: `sku-${(n * 7 + i) % 50}`,
        quantity: 1 + (i % 4),
        unitPriceMinor: 1999,
      },
    ]),
    ['order/quantityChanged', { lineId: 'l0', quantity: 9 }],
    ['order/lineRemoved', { lineId: `l${lines - 1}` }],
    n % 3 === 0 ? ['order/cancelled', { reason: 'probe' }] : ['order/submitted', {}],
    ...(n % 5 === 4 ? [['order/deleted', {}] as [string, unknown]] : []),
  ];
  return payloads.map(([type, payload], i) => ({
    type,
    payload,
    meta: {
      aggregateId: id,
      version: i + 1,
      // Strictly increasing across the whole stream, as real time would be.
      occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 60_000 + i * 1000).toISOString(),
      eventId: `${id}-${i + 1}`,
      correlationId: 'index-cost',
    },
  }));
};

/** The units of one put: the table's, and each index's under the list it serves. */
const unitsOf = (
  consumed: {
    Table?: { CapacityUnits?: number };
    GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
  },
  listOfIndex: ReadonlyMap<string, string>,
) => ({
  table: consumed.Table?.CapacityUnits ?? 0,
  indexes: Object.fromEntries(
    Object.entries(consumed.GlobalSecondaryIndexes ?? {}).map(([name, c]) => [
      listOfIndex.get(name) ?? name,
      c.CapacityUnits ?? 0,
    ]),
  ),
});

const round = (x: number) => Math.round(x * 100) / 100;

export const measureIndexCost = async (
  options: IndexCostOptions = {},
): Promise<IndexCostFigures> => {
  const orders = options.orders ?? 20;
  const lines = Math.max(1, options.lines ?? 10);
  const local = options.endpoint ? undefined : await startDynamoDbLocal();
  const client = new DynamoDBClient({
    endpoint: options.endpoint ?? local!.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const suffix = `${process.pid}-${Date.now()}`;
  const sides = {
    before: { table: `index-cost-before-${suffix}`, view: STATUS_ROWS_VIEW },
    after: { table: `index-cost-after-${suffix}`, view: orderViewProjection as AnyRowProjection },
  };
  const listOfIndex = (view: AnyRowProjection) =>
    new Map(listSlotsOf(view).map(({ list, slot }) => [slot.indexName, list.param]));
  const lists = { before: listOfIndex(sides.before.view), after: listOfIndex(sides.after.view) };
  try {
    for (const { table } of Object.values(sides)) {
      await client.send(new CreateTableCommand(createTableInput(PROJECTIONS_TABLE, table)));
    }
    const sums = {
      before: { table: 0, indexes: {} as Record<string, number> },
      after: { table: 0, indexes: {} as Record<string, number> },
    };
    const draft = { before: 0, after: 0 };
    let events = 0;
    let rowBytes = 0;
    for (let n = 0; n < orders; n++) {
      let state: unknown = orderViewProjection.source.initialState;
      let view: OrderView | undefined;
      for (const event of orderEvents(n, lines)) {
        const was = view;
        view = orderViewProjection.reducer(view, event, state as OrderView | null);
        state = advanceSource(orderViewProjection, state, event);
        const id = event.meta.aggregateId;
        events++;
        rowBytes += JSON.stringify(view).length;
        for (const side of ['before', 'after'] as const) {
          const { table, view: declared } = sides[side];
          const out = await doc.send(
            new PutCommand({
              TableName: table,
              Item: {
                key: storedKey(declared, id),
                view,
                applied: { [id]: event.meta.version },
                rev: event.meta.version,
                ...listAttributes(declared, storageName(declared), view),
              },
              ReturnConsumedCapacity: 'INDEXES',
            }),
          );
          const units = unitsOf(out.ConsumedCapacity ?? {}, lists[side]);
          sums[side].table += units.table;
          for (const [list, u] of Object.entries(units.indexes))
            sums[side].indexes[list] = (sums[side].indexes[list] ?? 0) + u;
          // Writes that land on the draft partition of the status list: the entry was or is a
          // draft one and the index wrote (a KEYS_ONLY entry whose keys stayed is not written).
          const touchesDraft = was?.status === 'draft' || view.status === 'draft';
          if (touchesDraft && (units.indexes.status ?? 0) > 0) draft[side]++;
        }
      }
    }
    const perEvent = (side: 'before' | 'after'): WriteUnits => {
      const indexes = Object.fromEntries(
        Object.entries(sums[side].indexes).map(([k, v]) => [k, round(v / events)]),
      );
      const table = round(sums[side].table / events);
      const all = sums[side].table + Object.values(sums[side].indexes).reduce((a, b) => a + b, 0);
      return { total: round(all / events), table, indexes };
    };
    return {
      orders,
      linesPerOrder: lines,
      events,
      meanRowBytes: Math.round(rowBytes / events),
      sides: INDEX_COST_SIDES,
      before: perEvent('before'),
      after: perEvent('after'),
      draftPartitionWritesPerEvent: {
        before: round(draft.before / events),
        after: round(draft.after / events),
      },
      method: INDEX_COST_METHOD,
    };
  } finally {
    client.destroy();
    await local?.stop();
  }
};

/** The figures as plain text lines (terminal, and the probe's own CLI). */
export const indexCostLines = (figures: readonly IndexCostFigures[]): string[] => [
  'lines/order  row bytes  events  WCU/event status rows (table+status+customerId)    status keys  draft-partition writes/event',
  ...figures.map((f) => {
    const split = (u: WriteUnits) =>
      `${u.total} (${u.table}+${u.indexes.status ?? 0}+${u.indexes.customerId ?? 0})`;
    return `${String(f.linesPerOrder).padStart(11)}  ${String(f.meanRowBytes).padStart(9)}  ${String(f.events).padStart(6)}  ${split(f.before).padStart(44)}  ${split(f.after).padStart(20)}  ${f.draftPartitionWritesPerEvent.before} -> ${f.draftPartitionWritesPerEvent.after}`;
  }),
];

const intFlag = (argv: readonly string[], name: string, fallback: number): number => {
  const i = argv.indexOf(name);
  if (i === -1) return fallback;
  const value = Number(argv[i + 1]);
  if (!Number.isInteger(value) || value < 1 || value > 10_000)
    throw new Error(`${name} takes a whole number from 1 to 10000`);
  return value;
};

/** `npm run bench -- --index-cost [--orders N] [--lines N]`: small and large rows by default. */
export const runIndexCostCli = async (argv: readonly string[]): Promise<number> => {
  let orders: number;
  let lineCounts: number[];
  try {
    orders = intFlag(argv, '--orders', 20);
    lineCounts = argv.includes('--lines') ? [intFlag(argv, '--lines', 10)] : [2, 10, 50];
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 2;
  }
  console.log(
    `Write units per event of the order view's items, its status list holding rows against keys (${orders} orders)`,
  );
  const local = await startDynamoDbLocal();
  try {
    const figures = [];
    for (const lines of lineCounts) {
      process.stdout.write(`  measuring ${lines} lines per order...\n`);
      figures.push(await measureIndexCost({ endpoint: local.endpoint, orders, lines }));
    }
    console.log(indexCostLines(figures).join('\n'));
    console.log(`\nMethod: ${INDEX_COST_METHOD}`);
  } finally {
    await local.stop();
  }
  return 0;
};
