/**
 * The row projector's source-state cache (docs/decisions/projector-source-state-cache.md), on
 * DynamoDB Local: a batch that delivers every event after what the instance has applied reads
 * nothing, one with a gap reads only the events after it; rows equal those of a projector without cache (and the fold of the log) whatever
 * the delivery; any failure makes the next batch read from version 1 and heal; the least
 * recently used aggregate is evicted past the limit; the rows an instance wrote are written
 * unread by its next batch, and a stale one is read again; a re-projection trusts no cache.
 */
import { DeleteCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import type { ProjectionRowStore } from '../../lambdas/core/projections/row-projection';
import type { EventStore, LoadOptions } from '../../lambdas/core/events/event-store';
import { type StoredEvent, toAction } from '../../lambdas/core/events/events';
import { silentLog } from '../../lambdas/core/shared/log';
import type { IncomingRecord } from '../../lambdas/core/projections/projector';
import {
  type AnyRowProjection,
  foldRows,
  type RowProjection,
  StaleRowError,
  storageName,
  storedKey,
} from '../../lambdas/core/projections/row-projection';
import { createRowProjector } from '../../lambdas/core/projections/row-projector';
import { customerSummaryProjection } from '../../lambdas/domain/order/projections';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import { commandHandlerFromEnv, reprojectorFromEnv } from '../../lambdas/handlers/wiring';
import { createTestTables, type TestTables } from '../support/dynamo';
import { variedCommands } from '../support/event-log';
import { command } from '../support/http-events';
import { projectionsFedBy, storedRows } from '../support/projection-rows';
import { testLogger } from '../support/logs';

let tables: TestTables;
let send: ReturnType<typeof commandHandlerFromEnv>;
let store: DynamoDbEventStore;
let rows: DynamoDbProjectionRows;

beforeAll(async () => {
  tables = await createTestTables();
  send = commandHandlerFromEnv(tables.env, { logger: testLogger('command') });
  store = new DynamoDbEventStore(tables.doc, tables.eventTable);
  rows = new DynamoDbProjectionRows(tables.doc, tables.projectionsTable);
});
afterAll(() => tables.drop());

/** The event store, with every load recorded: its options and how many events came back. */
const spying = (inner: EventStore) => {
  const loads: { aggregateId: string; options: LoadOptions; count: number }[] = [];
  const events: EventStore = {
    load: async (aggregateId, options = {}) => {
      const loaded = await inner.load(aggregateId, options);
      loads.push({ aggregateId, options, count: loaded.length });
      return loaded;
    },
    currentVersion: (aggregateId) => inner.currentVersion(aggregateId),
    append: (stored) => inner.append(stored),
  };
  /** The loads since the last call. */
  const take = () => loads.splice(0);
  return { events, take };
};

const incoming = (events: readonly StoredEvent[]): IncomingRecord[] =>
  events.map((event) => ({ id: `${event.aggregateId}/${event.version}`, event }));

const ids = (events: readonly StoredEvent[]) => events.map((e) => `${e.aggregateId}/${e.version}`);

/** Sends `commands` to the order; answers its whole log. */
const order = async (aggregateId: string, commands: { type: string; payload: unknown }[]) => {
  for (const c of commands) {
    const result = await send(command({ ...c, aggregateId }));
    expect(result.statusCode).toBe(202);
  }
  return store.load(aggregateId);
};

const changeQuantity = (quantity: number, lineId = 'a') => ({
  type: 'order/changeQuantity',
  payload: { lineId, quantity },
});

/** Every stored item of `storage` whose row key starts with `prefix`: key -> view, checkpoints. */
const storedItems = async (storage: string, prefix: string) => {
  const items = new Map<string, { view: unknown; applied: unknown }>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await tables.doc.send(
      new ScanCommand({
        TableName: tables.projectionsTable,
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      const key = String(item.key);
      if (key.startsWith(`${storage}#${prefix}`)) {
        items.set(key.slice(storage.length), { view: item.view, applied: item.applied });
      }
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
};

/** The rows of `projection` under `prefix` (merged as served) equal the fold of `logs`. */
const expectFold = async (projection: AnyRowProjection, prefix: string, logs: StoredEvent[][]) => {
  const expected = foldRows(
    projection,
    logs.map((log) => log.map(toAction)),
  );
  expect(expected.size).toBeGreaterThan(0);
  expect(
    await storedRows(
      tables.doc,
      tables.projectionsTable,
      storageName(projection),
      projection,
      prefix,
    ),
  ).toEqual(expected);
};

/** A projector of the deployment's projections over `events` (the spy, mostly). */
const projectorOver = (
  events: EventStore,
  options: Partial<Parameters<typeof createRowProjector>[0]> = {},
) => createRowProjector({ projections: PROJECTIONS, rows, events, log: silentLog, ...options });

describe('the row projector reads only what it has not applied', () => {
  it('a batch that delivers every event after what was applied reads nothing; a gap reads the events after what was applied; a duplicate reads nothing', async () => {
    const id = `next-${process.pid}`;
    const spy = spying(store);
    const project = projectorOver(spy.events);
    // Versions 1 to 3, all delivered: folded as delivered (they are the event items).
    const first = await order(id, variedCommands('next', 0).slice(0, 3));
    expect((await project(incoming(first))).failed).toEqual([]);
    expect(spy.take()).toEqual([]);
    // 4 to 6 after 3 applied: the same.
    const log = await order(id, [changeQuantity(5), changeQuantity(6, 'b'), changeQuantity(7)]);
    expect((await project(incoming(log.slice(3)))).failed).toEqual([]);
    expect(spy.take()).toEqual([]);
    // A late or duplicate delivery: everything is on every row already.
    expect((await project(incoming(log.slice(1, 5)))).failed).toEqual([]);
    expect(spy.take()).toEqual([]);
    // Only the last event (a gap in the stream): the events after 6 are read.
    const longer = await order(id, [
      changeQuantity(2),
      { type: 'order/removeLine', payload: { lineId: 'a' } },
    ]);
    expect((await project(incoming(longer.slice(-1)))).failed).toEqual([]);
    expect(spy.take()).toEqual([
      { aggregateId: id, options: { afterVersion: 6, toVersion: 8 }, count: 2 },
    ]);
    // Another instance (a cold container) given that batch has applied nothing: from version 1.
    const cold = projectorOver(spy.events);
    expect((await cold(incoming(longer.slice(-1)))).failed).toEqual([]);
    expect(spy.take()).toEqual([{ aggregateId: id, options: { toVersion: 8 }, count: 8 }]);
    for (const projection of projectionsFedBy('order'))
      await expectFold(projection, 'next', [longer]);
  });

  it('many shuffled, duplicated batches with a second source type: rows equal a projector without cache and the fold', async () => {
    // A second aggregate type: tickets counted per board, with the count before each note.
    interface Ticket {
      readonly notes: number;
    }
    const ticketSource = {
      type: 'ticket',
      initialState: { notes: 0 } as Ticket,
      reducer: (state: Ticket, event: { type: string }) =>
        event.type === 'ticket/noted' ? { notes: state.notes + 1 } : state,
    };
    const boards: RowProjection<{ notes: number; before: number }, Ticket> = {
      name: 'board-notes',
      version: 1,
      source: ticketSource as RowProjection<unknown, Ticket>['source'],
      eventTypes: ['ticket/noted'],
      rowKey: (event) => (event.payload as { board: string }).board,
      // `before` in the row: a wrong cached state would show.
      reducer: (row, _event, before) => ({
        notes: (row?.notes ?? 0) + 1,
        before: (row?.before ?? 0) + before.notes,
      }),
      keyPattern: /^.+$/u,
    };
    const note = (aggregateId: string, version: number, board: string): StoredEvent => ({
      aggregateId,
      version,
      aggregateType: 'ticket',
      type: 'ticket/noted',
      payload: { board },
      eventId: `${aggregateId}-${version}`,
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, version)).toISOString(),
      commandId: `${aggregateId}-${version}`,
      commandHash: 'test',
      correlationId: 'test',
      causationId: `${aggregateId}-${version}`,
    });

    const logs: StoredEvent[][] = [];
    for (let i = 0; i < 5; i++) {
      const id = `many-${process.pid}-${i}`;
      const more = Array.from({ length: 6 + i }, (_, n) => changeQuantity((n % 4) + 1, 'b'));
      const commands = variedCommands('many', i);
      // Quantity changes of line b before the order's last command (submit, cancel, remove...).
      logs.push(await order(id, [...commands.slice(0, 3), ...more, ...commands.slice(3)]));
    }
    // A foreign event in an order's partition: a version for the order projections, and a note
    // for the board projection (it reads events by their type, wherever they are).
    const host = logs[4]!; // a draft order that still has line b
    const foreign = note(host[0]!.aggregateId, host.length + 1, 'many-board-x');
    await store.append([foreign]);
    host.push(foreign, ...(await order(host[0]!.aggregateId, [changeQuantity(9, 'b')])).slice(-1));
    for (let t = 0; t < 3; t++) {
      const id = `many-ticket-${process.pid}-${t}`;
      const events = Array.from({ length: 12 }, (_, n) =>
        note(id, n + 1, `many-board-${(n + t) % 2}`),
      );
      await store.append(events);
      logs.push(events);
    }

    const projections = [...projectionsFedBy('order'), boards] as AnyRowProjection[];
    const spy = spying(store);
    const cached = createRowProjector({ projections, rows, events: spy.events, log: silentLog });
    const plainProjections = projections.map((p) => ({ ...p, name: `${p.name}-plain` }));
    const plain = createRowProjector({
      projections: plainProjections,
      rows,
      events: store,
      log: silentLog,
      cacheSize: 0,
    });
    // Seeded shuffle, batches of 6, each delivered twice; then everything again, newest first.
    const records = logs.flat();
    let seed = 11;
    for (let i = records.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = seed % (i + 1);
      [records[i], records[j]] = [records[j]!, records[i]!];
    }
    const batches = Array.from({ length: Math.ceil(records.length / 6) }, (_, i) =>
      records.slice(i * 6, i * 6 + 6),
    );
    for (const batch of [...batches.flatMap((b) => [b, b]), [...logs.flat()].reverse()]) {
      const [a, b] = await Promise.all([cached(incoming(batch)), plain(incoming(batch))]);
      expect(a.failed).toEqual([]);
      expect(b.failed).toEqual([]);
    }
    // Each aggregate was read from version 1 at most once, and no event was read twice: a later
    // read starts after what was applied (or delivered whole and not read at all).
    const loads = spy.take();
    expect(loads.length).toBeGreaterThan(0);
    for (const log of logs) {
      const mine = loads.filter((l) => l.aggregateId === log[0]!.aggregateId);
      expect(mine.filter((l) => l.options.afterVersion === undefined).length).toBeLessThan(2);
      expect(mine.reduce((sum, l) => sum + l.count, 0)).toBeLessThanOrEqual(log.length);
    }
    for (const [i, projection] of projections.entries()) {
      const withCache = await storedItems(storageName(projection), 'many');
      expect(withCache.size).toBeGreaterThan(0);
      expect(withCache).toEqual(await storedItems(storageName(plainProjections[i]!), 'many'));
    }
    for (const projection of projectionsFedBy('order'))
      await expectFold(projection, 'many', logs.slice(0, 5));
    expect((await rows.get(storedKey(boards, 'many-board-x')))?.view).toEqual({
      notes: 1,
      before: 0,
    });
  });
});

describe('after a failure the next batch reads from version 1 and heals', () => {
  it('a hole in the log', async () => {
    const id = `hole-${process.pid}`;
    const spy = spying(store);
    const project = projectorOver(spy.events);
    const log = await order(id, [...variedCommands('hole', 0).slice(0, 3), changeQuantity(4)]);
    expect((await project(incoming(log.slice(0, 2)))).failed).toEqual([]);
    // Version 4 is written, version 3 is missing (a restore, a hand edit).
    const third = log[2]!;
    await tables.doc.send(
      new DeleteCommand({ TableName: tables.eventTable, Key: { aggregateId: id, version: 3 } }),
    );
    spy.take();
    expect((await project(incoming(log.slice(3)))).failed).toEqual(ids(log.slice(3)));
    expect(spy.take()).toEqual([
      { aggregateId: id, options: { afterVersion: 2, toVersion: 4 }, count: 1 },
    ]);
    await tables.doc.send(new PutCommand({ TableName: tables.eventTable, Item: third }));
    expect((await project(incoming(log.slice(3)))).failed).toEqual([]);
    expect(spy.take()).toEqual([{ aggregateId: id, options: { toVersion: 4 }, count: 4 }]);
    await expectFold(customerSummaryProjection, 'hole', [log]);
  });

  it('a poisoned reducer', async () => {
    const id = `poison-${process.pid}`;
    const log = await order(id, [
      ...variedCommands('poison', 0).slice(0, 3),
      changeQuantity(2),
      changeQuantity(3),
      changeQuantity(4),
    ]);
    let sick = true;
    const failing: AnyRowProjection = {
      ...customerSummaryProjection,
      reducer: (row, event, before) => {
        if (sick && event.meta.version === 5) throw new Error('poison');
        return customerSummaryProjection.reducer(row, event, before);
      },
    };
    const spy = spying(store);
    const project = projectorOver(spy.events, {
      projections: [failing, ...PROJECTIONS.filter((p) => p !== customerSummaryProjection)],
    });
    expect((await project(incoming(log.slice(0, 3)))).failed).toEqual([]);
    expect((await project(incoming(log.slice(3)))).failed).toEqual(ids(log.slice(4)));
    spy.take();
    sick = false; // the fix, deployed
    expect((await project(incoming(log.slice(4)))).failed).toEqual([]);
    expect(spy.take()).toEqual([{ aggregateId: id, options: { toVersion: 6 }, count: 6 }]);
    await expectFold(customerSummaryProjection, 'poison', [log]);
  });

  it('a row that cannot be saved', async () => {
    const id = `save-${process.pid}`;
    const log = await order(id, [...variedCommands('save', 0).slice(0, 3), changeQuantity(8)]);
    let broken = false;
    const flaky: ProjectionRowStore = {
      get: (key) => rows.get(key),
      save: async (row, previousRev) => {
        if (broken) throw new Error('throttled');
        return rows.save(row, previousRev);
      },
    };
    const spy = spying(store);
    const project = projectorOver(spy.events, { rows: flaky });
    expect((await project(incoming(log.slice(0, 2)))).failed).toEqual([]);
    broken = true;
    expect((await project(incoming(log.slice(2)))).failed).toEqual(ids(log.slice(2)));
    broken = false;
    spy.take();
    expect((await project(incoming(log.slice(2)))).failed).toEqual([]);
    expect(spy.take()).toEqual([{ aggregateId: id, options: { toVersion: 4 }, count: 4 }]);
    await expectFold(customerSummaryProjection, 'save', [log]);
  });
});

describe('bounded: the least recently used aggregate is evicted', () => {
  it('with a limit of 2, a third order evicts the least recent, which is then read from version 1 and projected right', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((x) => `evict-${process.pid}-${x}`) as [
      string,
      string,
      string,
    ];
    const logs = new Map<string, StoredEvent[]>();
    for (const [i, id] of [a, b, c].entries()) {
      logs.set(id, await order(id, variedCommands('evict', i).slice(0, 3)));
    }
    const spy = spying(store);
    const project = projectorOver(spy.events, { cacheSize: 2 });
    for (const id of [a, b]) expect((await project(incoming(logs.get(id)!))).failed).toEqual([]);
    // A duplicate of a's events makes it the most recent (nothing read): b is now the least.
    expect((await project(incoming(logs.get(a)!))).failed).toEqual([]);
    expect((await project(incoming(logs.get(c)!))).failed).toEqual([]);
    spy.take();
    for (const id of [a, b, c]) {
      logs.set(
        id,
        await order(id, [
          changeQuantity(6, 'b'),
          { type: 'order/removeLine', payload: { lineId: 'a' } },
        ]),
      );
    }
    const fromOne = (id: string) => ({ aggregateId: id, options: { toVersion: 5 }, count: 5 });
    const after = (id: string) => ({
      aggregateId: id,
      options: { afterVersion: 5, toVersion: 7 },
      count: 2,
    });
    // Versions 4 and 5 delivered: a and c, cached at 3, fold them; b, evicted, reads from 1.
    for (const id of [a, c, b]) {
      expect((await project(incoming(logs.get(id)!.slice(3)))).failed).toEqual([]);
    }
    expect(spy.take()).toEqual([fromOne(b)]);
    // Only version 7 of c delivered (a gap): c, still cached (at 5), reads what follows.
    await order(c, [changeQuantity(2, 'b')]);
    const seven = await order(c, [changeQuantity(3, 'b')]);
    logs.set(c, seven);
    expect((await project(incoming(seven.slice(-1)))).failed).toEqual([]);
    expect(spy.take()).toEqual([after(c)]);
    for (const projection of projectionsFedBy('order'))
      await expectFold(projection, 'evict', [...logs.values()]);
  });

  it('refuses a cache size that is not an integer >= 0 (an unbounded cache by typo)', () => {
    for (const cacheSize of [-1, 1.5, Number.NaN, Infinity]) {
      expect(() => projectorOver(store, { cacheSize })).toThrow(
        'cacheSize must be an integer >= 0',
      );
    }
  });
});

describe('the rows it wrote are kept: the next batch writes them unread', () => {
  /** `rows`, counting the reads and the writes that lost to another writer since the last take. */
  const counting = () => {
    const counts = { get: 0, getMany: 0, stale: 0 };
    const store: ProjectionRowStore = {
      get: (key) => {
        counts.get++;
        return rows.get(key);
      },
      getMany: (keys) => {
        counts.getMany++;
        return rows.getMany(keys);
      },
      save: async (row, previousRev) => {
        try {
          await rows.save(row, previousRev);
        } catch (error) {
          if (error instanceof StaleRowError) counts.stale++;
          throw error;
        }
      },
    };
    const take = () => {
      const taken = { ...counts };
      Object.assign(counts, { get: 0, getMany: 0, stale: 0 });
      return taken;
    };
    return { store, take };
  };

  /** A line no projection keyed by SKU sees (only the order's view and its customer's). */
  const addLine = (prefix: string, n: number) => ({
    type: 'order/addLine',
    payload: { lineId: `c${n}`, sku: `${prefix}-S0`, quantity: 1, unitPrice: 10 },
  });

  it('a second batch of the same orders reads no row; with rowCacheSize 0 every batch reads them', async () => {
    const [x, y] = ['x', 'y'].map((s) => `kept-${process.pid}-${s}`) as [string, string];
    // One customer: the two orders' views and the customer's summary.
    const logs = new Map<string, StoredEvent[]>();
    for (const id of [x, y]) logs.set(id, await order(id, variedCommands('kept', 0)));
    const kept = counting();
    const project = projectorOver(store, { rows: kept.store });
    expect((await project(incoming([...logs.values()].flat()))).failed).toEqual([]);
    expect(kept.take()).toEqual({ get: 0, getMany: 1, stale: 0 });
    const uncached = counting();
    const reading = projectorOver(store, { rows: uncached.store, rowCacheSize: 0 });
    for (const [i, id] of [x, y].entries()) logs.set(id, await order(id, [addLine('kept', i)]));
    const next = [...logs.values()].map((log) => log.at(-1)!);
    expect((await project(incoming(next))).failed).toEqual([]);
    expect(kept.take()).toEqual({ get: 0, getMany: 0, stale: 0 });
    // The same batch without kept rows: read (and all applied already, so nothing written).
    expect((await reading(incoming(next))).failed).toEqual([]);
    expect(uncached.take()).toEqual({ get: 0, getMany: 1, stale: 0 });
    for (const projection of projectionsFedBy('order'))
      await expectFold(projection, 'kept', [...logs.values()]);
  });

  it("another domain: a second batch of an owner's shopping lists reads no row, and the rows equal the fold", async () => {
    // Commands to a shopping list and its whole log (the helper sends to any aggregate).
    const shoppingList = order;
    const owner = `klist-owner-${process.pid}`;
    const [x, y] = ['x', 'y'].map((s) => `klist-${process.pid}-${s}`) as [string, string];
    // The two lists' views and their owner's row (owner-lists).
    const logs = new Map<string, StoredEvent[]>();
    for (const id of [x, y]) {
      logs.set(
        id,
        await shoppingList(id, [
          { type: 'shoppingList/create', payload: { name: `List ${id}`, ownerId: owner } },
        ]),
      );
    }
    const kept = counting();
    const project = projectorOver(store, { rows: kept.store });
    expect((await project(incoming([...logs.values()].flat()))).failed).toEqual([]);
    expect(kept.take()).toEqual({ get: 0, getMany: 1, stale: 0 });
    for (const id of [x, y]) {
      logs.set(
        id,
        await shoppingList(id, [
          { type: 'shoppingList/rename', payload: { name: `Renamed ${id}` } },
        ]),
      );
    }
    expect((await project(incoming([...logs.values()].map((log) => log.at(-1)!)))).failed).toEqual(
      [],
    );
    expect(kept.take()).toEqual({ get: 0, getMany: 0, stale: 0 });
    const fed = projectionsFedBy('shoppingList');
    expect(fed.length).toBeGreaterThan(1);
    for (const projection of fed) await expectFold(projection, 'klist', [...logs.values()]);
  });

  it('a kept row another instance changed since: the write fails, the row is read again and the events redone', async () => {
    const [x, y] = ['x', 'y'].map((s) => `stale-${process.pid}-${s}`) as [string, string];
    const logX = await order(x, variedCommands('stale', 0));
    const logY = await order(y, variedCommands('stale', 0));
    const mine = counting();
    const project = projectorOver(store, { rows: mine.store });
    const other = projectorOver(store);
    expect((await project(incoming(logX))).failed).toEqual([]);
    // Another instance writes the customer's summary (y's events): the row kept is now stale.
    expect((await other(incoming(logY))).failed).toEqual([]);
    mine.take();
    const moreX = await order(x, [addLine('stale', 0)]);
    expect((await project(incoming(moreX.slice(-1)))).failed).toEqual([]);
    expect(mine.take()).toEqual({ get: 1, getMany: 0, stale: 1 });
    for (const projection of projectionsFedBy('order'))
      await expectFold(projection, 'stale', [moreX, logY]);
  });

  it('refuses a row cache size that is not an integer >= 0', () => {
    for (const rowCacheSize of [-1, 1.5, Number.NaN, Infinity]) {
      expect(() => projectorOver(store, { rowCacheSize })).toThrow(
        'rowCacheSize must be an integer >= 0',
      );
    }
  });
});

describe('re-projection never trusts the cache', () => {
  it('a row deleted between two runs of one reprojector is rebuilt from the log', async () => {
    const id = `redo-${process.pid}`;
    const log = await order(id, variedCommands('redo', 0).slice(0, 3));
    const reproject = reprojectorFromEnv(tables.env, { logger: testLogger('reproject') });
    expect(await reproject([id])).toEqual([{ aggregateId: id, status: 'reprojected', version: 3 }]);
    const key = storedKey(customerSummaryProjection, 'redo-c0');
    expect(await rows.get(key)).toBeDefined();
    await tables.doc.send(new DeleteCommand({ TableName: tables.projectionsTable, Key: { key } }));
    expect(await reproject([id])).toEqual([{ aggregateId: id, status: 'reprojected', version: 3 }]);
    await expectFold(customerSummaryProjection, 'redo', [log]);
  });
});
