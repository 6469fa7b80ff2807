/**
 * Two versions of one declared projection side by side (customer-summary v1 and v2): the live
 * projector keeps both up to date, the query route serves the lowest listed version unless
 * SERVED_PROJECTION_VERSIONS says otherwise, and switching back is a configuration change.
 */
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import { toAction } from '../../lambdas/core/events/events';
import {
  type AnyRowProjection,
  foldRows,
  storedKey,
} from '../../lambdas/core/projections/row-projection';
import {
  parseServedVersions,
  servedProjections,
  ServedVersionsError,
} from '../../lambdas/core/projections/served-versions';
import {
  customerSummaryProjection,
  customerSummaryV2Projection,
  removedLinesProjection,
} from '../../lambdas/domain/order/projections';
import { ENV } from '../../lambdas/handlers/environment';
import {
  commandHandlerFromEnv,
  projectorHandlerFromEnv,
  coupledHandlerFromEnv,
  queryHandlerFromEnv,
} from '../../lambdas/handlers/wiring';
import { parseCli, UsageError } from '../../local/tools/cli';
import { createTestTables, type TestTables } from '../support/dynamo';
import { bodyOf, command, httpEvent } from '../support/http-events';
import { testLogger } from '../support/logs';
import { streamEvent, streamRecord } from '../support/stream-events';

const BOTH: AnyRowProjection[] = [
  customerSummaryProjection,
  customerSummaryV2Projection,
  removedLinesProjection,
];

let tables: TestTables;
beforeAll(async () => {
  tables = await createTestTables();
});
afterAll(() => tables.drop());

const readRow = async (
  env: Record<string, string>,
  key: string,
  handlerFromEnv: typeof queryHandlerFromEnv | typeof coupledHandlerFromEnv = queryHandlerFromEnv,
) => {
  const query = handlerFromEnv(env, { logger: testLogger('query'), projections: BOTH });
  return query(
    httpEvent({
      routeKey: 'GET /read-models/{name}/{key}',
      pathParameters: { name: 'customer-summary', key },
    }),
  );
};

describe('side-by-side versions of a declared projection', () => {
  it('the live projector keeps both versions equal to their folds; the route serves the configured one', async () => {
    const send = commandHandlerFromEnv(tables.env, { logger: testLogger('command') });
    const project = projectorHandlerFromEnv(tables.env, {
      logger: testLogger('projector'),
      projections: BOTH,
    });
    const store = new DynamoDbEventStore(tables.doc, tables.eventTable);
    const customer = `sv-${process.pid}`;
    const ids = ['a', 'b', 'c'].map((s) => `sv-${process.pid}-${s}`);
    for (const [i, aggregateId] of ids.entries()) {
      for (const c of [
        { type: 'order/create', payload: { customerId: customer, currency: 'EUR' } },
        { type: 'order/addLine', payload: { lineId: 'l', sku: 'S', quantity: 2, unitPrice: 5 } },
        ...(i > 0 ? [{ type: 'order/removeLine', payload: { lineId: 'l' } }] : []),
        ...(i === 2 ? [{ type: 'order/cancel', payload: {} }] : []),
      ]) {
        expect((await send(command({ ...c, aggregateId }))).statusCode).toBe(202);
      }
    }
    const logs = await Promise.all(ids.map((id) => store.load(id)));
    const records = logs.flat().map((e) => streamRecord(e));
    expect((await project(streamEvent(records))).batchItemFailures).toEqual([]);

    const rows = new DynamoDbProjectionRows(tables.doc, tables.projectionsTable);
    for (const projection of BOTH.slice(0, 2)) {
      const folded = foldRows(
        projection,
        logs.map((log) => log.map(toAction)),
      );
      expect((await rows.get(storedKey(projection, customer)))?.view).toEqual(folded.get(customer));
    }

    // Default: the lowest listed version (a new version is never served before a switch).
    const byDefault = bodyOf<{ version: number; row: Record<string, unknown> }>(
      await readRow(tables.env, customer),
    );
    expect(byDefault.version).toBe(1);
    expect(byDefault.row).not.toHaveProperty('ordersPlaced');

    // Switch by configuration, on the query function and the coupled one (before: the coupled
    // function ignored the setting and served v1)...
    for (const handlerFromEnv of [queryHandlerFromEnv, coupledHandlerFromEnv]) {
      const switched = bodyOf<{ version: number; row: Record<string, unknown> }>(
        await readRow(
          { ...tables.env, [ENV.servedProjectionVersions]: 'customer-summary=2' },
          customer,
          handlerFromEnv,
        ),
      );
      expect(switched.version).toBe(2);
      expect(switched.row).toMatchObject({ ordersPlaced: 3, linesRemoved: 2 });

      // ...and back (the rollback), with no code change.
      const back = bodyOf<{ version: number }>(
        await readRow(
          { ...tables.env, [ENV.servedProjectionVersions]: 'customer-summary=1' },
          customer,
          handlerFromEnv,
        ),
      );
      expect(back.version).toBe(1);
    }
  });

  it('a configured version the deployment does not list fails at cold start, naming the listed ones', () => {
    expect(() =>
      queryHandlerFromEnv(
        { ...tables.env, [ENV.servedProjectionVersions]: 'customer-summary=3' },
        { logger: testLogger('query'), projections: BOTH },
      ),
    ).toThrow(
      /customer-summary v3 is not in this deployment \(customer-summary: v1, v2; removed-lines: v2\)/,
    );
  });

  it('parses name=version lists and refuses anything else', () => {
    expect(parseServedVersions(' customer-summary=2, removed-lines=v1 ')).toEqual(
      new Map([
        ['customer-summary', 2],
        ['removed-lines', 1],
      ]),
    );
    expect(parseServedVersions(undefined)).toEqual(new Map());
    for (const bad of ['customer-summary', 'x=y', 'a=1,a=2', 'Caps=1']) {
      expect(() => parseServedVersions(bad)).toThrow(ServedVersionsError);
    }
    expect(servedProjections(BOTH, undefined).map((p) => [p.name, p.version])).toEqual([
      ['customer-summary', 1],
      ['removed-lines', 2],
    ]);
  });
});

describe('configuration entry points', () => {
  it('npm start -- --serve checks the list against the deployment (nothing starts on a typo)', () => {
    expect(() => parseCli(['--serve', 'customer-summary=9'])).toThrow(UsageError);
    const parsed = parseCli(['--serve', 'customer-summary=1']);
    expect(parsed.help === false && parsed.options.servedProjectionVersions).toBe(
      'customer-summary=1',
    );
  });
});
