/**
 * Hot aggregates (issue 23, item 3): 16 writers on one order without `expectedVersion`, through
 * the command runner with the stacks' stores (events with idempotency markers, snapshots every
 * 100) on one DynamoDB Local, under several retry policies taken in turns (the first rotating
 * every round), beside one writer alone. Per policy: commands applied per second, the server's
 * retries per command, p50/p95 latency, and COMMAND_DEADLINE answers (5 s, as the stacks).
 * Run: node --import tsx bench/probes/contention.ts [writers] [commandsPerWriter] [rounds]
 */
import { randomUUID } from 'node:crypto';
import { createCommandRunner } from '../../lambdas/core/command/command-runner';
import {
  DEFAULT_RETRY_POLICY,
  type RetryPolicy,
} from '../../lambdas/core/command/command-runner-policy';
import { DynamoDbSnapshotStore } from '../../lambdas/core/command/dynamodb-snapshot-store';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import type { Principal } from '../../lambdas/core/identity/principal';
import { AppError } from '../../lambdas/core/shared/errors';
import { AGGREGATES } from '../../lambdas/handlers/deployment';
import { COMMAND_DEADLINE_MS } from '../../lambdas/handlers/http-edge';
import { ensureTables } from '../../local/emulators/tables';
import { startProbeDynamoDb } from './probe-dynamodb';

/** Every writer is one admin: the probe measures contention, not permissions. */
const PROBE_ACTOR: Principal = { subject: 'probe-admin', roles: ['admin'] };

const writers = Number(process.argv[2] ?? 16);
const perWriter = Number(process.argv[3] ?? 12);
const rounds = Number(process.argv[4] ?? 3);

const POLICIES: Record<string, RetryPolicy> = {
  'default (attempt → 800 ms)': DEFAULT_RETRY_POLICY,
  'before (5 → 200 ms)': { maxAttempts: 100, baseDelayMs: 5, maxDelayMs: 200 },
  'attempt → 400 ms': { ...DEFAULT_RETRY_POLICY, maxDelayMs: 400 },
  '20 → 800 ms (fixed)': { maxAttempts: 100, baseDelayMs: 20, maxDelayMs: 800 },
  'no wait (0 ms)': { maxAttempts: 100, baseDelayMs: 0, maxDelayMs: 0 },
};

const percentile = (xs: readonly number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

interface Tally {
  ok: number;
  deadline: number;
  other: number;
  retries: number;
  ms: number[];
  wallMs: number;
}
const tally = (): Tally => ({ ok: 0, deadline: 0, other: 0, retries: 0, ms: [], wallMs: 0 });

const main = async () => {
  const { local, client, doc } = await startProbeDynamoDb();
  const tables = {
    eventTable: 'contention-events',
    projectionsTable: 'contention-projections',
    snapshotsTable: 'contention-snapshots',
    commandsTable: 'contention-commands',
  };
  try {
    await ensureTables(client, tables, { stream: false });
    const store = new DynamoDbEventStore(doc, tables.eventTable, {
      commandsTable: tables.commandsTable,
    });
    const snapshots = { store: new DynamoDbSnapshotStore(doc, tables.snapshotsTable), every: 100 };
    const runners = Object.fromEntries(
      Object.entries(POLICIES).map(([name, retry]) => [
        name,
        createCommandRunner({ store, aggregates: AGGREGATES, snapshots, retry }),
      ]),
    );
    const send = async (
      run: ReturnType<typeof createCommandRunner>,
      aggregateId: string,
      type: string,
      payload: unknown,
      into: Tally,
    ) => {
      const started = performance.now();
      try {
        const result = await run(
          { type, aggregateId, payload, commandId: randomUUID() },
          {
            correlationId: 'probe',
            actor: PROBE_ACTOR,
            now: () => new Date().toISOString(),
            newId: randomUUID,
            deadline: Date.now() + COMMAND_DEADLINE_MS,
          },
        );
        into.ok++;
        into.retries += result.retries;
      } catch (error) {
        if (error instanceof AppError && error.code === 'COMMAND_DEADLINE') into.deadline++;
        else into.other++;
      }
      into.ms.push(performance.now() - started);
    };
    const newOrder = async (run: ReturnType<typeof createCommandRunner>) => {
      const id = `hot-${randomUUID().slice(0, 8)}`;
      const setup = tally();
      await send(run, id, 'order/create', { customerId: 'c-hot', currency: 'EUR' }, setup);
      await send(
        run,
        id,
        'order/addLine',
        { lineId: 'a', sku: 's', quantity: 1, unitPrice: 100 },
        setup,
      );
      return id;
    };
    const change = (n: number) => ({ lineId: 'a', quantity: (n % 50) + 1 });

    const results = new Map(Object.keys(POLICIES).map((name) => [name, tally()]));
    const alone = tally();
    const names = Object.keys(POLICIES);
    for (let round = 0; round < rounds; round++) {
      // One writer alone, the sequential rate the others are compared with.
      {
        const run = runners[names[0]!]!;
        const id = await newOrder(run);
        const started = performance.now();
        for (let n = 0; n < writers * perWriter; n++)
          await send(run, id, 'order/changeQuantity', change(n), alone);
        alone.wallMs += performance.now() - started;
      }
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + round) % names.length]!;
        const run = runners[name]!;
        const into = results.get(name)!;
        const id = await newOrder(run);
        const started = performance.now();
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (let n = 0; n < perWriter; n++)
              await send(run, id, 'order/changeQuantity', change(w * perWriter + n), into);
          }),
        );
        into.wallMs += performance.now() - started;
      }
      console.error(`round ${round + 1} of ${rounds} done`);
    }
    const rate = (t: Tally) => (t.ok / t.wallMs) * 1000;
    const sequential = rate(alone);
    console.log(
      `${writers} writers x ${perWriter} commands on one order, ${rounds} rounds; alone: ` +
        `${sequential.toFixed(1)} commands/s, p50 ${percentile(alone.ms, 50).toFixed(1)} ms`,
    );
    console.log(
      'policy                       ok/s   ×alone  retries/cmd  p50 ms  p95 ms  deadline  other',
    );
    for (const [name, t] of results) {
      console.log(
        [
          name.padEnd(26),
          rate(t).toFixed(1).padStart(6),
          `${(rate(t) / sequential).toFixed(2)}×`.padStart(7),
          (t.retries / Math.max(1, t.ok)).toFixed(2).padStart(11),
          percentile(t.ms, 50).toFixed(0).padStart(7),
          percentile(t.ms, 95).toFixed(0).padStart(7),
          String(t.deadline).padStart(9),
          String(t.other).padStart(6),
        ].join(' '),
      );
    }
  } finally {
    client.destroy();
    await local.stop();
  }
};

void main();
