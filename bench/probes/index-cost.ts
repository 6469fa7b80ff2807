/**
 * What one event costs the order read model in write units, before and after the `byStatus`
 * redesign (issue 11, item 6; docs/decisions/by-status-keys-only.md).
 *
 * One DynamoDB Local, two read-model tables side by side: the old definition (written out
 * below, as it was in lambdas/core/shared/schema.ts: both indexes ALL, both sorted by `updatedAt`) and
 * the current one (`viewTableOf(AGGREGATE_VIEW)`). The same stream of order rows is put into
 * both, row after row, as the projector stores them (one PutItem per event, `rowFor` of the
 * fold), with `ReturnConsumedCapacity: INDEXES`: DynamoDB Local reports the table's and each
 * index's write units (checked: an unchanged KEYS_ONLY index reports nothing, a moved entry a
 * delete plus a put), so nothing is computed from item sizes here.
 *
 * `npm run bench -- --index-cost [--orders N] [--lines N]`, or `measureIndexCost()` from the
 * default bench run (bench/run.ts).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { EventAction } from '../../lambdas/core/events/events';
import { rowFor, viewTableOf } from '../../lambdas/core/projections/projection';
import { createTableInput, type TableDefinition } from '../../lambdas/core/shared/schema';
import type { OrderView } from '../../lambdas/domain/order';
import { AGGREGATE_VIEW } from '../../lambdas/handlers/deployment';
import { startDynamoDbLocal } from '../../local/emulators/dynamodb-local';

/** The read-model table before the redesign: what every order row paid until issue 11. */
export const BEFORE_TABLE = {
  partitionKey: { name: 'id', type: 'S' },
  indexes: [
    {
      indexName: 'byStatus',
      partitionKey: { name: 'status', type: 'S' },
      sortKey: { name: 'updatedAt', type: 'S' },
      projection: 'ALL',
    },
    {
      indexName: 'byCustomer',
      partitionKey: { name: 'customerId', type: 'S' },
      sortKey: { name: 'updatedAt', type: 'S' },
      projection: 'ALL',
    },
  ],
} as const satisfies TableDefinition;

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
  readonly indexes: Readonly<Record<string, number>>;
}

export interface IndexCostFigures {
  readonly orders: number;
  readonly linesPerOrder: number;
  readonly events: number;
  /** Mean stored row size (bytes of its JSON), a hint of why ALL indexes cost what they do. */
  readonly meanRowBytes: number;
  readonly before: WriteUnits;
  readonly after: WriteUnits;
  /** Writes per event on the busiest `byStatus` partition (the `draft` one), before and after. */
  readonly draftPartitionWritesPerEvent: { readonly before: number; readonly after: number };
  readonly method: string;
}

export const INDEX_COST_METHOD =
  'the same order rows (create, N lines, a quantity change, a line removed, submit or cancel, every fifth deleted; one PutItem per event as the projector stores it) put into the old and the new read-model table side by side on one DynamoDB Local, with ReturnConsumedCapacity INDEXES; write units as DynamoDB Local reports them for the table and each index, divided by the number of events.';

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

const unitsOf = (consumed: {
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}) => ({
  table: consumed.Table?.CapacityUnits ?? 0,
  indexes: Object.fromEntries(
    Object.entries(consumed.GlobalSecondaryIndexes ?? {}).map(([name, c]) => [
      name,
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
  const tables = {
    before: { name: `index-cost-before-${suffix}`, definition: BEFORE_TABLE as TableDefinition },
    after: { name: `index-cost-after-${suffix}`, definition: viewTableOf(AGGREGATE_VIEW) },
  };
  try {
    for (const { name, definition } of Object.values(tables)) {
      await client.send(new CreateTableCommand(createTableInput(definition, name)));
    }
    const sums = {
      before: { table: 0, indexes: {} as Record<string, number> },
      after: { table: 0, indexes: {} as Record<string, number> },
    };
    const draft = { before: 0, after: 0 };
    let events = 0;
    let rowBytes = 0;
    for (let n = 0; n < orders; n++) {
      let view: OrderView | null = null;
      for (const event of orderEvents(n, lines)) {
        const was: OrderView | null = view;
        view = AGGREGATE_VIEW.reducer(view, event);
        const row = rowFor(AGGREGATE_VIEW, view!);
        events++;
        rowBytes += JSON.stringify(row).length;
        for (const side of ['before', 'after'] as const) {
          const out = await doc.send(
            new PutCommand({
              TableName: tables[side].name,
              Item: row,
              ReturnConsumedCapacity: 'INDEXES',
            }),
          );
          const units = unitsOf(out.ConsumedCapacity ?? {});
          sums[side].table += units.table;
          for (const [index, u] of Object.entries(units.indexes))
            sums[side].indexes[index] = (sums[side].indexes[index] ?? 0) + u;
          // Writes that land on the draft partition of byStatus: the entry was or is a draft
          // one and the index wrote (a KEYS_ONLY entry whose keys stayed is not written).
          const touchesDraft = was?.status === 'draft' || view?.status === 'draft';
          if (touchesDraft && (units.indexes.byStatus ?? 0) > 0) draft[side]++;
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
  'lines/order  row bytes  events  WCU/event before (table+byStatus+byCustomer)                 after  draft-partition writes/event',
  ...figures.map((f) => {
    const split = (u: WriteUnits) =>
      `${u.total} (${u.table}+${u.indexes.byStatus ?? 0}+${u.indexes.byCustomer ?? 0})`;
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
    `Write units per event of the order row, old and new read-model table (${orders} orders)`,
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
