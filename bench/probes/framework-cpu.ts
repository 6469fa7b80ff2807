/**
 * What the coupled function's own code costs per command, with no I/O (issue 23 item 6;
 * docs/benchmark.md, "Cost and CPU per command"). In one process, every DynamoDB request of
 * both runners is answered in memory at the SDK's HTTP handler (NodeHttpHandler.handle): the
 * SDK still builds, signs and parses each call, but no socket, database or other process takes
 * part, so the figures move little from run to run and a CPU profile shows only code.
 *
 * - `function`: the coupled function (coupledHandlerFromEnv, the very handler the cloud runs)
 *   called with the payload 2.0 event its gateway builds, claims passed on (no gateway, no HTTP);
 *   writer push on (its subscribers' Query), as in the bench.
 * - `floor`: the bench's coupled floor (FloorRunner: the same calls, sent raw).
 *
 * Each takes turns command by command (the bench's order mix, 10 commands per order); CPU is
 * `process.cpuUsage()` around each command. The in-memory answers: a Query of an event table
 * returns the events written with that aggregate id after the key condition's version; a
 * transaction or a write is accepted; any other read finds nothing.
 *
 * Run: node --import tsx bench/probes/framework-cpu.ts [commands per runner, default 3000]
 * (PROBE_CPU_PROFILE=<file> writes a CPU profile of the measured commands; read it with
 * bench/probes/cpu-summary.ts. PROBE_ONLY=function or floor runs that one alone, so that two
 * profiles can be compared with cpu-summary.ts --minus.)
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { Logger } from '@aws-lambda-powertools/logger';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ENV } from '../../lambdas/handlers/environment';
import { coupledHandlerFromEnv } from '../../lambdas/handlers/wiring';
import { lambdaContext } from '../../local/emulators/lambda-context';
import { localFunctionEnv } from '../../local/emulators/tables';
import { OrderSession } from '../orders';
import { FLOOR_VIEW, FloorRunner } from '../runners';
import { localFloorDoc } from '../targets';
import { directEvent } from '../direct-event';

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

/** The events written, per table and aggregate id, in the shape they were sent (marshalled). */
const written = new Map<string, Item[]>();
const keyOf = (table: string, id: unknown) => `${table}\u0000${JSON.stringify(id)}`;

/** Answers one DynamoDB request in memory: the JSON body DynamoDB would send. */
const answer = (target: string, request: Record<string, unknown>): unknown => {
  switch (target) {
    case 'Query': {
      const values = request.ExpressionAttributeValues as Record<string, AttributeValue>;
      const table = request.TableName as string;
      const events = written.get(keyOf(table, values[':id'])) ?? [];
      const after = Number((values[':after'] ?? { N: '0' }).N);
      const items = events.filter((e) => Number(e.version!.N) > after);
      return { Items: items, Count: items.length, ScannedCount: items.length };
    }
    case 'TransactWriteItems':
      for (const entry of request.TransactItems as { Put?: { TableName: string; Item: Item } }[]) {
        if (!entry.Put?.Item.version) continue;
        const key = keyOf(entry.Put.TableName, entry.Put.Item.aggregateId);
        written.set(key, [...(written.get(key) ?? []), entry.Put.Item]);
      }
      return {};
    case 'PutItem': {
      const { TableName, Item: item } = request as { TableName: string; Item: Item };
      if (item.version && item.aggregateId && !item.snapshotKey) {
        const key = keyOf(TableName, item.aggregateId);
        written.set(key, [...(written.get(key) ?? []), item]);
      }
      return {};
    }
    case 'GetItem':
      return {};
    case 'BatchGetItem':
      return { Responses: {}, UnprocessedKeys: {} };
    case 'BatchWriteItem':
      return { UnprocessedItems: {} };
    default:
      return {};
  }
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();
NodeHttpHandler.prototype.handle = function (request: {
  headers: Record<string, string>;
  body?: string | Uint8Array;
}) {
  const target = (request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
  const text = typeof request.body === 'string' ? request.body : decoder.decode(request.body);
  const body = JSON.stringify(answer(target, JSON.parse(text || '{}') as Record<string, unknown>));
  return Promise.resolve({
    response: {
      statusCode: 200,
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: encoder.encode(body),
    },
  });
} as never;

const n = Number(process.argv[2] ?? 3000);
const warmup = Math.min(1000, Math.ceil(n / 3));
const profileFile = process.env.PROBE_CPU_PROFILE;

const main = async () => {
  const endpoint = 'http://127.0.0.1:1';
  const stack = {
    eventTable: 'fc-events',
    projectionsTable: 'fc-projections',
    snapshotsTable: 'fc-snapshots',
    commandsTable: 'fc-commands',
  };
  const handler = coupledHandlerFromEnv(
    {
      ...localFunctionEnv(stack, endpoint),
      [ENV.subscriptionsTable]: 'fc-subscriptions',
      [ENV.websocketManagementEndpoint]: 'http://127.0.0.1:1',
    },
    { logger: new Logger({ serviceName: 'coupled', logLevel: 'ERROR' }) },
  );
  const doc = localFloorDoc(endpoint);
  const floor = new FloorRunner(
    'floor',
    'f',
    'floor-coupled',
    doc,
    {
      eventTable: 'ff-events',
      projectionsTable: 'ff-projections',
      snapshotsTable: 'ff-snapshots',
      commandsTable: 'ff-commands',
      subscriptionsTable: 'ff-subscriptions',
    },
    FLOOR_VIEW,
  );
  const claims = { sub: 'admin', 'cognito:groups': '[admin]', exp: '9999999999' };
  const runners = {
    function: async (aggregateId: string, command: ReturnType<OrderSession['next']>['command']) => {
      const result = (await handler(
        directEvent(JSON.stringify({ ...command, aggregateId }), claims),
        lambdaContext('coupled-api'),
      )) as { statusCode: number; body: string };
      if (result.statusCode !== 200)
        throw new Error(`function: ${result.statusCode} ${result.body}`);
    },
    floor: async (aggregateId: string, command: ReturnType<OrderSession['next']>['command']) => {
      const outcome = await floor.execute(aggregateId, command, { visible: true });
      if (!outcome.ok) throw new Error(`floor: ${outcome.code}`);
    },
  };
  const only = process.env.PROBE_ONLY as keyof typeof runners | undefined;
  if (only !== undefined && !(only in runners))
    throw new Error(`PROBE_ONLY must be one of ${Object.keys(runners).join(', ')}, not ${only}`);
  const names = (only ? [only] : Object.keys(runners)) as (keyof typeof runners)[];
  const runId = `fw${Date.now().toString(36)}`;
  const sessions = Object.fromEntries(
    names.map((name) => [name, new OrderSession(`${runId}-${name}`, 10)]),
  );
  const cpu = new Map<string, number>(names.map((name) => [name, 0]));
  const inspector = profileFile ? new Session() : undefined;
  const post = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) =>
      inspector!.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  for (let i = 0; i < warmup + n; i++) {
    if (i === warmup && inspector) {
      inspector.connect();
      await post('Profiler.enable');
      await post('Profiler.start');
    }
    for (const name of i % 2 === 0 ? names : [...names].reverse()) {
      const { aggregateId, command } = sessions[name]!.next();
      const before = process.cpuUsage();
      await runners[name](aggregateId, command);
      const used = process.cpuUsage(before);
      if (i >= warmup) cpu.set(name, cpu.get(name)! + used.user + used.system);
    }
  }
  if (inspector) {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(profileFile!, JSON.stringify(profile));
    inspector.disconnect();
  }
  const perCommand = (name: string) => cpu.get(name)! / n / 1000;
  console.log(
    `CPU ms per command, no I/O, ${n} commands each after ${warmup} unrecorded, taking turns:`,
  );
  for (const name of names) console.log(`  ${name.padEnd(8)} ${perCommand(name).toFixed(3)}`);
  if (only) return;
  console.log(
    `  function - floor ${(perCommand('function') - perCommand('floor')).toFixed(3)} ms; function / floor ${(perCommand('function') / perCommand('floor')).toFixed(2)}x`,
  );
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
