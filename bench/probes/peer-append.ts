/**
 * The project's append beside a plain-SDK peer (issue 23; docs/decisions/single-item-appends.md):
 * one DynamoDB Local, the calls taking turns in one run.
 *
 * - `peer`: what a lean event store sends per command (Castore's DynamoDB adapter, for one):
 *   a consistent Query of the aggregate's history, then one conditional PutItem of the event.
 * - `project`: the command runner the stacks run, in process (no HTTP): snapshots and markers
 *   on, the order aggregate's zod schema, authorize and decide, the event store's write; it
 *   keeps the heads it left (docs/decisions/runner-keeps-heads.md).
 * - `no heads`: the same runner with `headsKept: 0`, every command reading first (before it).
 *
 * Three figures: the first command of an aggregate (version 1), a command at version 10, and
 * 16 writers at once on separate aggregates (commands per second). Also the write shape: calls
 * and items written per command, as sent.
 *
 * Run: node --import tsx bench/probes/peer-append.ts [commands per figure] (default 200)
 */
import { randomUUID } from 'node:crypto';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createCommandRunner } from '../../lambdas/core/command/command-runner';
import { DynamoDbSnapshotStore } from '../../lambdas/core/command/dynamodb-snapshot-store';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import { AGGREGATES } from '../../lambdas/handlers/wiring';
import { ensureTables } from '../../local/emulators/tables';
import { BENCH_ACTOR, type BenchCommand, commandAt, eventFor } from '../orders';
import { probeTables, startProbeDynamoDb } from './probe-dynamodb';

const n = Number(process.argv[2] ?? 200);
const WRITERS = 16;
const percentile = (xs: readonly number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** A document client that counts the reads and writes sent through it (calls, items written). */
const countingClient = (doc: DynamoDBDocumentClient) => {
  const tally = { reads: 0, calls: 0, items: 0, commands: 0 };
  const client = {
    send: (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      if (/Get|Query/.test(name)) tally.reads++;
      if (/Put|Transact|Update|BatchWrite/.test(name)) {
        tally.calls++;
        if (name === 'TransactWriteCommand') {
          tally.items += (command.input.TransactItems as unknown[]).length;
        } else if (name === 'BatchWriteCommand') {
          const requests = Object.values(command.input.RequestItems as Record<string, unknown[]>);
          tally.items += requests.reduce((sum, r) => sum + r.length, 0);
        } else tally.items++;
      }
      return doc.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, tally };
};

const main = async () => {
  const { local, client, doc } = await startProbeDynamoDb();
  const tables = probeTables('peer');
  try {
    await ensureTables(client, tables, { stream: false });
    const peerDoc = countingClient(doc);
    const projectDoc = countingClient(doc);

    /** The peer: Query the history, fold nothing we need, PutItem the next event. */
    const peer = async (aggregateId: string, command: BenchCommand) => {
      const { Items = [] } = await peerDoc.client.send(
        new QueryCommand({
          TableName: tables.eventTable,
          ConsistentRead: true,
          KeyConditionExpression: '#pk = :id',
          ExpressionAttributeNames: { '#pk': 'aggregateId' },
          ExpressionAttributeValues: { ':id': aggregateId },
        }),
      );
      const version = (Items.at(-1)?.version as number | undefined) ?? 0;
      await peerDoc.client.send(
        new PutCommand({
          TableName: tables.eventTable,
          Item: eventFor(aggregateId, version + 1, command, 'order'),
          ConditionExpression: 'attribute_not_exists(#sk)',
          ExpressionAttributeNames: { '#sk': 'version' },
        }),
      );
      peerDoc.tally.commands++;
    };

    const runnerWay = (
      headsKept: number | undefined,
      counted: ReturnType<typeof countingClient>,
    ) => {
      const run = createCommandRunner({
        store: new DynamoDbEventStore(counted.client, tables.eventTable, {
          commandsTable: tables.commandsTable,
        }),
        snapshots: { store: new DynamoDbSnapshotStore(counted.client, tables.snapshotsTable) },
        aggregates: AGGREGATES,
        ...(headsKept !== undefined && { headsKept }),
      });
      return async (aggregateId: string, command: BenchCommand) => {
        await run(
          { ...command, aggregateId, commandId: randomUUID() },
          {
            correlationId: randomUUID(),
            actor: { ...actor, roles: [...actor.roles] },
            now: () => new Date().toISOString(),
            newId: randomUUID,
          },
        );
        counted.tally.commands++;
      };
    };
    const actor = { subject: BENCH_ACTOR, roles: ['admin'] as const };
    const noHeadsDoc = countingClient(doc);
    const ways = {
      peer,
      project: runnerWay(undefined, projectDoc),
      'no heads': runnerWay(0, noHeadsDoc),
    } as const;
    type Way = keyof typeof ways;
    const order = (way: Way, i: number) => `${way}-${i}-${randomUUID().slice(0, 8)}`;
    const customer = BENCH_ACTOR;

    const WAYS = Object.keys(ways) as Way[];
    const tallies: Record<Way, ReturnType<typeof countingClient>['tally']> = {
      peer: peerDoc.tally,
      project: projectDoc.tally,
      'no heads': noHeadsDoc.tally,
    };
    /** The ways in a turning order, so that none always goes first. */
    const turn = (i: number) => WAYS.map((_, k) => WAYS[(i + k) % WAYS.length]!);
    const perWay = <T>(make: () => T) =>
      Object.fromEntries(WAYS.map((way) => [way, make()])) as Record<Way, T>;

    /** CPU time (user + system, this process) spent while each way ran, sequential phase only. */
    const cpu = perWay(() => ({ micros: 0, commands: 0 }));
    const timed = async (work: () => Promise<void>) => {
      const started = performance.now();
      await work();
      return performance.now() - started;
    };
    const charged = async (way: Way, work: () => Promise<void>) => {
      const before = process.cpuUsage();
      await work();
      const used = process.cpuUsage(before);
      cpu[way].micros += used.user + used.system;
      cpu[way].commands += 10;
    };
    const latencies = () => perWay((): number[] => []);

    // Warm every path (connections, JIT) before measuring.
    for (const way of WAYS) {
      for (let i = 0; i < 20; i++) await ways[way](order(way, -1 - i), commandAt(0, customer));
    }

    const first = latencies();
    const atTen = latencies();
    for (let i = 0; i < n; i++) {
      for (const way of turn(i)) {
        const id = order(way, i);
        await charged(way, async () => {
          first[way].push(await timed(() => ways[way](id, commandAt(0, customer))));
          for (let k = 1; k < 9; k++) await ways[way](id, commandAt(k, customer));
          // version 10: the command decided on 9 events
          atTen[way].push(await timed(() => ways[way](id, commandAt(9, customer))));
        });
      }
    }

    const throughput = latencies();
    const perWriter = Math.max(10, Math.floor(n / 8));
    for (let round = 0; round < 3; round++) {
      for (const way of turn(round)) {
        const started = performance.now();
        await Promise.all(
          Array.from({ length: WRITERS }, async (_, w) => {
            const id = order(way, 100_000 + round * WRITERS + w);
            for (let k = 0; k < perWriter; k++) await ways[way](id, commandAt(k, customer));
          }),
        );
        throughput[way].push((WRITERS * perWriter) / ((performance.now() - started) / 1000));
      }
    }

    const median = (xs: number[]) => percentile(xs, 50);
    const runners = WAYS.filter((way) => way !== 'peer');
    const cells = (f: (way: Way) => string) => WAYS.map(f).join(' | ');
    const ratios = (f: (way: Way) => number) =>
      runners.map((way) => `${(f(way) / f('peer')).toFixed(2)}x`).join(' | ');
    const line = (label: string, xs: Record<Way, number[]>) =>
      `| ${label} | ${cells((way) => `${percentile(xs[way], 50).toFixed(2)} / ${percentile(xs[way], 95).toFixed(2)} ms`)} | ${ratios((way) => percentile(xs[way], 50))} |`;
    const perCommand = (f: (t: (typeof tallies)[Way]) => number) =>
      cells((way) => (f(tallies[way]) / tallies[way].commands).toFixed(3));
    const out = [
      `peer-append: ${n} commands per figure, ${WRITERS} writers x ${perWriter} commands x 3 rounds`,
      '',
      `| figure | ${cells((way) => `${way} p50 / p95`)} | ${runners.map((way) => `${way} / peer`).join(' | ')} |`,
      `| --- | ${cells(() => '---')} | ${runners.map(() => '---').join(' | ')} |`,
      line('first command (version 1)', first),
      line('command at version 10', atTen),
      `| ${WRITERS} writers, separate aggregates | ${cells((way) => `${median(throughput[way]).toFixed(0)} cmd/s`)} | ${ratios((way) => median(throughput[way]))} (throughput) |`,
      '',
      `| per command | ${cells((way) => way)} |`,
      `| --- | ${cells(() => '---')} |`,
      `| read calls | ${perCommand((t) => t.reads)} |`,
      `| write calls | ${perCommand((t) => t.calls)} |`,
      `| items written | ${perCommand((t) => t.items)} |`,
      `| CPU (this process: SDK, codec, runner) | ${cells((way) => `${(cpu[way].micros / cpu[way].commands / 1000).toFixed(2)} ms`)} |`,
    ];
    console.log(out.join('\n'));
  } finally {
    client.destroy();
    await local.stop();
  }
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
