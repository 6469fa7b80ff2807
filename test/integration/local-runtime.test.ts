/**
 * The local runtime as users run it: both stacks over real HTTP on free ports, the gateway's
 * API Gateway behaviour, the poller's options with the real projector, a restart with a data
 * directory, and no process left behind.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startLocalRuntime, type LocalRuntime } from '../../local/emulators/runtime';
import { localClient, testEndpoint } from '../support/dynamo';
import { captureLogs } from '../support/logs';
import { orderLifecycle } from '../support/order-script';
import { authHeaders, TEST_POLLER } from '../support/runtime';

// Response bodies are checked field by field; a loose type keeps the assertions readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;

let prefixes = 0;
const prefix = () => `rt${process.pid}x${prefixes++}`;

/** A command; `headers` carry the token (authHeaders: the runtime's own identity provider). */
const send = async (base: string, body: unknown, headers: Record<string, string>) => {
  const response = await fetch(`${base}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Body,
  };
};
const get = async (url: string, headers: Record<string, string>) => {
  const response = await fetch(url, { headers });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Body,
  };
};

/** Child processes of this test process (DynamoDB Local would be one). */
const children = () =>
  execFileSync('ps', ['-o', 'pid=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('ps');
      } catch {
        return false;
      }
    });

describe('both stacks on the shared DynamoDB Local', () => {
  let runtime: LocalRuntime;
  const lines: string[] = [];

  beforeAll(async () => {
    runtime = await startLocalRuntime({
      dynamoDbEndpoint: testEndpoint(),
      decoupledPort: 0,
      coupledPort: 0,
      tablePrefix: prefix(),
      poller: { ...TEST_POLLER, pollIntervalMs: 25 },
      handlerLogLevel: 'SILENT',
      log: (line) => lines.push(line),
      // No fulfilment workflow: the lifecycle cancels its submitted order, which the workflow
      // would reject first (nothing is stocked here), and compares versions across the stacks.
      workflows: { enabled: false },
    });
  });
  afterAll(() => runtime.stop());
  const asAdmin = () => authHeaders(runtime);

  test('a full order lifecycle: decoupled catches up, coupled is fresh at once, rows agree', async () => {
    const id = `life-${process.pid}`;
    let decoupledVersion = 0;
    for (const command of orderLifecycle(id, 'c-rt')) {
      const decoupled = await send(runtime.decoupledUrl!, command, asAdmin());
      expect(decoupled.status).toBe(202);
      decoupledVersion = decoupled.body.version;
      const coupled = await send(runtime.coupledUrl!, command, asAdmin());
      expect(coupled.status).toBe(200);
      expect(coupled.body.order.version).toBe(decoupled.body.version);
    }
    expect(decoupledVersion).toBe(8);

    // Coupled: the row is there at once, no waiting.
    const coupledRow = await get(`${runtime.coupledUrl}/orders/${id}`, asAdmin());
    expect(coupledRow.status).toBe(200);
    expect(coupledRow.body).toMatchObject({ status: 'cancelled', total: 6993, version: 8 });

    // Decoupled: the projection catches up through the stream poller.
    const decoupledRow = await get(`${runtime.decoupledUrl}/orders/${id}?minVersion=8`, asAdmin());
    expect(decoupledRow.status).toBe(200);
    const comparable = ({ createdAt: _c, updatedAt: _u, ...rest }: Record<string, unknown>) => rest;
    expect(comparable(decoupledRow.body)).toEqual(comparable(coupledRow.body));

    for (const base of [runtime.decoupledUrl!, runtime.coupledUrl!]) {
      const events = await get(`${base}/orders/${id}/events?limit=4`, asAdmin());
      expect(events.status).toBe(200);
      expect(events.body.events).toHaveLength(4);
      const history = await get(`${base}/orders/${id}/history?version=3`, asAdmin());
      expect(history.body).toMatchObject({ version: 3, state: { lineCount: 2, status: 'draft' } });
      const listed = await get(`${base}/orders?customerId=c-rt&status=cancelled`, asAdmin());
      expect(listed.body.items.map((o: { id: string }) => o.id)).toContain(id);
    }

    // Deleting: the coupled answer has no row; both stacks then answer 404.
    const deleted = await send(
      runtime.coupledUrl!,
      {
        type: 'order/delete',
        aggregateId: id,
        payload: {},
      },
      asAdmin(),
    );
    expect(deleted.body.order).toBeNull();
    expect((await get(`${runtime.coupledUrl}/orders/${id}`, asAdmin())).status).toBe(404);
  });

  test('a shopping list is served at /shopping-lists/{id} on both stacks, over HTTP', async () => {
    for (const base of [runtime.decoupledUrl!, runtime.coupledUrl!]) {
      const id = `rt-list-${process.pid}-${base === runtime.coupledUrl ? 'c' : 'd'}`;
      const created = await send(
        base,
        {
          type: 'shoppingList/create',
          aggregateId: id,
          payload: { name: 'Picnic', ownerId: 'o-rt' },
        },
        asAdmin(),
      );
      expect(created.status).toBeLessThan(300);
      // Projected by the stream poller on both stacks: the gateway routes the generic route,
      // and the answer waits for version 1.
      const list = await get(`${base}/shopping-lists/${id}?minVersion=1`, asAdmin());
      expect({ base, status: list.status }).toEqual({ base, status: 200 });
      expect(list.body).toMatchObject({ id, name: 'Picnic', status: 'active', version: 1 });
      // Each collection serves its own aggregate: the list is no order.
      expect((await get(`${base}/orders/${id}`, asAdmin())).status).toBe(404);
    }
  });

  test('answers what API Gateway answers: unknown route, wrong method, oversized body', async () => {
    for (const base of [runtime.decoupledUrl!, runtime.coupledUrl!]) {
      // No token on the unknown route and the oversized body: API Gateway answers them before
      // any authorizer runs. `GET /commands` is `GET /{collection}` (behind the authorizer).
      // Four segments: no route has as many (`/nowhere` would be a collection's list).
      const unknown = await fetch(`${base}/no/route/has/this`);
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ message: 'Not Found' });
      const wrongMethod = await fetch(`${base}/commands`, { method: 'GET', headers: asAdmin() });
      expect(wrongMethod.status).toBe(404);
      expect(wrongMethod.headers.get('apigw-requestid')).toBeTruthy();
      const huge = await fetch(`${base}/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: 'x'.repeat(10 * 1024 * 1024 + 1),
      });
      expect(huge.status).toBe(413);
      expect(await huge.json()).toEqual({ message: 'Request Entity Too Large' });
      // Under API Gateway's limit but over the handler's own: the handler's 413.
      const large = await send(
        base,
        {
          type: 'order/create',
          aggregateId: 'x',
          payload: { pad: 'y'.repeat(300_000) },
        },
        asAdmin(),
      );
      expect(large.status).toBe(413);
      expect(large.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    }
  });

  test('passes headers, query strings and bodies through as payload 2.0 does, and logs one line per request', async () => {
    const id = `corr-${process.pid}`;
    const created = await send(
      runtime.decoupledUrl!,
      { type: 'order/create', aggregateId: id, payload: { customerId: 'c-2', currency: 'EUR' } },
      { 'x-correlation-id': 'corr-local-1', ...asAdmin() },
    );
    expect(created.status).toBe(202);
    expect(created.headers.get('x-correlation-id')).toBe('corr-local-1');
    expect(created.body.events[0].correlationId).toBe('corr-local-1');
    // A base64-encoded body (not a text content type) reaches the handler decoded.
    const binary = await fetch(`${runtime.decoupledUrl}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', ...asAdmin() },
      body: '{}',
    });
    expect(binary.status).toBe(415);
    const line = lines.find((l) => l.includes('POST /commands 202') && l.includes('corr-local-1'));
    expect(line).toMatch(/^\[decoupled\] POST \/commands 202 \d+\.\dms corr-local-1$/);
    const bad = await get(`${runtime.decoupledUrl}/orders/${id}?minVersion=abc`, asAdmin());
    expect(bad.status).toBe(400);
  });

  test('a poison record exhausts its retries into the on-failure file; later commands still project', async () => {
    const failures = join(mkdtempSync(join(tmpdir(), 'runtime-')), 'failed.jsonl');
    const poisoned = await startLocalRuntime({
      dynamoDbEndpoint: testEndpoint(),
      stacks: ['decoupled'],
      decoupledPort: 0,
      tablePrefix: prefix(),
      poller: { ...TEST_POLLER, pollIntervalMs: 20, maxRetries: 1, onFailureFile: failures },
      handlerLogLevel: 'SILENT',
      quiet: true,
    });
    try {
      // An item no projector can read, written straight into the event table.
      const doc = DynamoDBDocumentClient.from(localClient());
      await doc.send(
        new PutCommand({
          TableName: poisoned.tables.decoupled!.eventTable,
          Item: { aggregateId: 'poison', version: 1, type: 'not an event' },
        }),
      );
      const deadline = Date.now() + 10_000;
      // The counter moves once the line is written (the file exists a moment earlier).
      while (poisoned.poller!.stats().failedRecords < 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const lines = readFileSync(failures, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(1);
      const failure = JSON.parse(lines[0]!);
      // The shard moved on: a command sent after the poison record is projected.
      const id = `after-poison-${process.pid}`;
      const created = await send(
        poisoned.decoupledUrl!,
        {
          type: 'order/create',
          aggregateId: id,
          payload: { customerId: 'c-3', currency: 'EUR' },
        },
        authHeaders(poisoned),
      );
      const row = await get(
        `${poisoned.decoupledUrl}/orders/${id}?minVersion=${created.body.version}`,
        authHeaders(poisoned),
      );
      expect(row.status).toBe(200);
      expect(failure.requestContext.condition).toBe('RetryAttemptsExhausted');
      expect(failure.records.map((r: Body) => r.dynamodb.Keys.aggregateId.S)).toEqual(['poison']);
      expect(poisoned.poller!.stats().failedRecords).toBe(1);
    } finally {
      await poisoned.stop();
    }
  });
});

test('a fresh runtime logs no WARN or ERROR on its first commands (happy path)', async () => {
  const id = `first-${process.pid}`;
  const { lines } = await captureLogs(async () => {
    // As `npm start` logs (handlers and pollers at WARN), on tables of its own.
    const fresh = await startLocalRuntime({
      dynamoDbEndpoint: testEndpoint(),
      decoupledPort: 0,
      coupledPort: 0,
      tablePrefix: prefix(),
      poller: { ...TEST_POLLER, pollIntervalMs: 25 },
      handlerLogLevel: 'WARN',
      quiet: true,
    });
    try {
      const create = {
        type: 'order/create',
        aggregateId: id,
        payload: { customerId: 'c-f', currency: 'EUR' },
      };
      expect((await send(fresh.decoupledUrl!, create, authHeaders(fresh))).status).toBe(202);
      expect((await send(fresh.coupledUrl!, create, authHeaders(fresh))).status).toBe(200);
      // Every poller has read its shard's first record: both projectors, then both notifiers
      // (the projections tables' streams; a few polls after the rows were written).
      expect(
        (await get(`${fresh.decoupledUrl}/orders/${id}?minVersion=1`, authHeaders(fresh))).status,
      ).toBe(200);
      const deadline = Date.now() + 10_000;
      while (fresh.coupledPoller!.stats().delivered < 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(fresh.coupledPoller!.stats().delivered).toBe(1);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await fresh.stop();
    }
  });
  expect(lines.filter((line) => line.level !== 'INFO' && line.level !== 'DEBUG')).toEqual([]);
});

test('with --data-dir the data survives a restart; stopping leaves no process behind', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'runtime-data-'));
  const before = children();
  const options = {
    dataDir,
    decoupledPort: 0,
    coupledPort: 0,
    quiet: true,
    handlerLogLevel: 'SILENT' as const,
    poller: { ...TEST_POLLER, pollIntervalMs: 25 },
  };
  const id = `kept-${process.pid}`;
  const first = await startLocalRuntime(options);
  try {
    expect(first.dynamoDbPid).toBeDefined();
    // DynamoDB Local runs under its watchdog, a child of this process.
    expect(children().length).toBe(before.length + 1);
    expect(readFileSync(`/proc/${first.dynamoDbPid}/cmdline`, 'utf8')).toMatch(/^java\0/);
    const command = {
      type: 'order/create',
      aggregateId: id,
      payload: { customerId: 'c-k', currency: 'EUR' },
    };
    expect((await send(first.decoupledUrl!, command, authHeaders(first))).status).toBe(202);
    expect((await send(first.coupledUrl!, command, authHeaders(first))).status).toBe(200);
    expect(
      (await get(`${first.decoupledUrl}/orders/${id}?minVersion=1`, authHeaders(first))).status,
    ).toBe(200);
  } finally {
    await first.stop();
  }
  expect(children()).toEqual(before);
  expect(existsSync(`/proc/${first.dynamoDbPid}`)).toBe(false);

  const second = await startLocalRuntime(options);
  try {
    expect(
      (await get(`${second.coupledUrl}/orders/${id}`, authHeaders(second))).body,
    ).toMatchObject({ id, version: 1 });
    expect(
      (await get(`${second.decoupledUrl}/orders/${id}`, authHeaders(second))).body,
    ).toMatchObject({
      id,
      version: 1,
    });
    // The history is there too: a second create is refused, the next command is version 2.
    const again = await send(
      second.decoupledUrl!,
      {
        type: 'order/create',
        aggregateId: id,
        payload: { customerId: 'c-k', currency: 'EUR' },
      },
      authHeaders(second),
    );
    expect(again.status).toBe(409);
    const next = await send(
      second.decoupledUrl!,
      {
        type: 'order/submit',
        aggregateId: id,
        payload: {},
      },
      authHeaders(second),
    );
    expect(next.status).toBe(422); // an empty order cannot be submitted: the rule sees the kept state
  } finally {
    await second.stop();
  }
  expect(children()).toEqual(before);
}, 180_000); // two starts of DynamoDB Local: slow on a busy machine
