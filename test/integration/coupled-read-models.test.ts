/**
 * Declared projections in the coupled stack (issue 11, item 1): commands through the coupled
 * gateway over real HTTP, the event table's stream through the coupled stack's own poller to a
 * projector that runs only PROJECTIONS, and `GET /read-models/{name}/{key}` through the same
 * gateway, on DynamoDB Local. The rows must equal a from-scratch fold of the event log (read
 * back through `/orders/{id}/events`), and the order rows stay the command's own.
 */
import { toAction, type StoredEvent } from '../../lambdas/core/events/events';
import { foldRows } from '../../lambdas/core/projections/row-projection';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import { ENV } from '../../lambdas/handlers/environment';
import { projectorHandlerFromEnv } from '../../lambdas/handlers/wiring';
import {
  coupledFailureFile,
  type LocalRuntime,
  startLocalRuntime,
} from '../../local/emulators/runtime';
import { testEndpoint } from '../support/dynamo';
import { testLogger } from '../support/logs';
import { orderLifecycle } from '../support/order-script';
import { authHeaders, TEST_POLLER } from '../support/runtime';

// Response bodies are checked field by field; a loose type keeps the assertions readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;

const run = process.pid;
const customer = `crm-${run}`;
let runtime: LocalRuntime;
let base: string;

const post = async (body: unknown) => {
  const response = await fetch(`${base}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders(runtime) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Body };
};
const get = async (path: string) => {
  const response = await fetch(`${base}${path}`, { headers: authHeaders(runtime) });
  return { status: response.status, body: (await response.json()) as Body };
};

beforeAll(async () => {
  runtime = await startLocalRuntime({
    dynamoDbEndpoint: testEndpoint(),
    stacks: ['coupled'],
    // No fulfilment workflow: the read model counts this test's own orders, as submitted.
    workflows: { enabled: false },
    coupledPort: 0,
    tablePrefix: `crm${run}`,
    poller: { ...TEST_POLLER, pollIntervalMs: 25 },
    handlerLogLevel: 'SILENT',
    quiet: true,
  });
  base = runtime.coupledUrl!;
});
afterAll(() => runtime.stop());

/** Polls a read-model row until it equals `expected` or 20 s pass; answers the last body. */
const rowWhenEqual = async (path: string, expected: unknown): Promise<Body> => {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { status, body } = await get(path);
    if (
      (status === 200 && JSON.stringify(body.row) === JSON.stringify(expected)) ||
      Date.now() > deadline
    )
      return { status, ...body };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

test('the coupled stack runs a projector of the declared projections on its event stream, served by its gateway', async () => {
  expect(runtime.coupledPoller).toBeDefined();
  const ids = [0, 1, 2].map((i) => `crm-${run}-${i}`);
  // Three lifecycles (cancelled), a fourth stopped at submit: every status counter moves.
  const scripts = [
    ...ids.map((id) => orderLifecycle(id, customer)),
    orderLifecycle(`crm-${run}-3`, customer).slice(0, 7),
  ];
  const rows: Body[] = [];
  for (const script of scripts) {
    for (const command of script) {
      const { status, body } = await post(command);
      expect({ command: command.type, status }).toEqual({ command: command.type, status: 200 });
      rows.push(body.order);
    }
  }

  // The log as the API serves it, folded from scratch: what every row must converge to.
  const logs: StoredEvent[][] = [];
  for (const script of scripts) {
    const { body } = await get(`/orders/${script[0]!.aggregateId}/events`);
    logs.push(body.events);
  }
  const [summary, removed] = ['customer-summary', 'removed-lines'].map((name) => {
    const projection = PROJECTIONS.find((p) => p.name === name)!;
    return {
      projection,
      rows: foldRows(
        projection,
        logs.map((log) => log.map(toAction)),
      ),
    };
  });
  const expectedSummary = summary!.rows.get(customer);
  expect(expectedSummary).toMatchObject({
    ordersByStatus: { draft: 0, submitted: 1, cancelled: 3, deleted: 0 },
  });
  expect(await rowWhenEqual(`/read-models/customer-summary/${customer}`, expectedSummary)).toEqual({
    status: 200,
    readModel: 'customer-summary',
    version: summary!.projection.version,
    key: customer,
    row: expectedSummary,
  });
  const expectedRemoved = removed!.rows.get('B');
  expect(expectedRemoved).toEqual({ sku: 'B', timesRemoved: 4, quantityRemoved: 4 });
  expect(await rowWhenEqual('/read-models/removed-lines/B', expectedRemoved)).toMatchObject({
    status: 200,
    row: expectedRemoved,
  });

  // The order rows are the commands' own (written with the events), not the projector's.
  for (const script of scripts) {
    const id = script[0]!.aggregateId;
    const { status, body } = await get(`/orders/${id}`);
    expect(status).toBe(200);
    expect(body).toEqual(rows[scripts.indexOf(script) * 8 + script.length - 1]);
  }
  expect(runtime.coupledPoller!.stats().failedRecords).toBe(0);
});

test('an unknown read model is a 404 naming the ones this stack serves', async () => {
  const { status, body } = await get('/read-models/nothing-here/x');
  expect(status).toBe(404);
  expect(body.error.details.readModels).toEqual(PROJECTIONS.map((p) => p.name));
});

test('a projector with neither the read-model table nor the projections table refuses to start', () => {
  expect(() =>
    projectorHandlerFromEnv(
      { [ENV.eventTable]: 'events', [ENV.dynamoDbEndpoint]: testEndpoint() },
      { logger: testLogger('projector') },
    ),
  ).toThrow(/nothing to project/);
});

test("the coupled projector's on-failure file sits beside the decoupled one's", () => {
  expect(coupledFailureFile('.local-data/failed-records.jsonl')).toBe(
    '.local-data/failed-records.coupled.jsonl',
  );
});
