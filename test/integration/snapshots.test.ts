/**
 * Snapshots and idempotency markers through the handlers the cloud runs, on DynamoDB Local, in
 * both profiles: a resent commandId at 10,000 events of history (before and after a snapshot),
 * invalidation by a reducer change, a corrupt snapshot, and writers racing while snapshots are
 * written.
 */
import { savedSnapshot as savedInStore } from '../support/snapshots';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AnyAggregate } from '../../lambdas/core/command/aggregate';
import { createCommandRunner } from '../../lambdas/core/command/command-runner';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import { storedKey } from '../../lambdas/core/projections/row-projection';
import { DynamoDbSnapshotStore } from '../../lambdas/core/command/dynamodb-snapshot-store';
import { currentSchemaVersion } from '../../lambdas/core/events/event-codec';
import type { StoredEvent } from '../../lambdas/core/events/events';
import { toAction } from '../../lambdas/core/events/events';
import { encodeSnapshot, snapshotKeyOf } from '../../lambdas/core/command/snapshots';
import { foldEvents } from '../../lambdas/core/command/aggregate';
import { orderAggregate, orderReducer, type OrderView } from '../../lambdas/domain/order';
import { orderViewProjection } from '../../lambdas/domain/order/projections';
import { COLLECTIONS, PROJECTIONS } from '../../lambdas/handlers/deployment';
import { createCommandApiHandler } from '../../lambdas/handlers/command-api';
import { appendWithViews, createCoupledApiHandler } from '../../lambdas/handlers/coupled-api';
import { ENV } from '../../lambdas/handlers/environment';
import { commandHandlerFromEnv, coupledHandlerFromEnv } from '../../lambdas/handlers/wiring';
import type { HttpResult } from '../../lambdas/handlers/http';
import { createTestTables, type TestTables } from '../support/dynamo';
import { bodyOf, command } from '../support/http-events';
import { captureLogs, testLogger } from '../support/logs';

type Profile = 'decoupled' | 'coupled';
const order = orderAggregate as AnyAggregate;
type Send = (body: Record<string, unknown>) => Promise<HttpResult>;

let tables: TestTables;
let store: DynamoDbEventStore;
let snapshots: DynamoDbSnapshotStore;
let rows: DynamoDbProjectionRows;
const logger = testLogger('snapshots');

beforeAll(async () => {
  tables = await createTestTables();
  store = new DynamoDbEventStore(tables.doc, tables.eventTable, {
    commandsTable: tables.commandsTable,
  });
  snapshots = new DynamoDbSnapshotStore(tables.doc, tables.snapshotsTable);
  rows = new DynamoDbProjectionRows(tables.doc, tables.projectionsTable);
});
afterAll(() => tables.drop());

/** The order's view as the coupled command stored it (`order@v1#<id>`). */
/**
 * The snapshot of `id` under `key` once one at `version` or later is stored: a snapshot is
 * written after the answer is decided, and one over its budget lands after the answer.
 */
const savedSnapshot = (id: string, key: string, version = 1) =>
  savedInStore(snapshots, id, key, version);
const storedView = async (id: string) => (await rows.get(storedKey(orderViewProjection, id)))?.view;

/** The profile's handler as wired from its environment, with a snapshot interval. */
const handlerFor = (profile: Profile, every: number): Send => {
  const env = { ...tables.env, [ENV.snapshotEvery]: String(every) };
  const options = { logger, commandDeadlineMs: 60_000 };
  const handler =
    profile === 'coupled'
      ? coupledHandlerFromEnv(env, options)
      : commandHandlerFromEnv(env, options);
  return (body) => handler(command(body));
};

/** The same, but over a given aggregate declaration (a changed reducer). */
const handlerWith = (profile: Profile, aggregate: AnyAggregate, every: number): Send => {
  const runner = createCommandRunner({
    store,
    snapshots: { store: snapshots, every },
    aggregates: [aggregate],
    ...(profile === 'coupled' && {
      append: appendWithViews(store, { collections: COLLECTIONS, rows }),
    }),
  });
  const handler =
    profile === 'coupled'
      ? createCoupledApiHandler({
          logger,
          events: store,
          readModels: { projections: PROJECTIONS, rows },
          collections: COLLECTIONS,
          runCommand: runner,
        })
      : createCommandApiHandler({ logger, runCommand: runner });
  return (body) => handler(command(body));
};

let n = 0;
const newId = (profile: Profile) => `snap-${profile}-${process.pid}-${n++}`;
const create = (aggregateId: string) => ({
  type: 'order/create',
  aggregateId,
  payload: { customerId: 'c-1', currency: 'EUR' },
});
const addLine = (aggregateId: string, lineId = 'a') => ({
  type: 'order/addLine',
  aggregateId,
  payload: { lineId, sku: 'S', quantity: 1, unitPrice: 100 },
});
const changeQuantity = (aggregateId: string, quantity: number, commandId?: string) => ({
  type: 'order/changeQuantity',
  aggregateId,
  payload: { lineId: 'a', quantity },
  ...(commandId && { commandId }),
});

/** Appends `count` quantityChanged events through the store, 97 per transaction. */
const seed = async (aggregateId: string, count: number) => {
  let version = await store.currentVersion(aggregateId);
  for (let done = 0; done < count;) {
    const size = Math.min(97, count - done);
    const batch: StoredEvent[] = Array.from({ length: size }, (_, i) => ({
      aggregateId,
      version: version + i + 1,
      aggregateType: 'order',
      type: 'order/quantityChanged',
      payload: { lineId: 'a', quantity: ((version + i) % 50) + 1 },
      eventId: `seed-${version + i + 1}`,
      occurredAt: '2026-01-01T00:00:00.000Z',
      commandId: `seed-${aggregateId}-${version}`,
      commandHash: 'seed',
      correlationId: 'seed',
      causationId: 'seed',
      schemaVersion: currentSchemaVersion('order/quantityChanged'),
    }));
    await store.append(batch);
    version += size;
    done += size;
  }
  return version;
};

const fold = async (aggregateId: string) =>
  foldEvents(order, (await store.load(aggregateId)).map(toAction)) as OrderView;

const ok = (result: HttpResult) => {
  expect(result.statusCode).toBeLessThan(300);
  return result;
};

describe.each<Profile>(['decoupled', 'coupled'])('%s profile', (profile) => {
  test('a resent commandId at 10,000 events: a replay, nothing appended; again after a snapshot', async () => {
    const send = handlerFor(profile, 100);
    const id = newId(profile);
    ok(await send(create(id)));
    ok(await send(addLine(id)));
    ok(await send(changeQuantity(id, 2)));
    ok(await send(changeQuantity(id, 3)));
    const fifth = ok(await send(changeQuantity(id, 7, `fifth-${id}`)));
    expect(bodyOf(fifth)).toMatchObject({ version: 5 });
    // Seeded straight into the table, as a legacy history: no snapshot exists yet.
    const head = await seed(id, 10_000 - 5);
    expect(head).toBe(10_000);
    expect(await snapshots.load(id, snapshotKeyOf(orderAggregate))).toBeUndefined();

    const resent = await send(changeQuantity(id, 7, `fifth-${id}`));
    expect(resent.statusCode).toBe(fifth.statusCode);
    expect(resent.headers?.['x-command-replayed']).toBe('true');
    // The original answer, row included (coupled: the row at version 5, not the head's).
    expect(bodyOf(resent)).toEqual(bodyOf(fifth));
    const atHead = await fold(id);
    expect(await store.currentVersion(id)).toBe(10_000);
    // That resend read the whole history once (found among the events read, or by its marker
    // in a function that never saw the order, and answered from it) and left
    // a snapshot at the head, as any long read does.
    expect(await savedSnapshot(id, snapshotKeyOf(orderAggregate), 10_000)).toEqual(
      expect.objectContaining({ version: 10_000, state: atHead }),
    );

    // A new command starts from that snapshot; then the old commandId is resent again.
    ok(await send(changeQuantity(id, 9)));
    const again = await send(changeQuantity(id, 7, `fifth-${id}`));
    expect(again.statusCode).toBe(fifth.statusCode);
    expect(again.headers?.['x-command-replayed']).toBe('true');
    expect(bodyOf(again)).toEqual(bodyOf(fifth));
    expect(await store.currentVersion(id)).toBe(10_001);
  }, 120_000);

  test('a reducer change invalidates the snapshot: full history, right answer', async () => {
    const send = handlerFor(profile, 5);
    const id = newId(profile);
    ok(await send(create(id)));
    ok(await send(addLine(id)));
    for (let q = 2; q <= 6; q++) ok(await send(changeQuantity(id, q)));
    const key = snapshotKeyOf(orderAggregate);
    // At 5; or later on a busy machine: a command that read while the save at 5 was still
    // running found no snapshot and, once that save was done, took its own (at 6 or 7).
    expect([5, 6, 7]).toContain((await savedSnapshot(id, key, 5))?.version);
    // Plant what an older reducer could have left under today's key: a state that is not the
    // fold of the events (well-formed, so only the key can tell it apart).
    const wrong = { ...(await fold(id)), total: 999_999, version: 7 };
    await tables.doc.send(
      new PutCommand({
        TableName: tables.snapshotsTable,
        Item: encodeSnapshot(
          { aggregateId: id, snapshotKey: key, version: 7, state: wrong },
          '2026-01-01T00:00:00.000Z',
        ),
      }),
    );
    // Today's code changes its reducer (another source: another key): the planted snapshot is
    // not even read, the full history is.
    const changed: AnyAggregate = {
      ...order,
      reducer: (state: unknown, event: unknown) =>
        orderReducer(state as OrderView | null, event as Parameters<typeof orderReducer>[1]),
    };
    expect(snapshotKeyOf(changed)).not.toBe(key);
    const { result, lines } = await captureLogs(() =>
      handlerWith(profile, changed, 5)(changeQuantity(id, 4)),
    );
    ok(result);
    expect(lines).toContainEqual(
      expect.objectContaining({ message: 'Long read: no usable snapshot' }),
    );
    const expected = await fold(id);
    expect(expected.total).toBe(400);
    if (profile === 'coupled') expect(bodyOf(result).order).toEqual(expected);
    // and the new reducer wrote its own snapshot, leaving the planted one alone
    expect(await savedSnapshot(id, snapshotKeyOf(changed), 8)).toMatchObject({
      version: 8,
      state: expected,
    });
  });

  test('a corrupt snapshot is ignored, logged, and the answer is right', async () => {
    const send = handlerFor(profile, 5);
    const id = newId(profile);
    ok(await send(create(id)));
    ok(await send(addLine(id)));
    for (let q = 2; q <= 4; q++) ok(await send(changeQuantity(id, q)));
    const key = snapshotKeyOf(orderAggregate);
    const good = encodeSnapshot(
      { aggregateId: id, snapshotKey: key, version: 5, state: await fold(id) },
      '2026-01-01T00:00:00.000Z',
    );
    await tables.doc.send(
      new PutCommand({
        TableName: tables.snapshotsTable,
        Item: { ...good, state: good.state.replace('"total":400', '"total":1') },
      }),
    );
    const { result, lines } = await captureLogs(() => send(changeQuantity(id, 8)));
    ok(result);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'Snapshot ignored: reading the full history',
        aggregateId: id,
      }),
    );
    const expected = await fold(id);
    expect(expected.total).toBe(800);
    if (profile === 'coupled') {
      expect(bodyOf(result).order).toEqual(expected);
      expect(await storedView(id)).toEqual(expected);
    }
  });

  test('writers racing while snapshots are written: no lost or doubled version, state = fold', async () => {
    const send = handlerFor(profile, 3);
    const id = newId(profile);
    ok(await send(create(id)));
    ok(await send(addLine(id)));
    const writers = 2;
    const each = 12;
    const answers = await Promise.all(
      Array.from({ length: writers }, (_, w) =>
        (async () => {
          const mine: HttpResult[] = [];
          for (let i = 0; i < each; i++) {
            mine.push(await send(changeQuantity(id, w * 20 + i + 1, `race-${id}-${w}-${i}`)));
          }
          return mine;
        })(),
      ),
    );
    const all = answers.flat();
    expect(all.every((a) => a.statusCode < 300)).toBe(true);
    const events = await store.load(id);
    expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
    expect(events).toHaveLength(2 + writers * each);
    // every command appended exactly once, under its own version
    const versions = all.map((a) => bodyOf<{ version: number }>(a).version);
    expect(new Set(versions).size).toBe(writers * each);
    const expected = await fold(id);
    const snapshot = await savedSnapshot(id, snapshotKeyOf(orderAggregate));
    expect(snapshot).toBeDefined();
    expect(snapshot!.state).toEqual(
      foldEvents(order, events.slice(0, snapshot!.version).map(toAction)),
    );
    if (profile === 'coupled') expect(await storedView(id)).toEqual(expected);
    // the next command, from the snapshot, still lands on the fold
    const next = ok(await send(changeQuantity(id, 1)));
    expect(bodyOf<{ version: number }>(next).version).toBe(events.length + 1);
    if (profile === 'coupled') expect(bodyOf(next).order).toEqual(await fold(id));
  });
});
