/**
 * The rebuild function of the Step Functions state machine, on DynamoDB Local, invoked as the
 * state machine does: start, then each segment again and again until done (here every
 * invocation is told by its Lambda clock to stop after one page, as a segment would be near the
 * 15-minute limit), then finish. The rows equal the fold; bad input names what is listed.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { toAction } from '../../lambdas/core/events/events';
import { DynamoDbRebuildState } from '../../lambdas/core/repair/dynamodb-rebuild-state';
import {
  type AnyRowProjection,
  foldRows,
  mergeItems,
  rowKeyOfItem,
} from '../../lambdas/core/projections/row-projection';
import {
  customerSummaryProjection,
  type RemovedLines,
  removedLinesProjection,
} from '../../lambdas/domain/order/projections';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import {
  createRebuildHandler,
  rebuildHandlerFromEnv,
  STOP_BEFORE_TIMEOUT_MS,
} from '../../lambdas/handlers/rebuild';
import { createTestTables, type TestTables } from '../support/dynamo';
import { seedOrders } from '../support/event-log';
import { testLogger } from '../support/logs';

let tables: TestTables;
beforeAll(async () => {
  tables = await createTestTables();
});
afterAll(() => tables.drop());

it('start, segments resumed across invocations, finish: rows equal the fold', async () => {
  const logs = await seedOrders(
    tables.doc,
    tables.eventTable,
    'fn',
    150,
    new Date(Date.now() - 3_600_000),
  );
  const handler = rebuildHandlerFromEnv(tables.env, PROJECTIONS, testLogger('rebuild'));
  const input = { projection: 'removed-lines', version: 2, segments: 3 };
  // The state machine's Start passes the execution input as it is: no action, no until.
  const started = (await handler(input)) as {
    items: number[];
    until: null;
  };
  expect(started).toMatchObject({
    build: 'removed-lines@v2',
    resumed: false,
    items: [0, 1, 2],
    until: null,
  });

  let invocations = 0;
  for (const segment of started.items) {
    for (;;) {
      invocations++;
      // One page per invocation: the clock says "time to stop" from the second check on.
      let checks = 0;
      const context = {
        getRemainingTimeInMillis: () => (checks++ === 0 ? 900_000 : STOP_BEFORE_TIMEOUT_MS - 1),
      };
      const out = (await handler(
        { action: 'segment', ...input, until: null, segment, pageSize: 40 },
        context,
      )) as { done: boolean };
      if (out.done) break;
    }
  }
  expect(invocations).toBeGreaterThan(6);
  const finished = await handler({ action: 'finish', ...input, until: null });
  expect(finished).toMatchObject({
    done: true,
    caughtUp: true,
    failures: 0,
    events: logs.flat().length,
  });

  const { Items = [] } = await tables.doc.send(
    new ScanCommand({ TableName: tables.projectionsTable, ConsistentRead: true }),
  );
  // removed-lines is sharded: a row is the merge of its items, as the route serves it.
  const items = new Map<string, RemovedLines[]>();
  for (const item of Items.filter((i) => String(i.key).startsWith('removed-lines@v2#'))) {
    const rowKey = rowKeyOfItem(removedLinesProjection, String(item.key));
    items.set(rowKey, [...(items.get(rowKey) ?? []), item.view as RemovedLines]);
  }
  const stored = new Map(
    [...items].map(([key, views]) => [key, mergeItems(removedLinesProjection, views)]),
  );
  expect(stored).toEqual(
    foldRows(
      removedLinesProjection,
      logs.map((log) => log.map(toAction)),
    ),
  );
});

it('a build with events it could not apply finishes failed, not caught up; started again it starts over', async () => {
  const logs = await seedOrders(
    tables.doc,
    tables.eventTable,
    'ff',
    20,
    new Date(Date.now() - 3_600_000),
  );
  const broken = logs[3]![0]!.aggregateId;
  const fixed: AnyRowProjection = { ...customerSummaryProjection, version: 7 };
  const buggy: AnyRowProjection = {
    ...fixed,
    reducer: (row, event, before) => {
      if (event.meta.aggregateId === broken) throw new Error('a bug in the reducer');
      return fixed.reducer(row, event, before);
    },
  };
  const input = { projection: 'customer-summary', version: 7, segments: 1, until: null };
  const run = async (projection: AnyRowProjection) => {
    const handler = rebuildHandlerFromEnv(tables.env, [projection], testLogger('rebuild'));
    const started = await handler(input);
    for (;;) {
      const out = (await handler({ action: 'segment', ...input, segment: 0 })) as {
        done: boolean;
      };
      if (out.done) break;
    }
    return { started, finished: await handler({ action: 'finish', ...input }) };
  };
  const first = await run(buggy);
  expect(first.finished).toMatchObject({
    status: 'failed',
    done: true,
    caughtUp: false,
    failures: 1,
    firstFailure: expect.stringContaining(`${broken} v1: a bug in the reducer`) as string,
  });
  const state = new DynamoDbRebuildState(tables.doc, tables.projectionsTable);
  expect(await state.getHeader('customer-summary@v7')).toMatchObject({ status: 'failed' });
  // The state machine started again with the same input, the bug fixed: a fresh run.
  const second = await run(fixed);
  expect(second.started).toMatchObject({ resumed: false, retried: true });
  expect(second.finished).toMatchObject({ status: 'complete', caughtUp: true, failures: 0 });
});

it('refuses an until inside the safety margin, before writing anything', async () => {
  const now = Date.now();
  const handler = createRebuildHandler({
    projections: PROJECTIONS,
    client: tables.client,
    doc: tables.doc,
    eventTable: tables.eventTable,
    projectionsTable: tables.projectionsTable,
    log: testLogger('rebuild'),
    now: () => now,
  });
  const until = new Date(now - 30_000).toISOString();
  await expect(
    handler({ projection: 'removed-lines', version: 2, segments: 2, until }),
  ).rejects.toThrow(
    new RegExp(`until ${until.replace(/[.]/g, '\\.')} is not at least 60 s in the past`),
  );
  const state = new DynamoDbRebuildState(tables.doc, tables.projectionsTable);
  expect(await state.getHeader(`removed-lines@v2@${until}`)).toBeUndefined();
  // A minute ago is accepted.
  const older = new Date(now - 60_000).toISOString();
  await expect(
    handler({ projection: 'removed-lines', version: 2, segments: 1, until: older }),
  ).resolves.toMatchObject({ build: `removed-lines@v2@${older}`, resumed: false });
});

it('refuses a projection or version the deployment does not list, naming the listed ones', async () => {
  const handler = rebuildHandlerFromEnv(tables.env, PROJECTIONS, testLogger('rebuild'));
  await expect(
    handler({ action: 'start', projection: 'removed-lines', version: 9, segments: 2 }),
  ).rejects.toThrow(
    'removed-lines v9 is not in this deployment (order: v1; customer-summary: v1; removed-lines: v2; ' +
      PROJECTIONS.slice(3)
        .map(({ name, version }) => `${name}: v${version}`)
        .join('; ') +
      ')',
  );
  await expect(
    handler({ action: 'start', projection: 'x', version: 1, segments: 0 }),
  ).rejects.toThrow(/invalid rebuild input: segments/);
});
