/**
 * Hot aggregates (issue 23, item 3), the command runner itself: the designs side by side on one
 * DynamoDB Local, through bench/hot-aggregate.ts's sweep (16 writers × n commands against one
 * writer alone, then 50 and 200 writers at once, all on one order without `expectedVersion`, a
 * 5 s deadline as the stacks). Each design is the command runner with the stacks' stores (events
 * with idempotency markers, snapshots every 100):
 *
 * - `before`: the retry policy before issue 23 (full jitter from the slowest attempt, to 800 ms),
 *   every writer racing (as many Lambda instances would: no queue);
 * - `instances`: the current policy (DEFAULT_RETRY_POLICY), every writer racing;
 * - `one-process`: the current policy behind the per-aggregate queue (aggregate-queue.ts), as
 *   the stacks' functions run locally (one process) and as the wiring builds them.
 *
 * All writers share this one Node process and DynamoDB Local shares the machine: figures are
 * for comparing designs within a run, not absolute.
 *
 * Run: node --import tsx bench/probes/contention.ts [--quick] [--rounds n] [--per-writer n]
 *      [--designs before,instances,one-process]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { inTurnPerAggregate } from '../../lambdas/core/command/aggregate-queue';
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
import {
  HOT_AGGREGATE_SETTINGS,
  type HotAggregateFigures,
  hotAggregateFigures,
  hotAggregateText,
  type HotTarget,
  QUICK_HOT_AGGREGATE_SETTINGS,
  runHotAggregate,
} from '../hot-aggregate';
import { commandAt } from '../orders';
import { probeTables, startProbeDynamoDb } from './probe-dynamodb';

/** Every writer is one admin: the probe measures contention, not permissions. */
const PROBE_ACTOR: Principal = { subject: 'probe-admin', roles: ['admin'] };

/** The default before issue 23: no immediate retry. */
const BEFORE_POLICY: RetryPolicy = {
  maxAttempts: 100,
  baseDelayMs: 5,
  maxDelayMs: 800,
  sizedFromAttempts: true,
};

type Run = ReturnType<typeof createCommandRunner>;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    'per-writer': { type: 'string' },
    designs: { type: 'string', default: 'before,instances,one-process' },
    'immediate-retries': { type: 'string' },
  },
});

const main = async () => {
  const base = values.quick ? QUICK_HOT_AGGREGATE_SETTINGS : HOT_AGGREGATE_SETTINGS;
  const settings = {
    ...base,
    deadlineMs: COMMAND_DEADLINE_MS,
    ...(values.rounds !== undefined && { rounds: Number(values.rounds) }),
    ...(values['per-writer'] !== undefined && { commandsPerWriter: Number(values['per-writer']) }),
  };
  const policy: RetryPolicy = {
    ...DEFAULT_RETRY_POLICY,
    ...(values['immediate-retries'] !== undefined && {
      immediateRetries: Number(values['immediate-retries']),
    }),
  };
  const { local, client, doc } = await startProbeDynamoDb();
  const tables = probeTables('contention');
  try {
    await ensureTables(client, tables, { stream: false });
    const store = new DynamoDbEventStore(doc, tables.eventTable, {
      commandsTable: tables.commandsTable,
    });
    const snapshots = { store: new DynamoDbSnapshotStore(doc, tables.snapshotsTable), every: 100 };
    const runner = (retry: RetryPolicy) =>
      createCommandRunner({ store, aggregates: AGGREGATES, snapshots, retry });
    const designs: Record<string, Run> = {
      before: runner(BEFORE_POLICY),
      instances: runner(policy),
      'one-process': inTurnPerAggregate(runner(policy)),
    };

    const targetOf = (name: string, run: Run): HotTarget => {
      const execute: HotTarget['execute'] = async (aggregateId, command) => {
        const started = performance.now();
        try {
          const result = await run(
            { ...command, aggregateId, commandId: randomUUID() },
            {
              correlationId: 'probe',
              actor: PROBE_ACTOR,
              now: () => new Date().toISOString(),
              newId: randomUUID,
              deadline: Date.now() + settings.deadlineMs,
            },
          );
          const ackMs = performance.now() - started;
          return { ok: true, status: 200, version: result.version, ackMs, retries: result.retries };
        } catch (error) {
          const ackMs = performance.now() - started;
          const code = error instanceof AppError ? error.code : 'ERROR';
          return { ok: false, status: 500, code, ackMs, retries: 0 };
        }
      };
      return {
        name,
        tag: name,
        execute,
        prepare: async (aggregateId, length) => {
          for (let n = 0; n < length; n++) {
            const outcome = await execute(aggregateId, commandAt(n), { visible: false });
            if (!outcome.ok) throw new Error(`${name}: preparing ${aggregateId} failed`);
          }
        },
      };
    };
    const chosen = values.designs.split(',').map((name) => {
      const run = designs[name];
      if (!run) throw new Error(`unknown design '${name}' (${Object.keys(designs).join(', ')})`);
      return targetOf(name, run);
    });
    // Unmeasured: JIT and the JVM warm, every design once.
    await runHotAggregate(
      chosen,
      { ...settings, rounds: 1, commandsPerWriter: 2, crowds: [] },
      'warm',
    );
    const samples = await runHotAggregate(
      chosen,
      settings,
      `run-${randomUUID().slice(0, 6)}`,
      (what) => console.error(`done: ${what}`),
    );
    const figures = new Map<string, HotAggregateFigures>(
      [...samples].map(([name, s]) => [name, hotAggregateFigures(s)]),
    );
    console.log(
      `policy: ${JSON.stringify(policy)}; before: ${JSON.stringify(BEFORE_POLICY)}\n` +
        hotAggregateText(figures, settings),
    );
  } finally {
    client.destroy();
    await local.stop();
  }
};

void main();
