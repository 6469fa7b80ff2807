/**
 * Conformance of every aggregate of the deployment (SERVED_AGGREGATES in
 * lambdas/handlers/deployment.ts, not only orders), on DynamoDB Local. Each aggregate's
 * COMMAND_SCRIPTS (its domain's `examples.ts`) are sent as random subsequences (fast-check: the
 * first command kept, commands its `decide` refuses dropped) to both stacks. At every version
 * these agree:
 * - the state folded by the command runner (in process, on its own event table),
 * - the client's optimistic view: the command predicted by the client's `decide` and reducer
 *   on the client's confirmed view before it,
 * - the decoupled client store's confirmed view (fed only by the command answers),
 * - the aggregate's view row as the projector wrote it (decoupled), read with `?minVersion`,
 * - the coupled row (written with the events, for the order and the collections alike), read
 *   with `?minVersion`, and the coupled client store.
 * Time stamps: the runner and the prediction are given the decoupled answer's time, so they are
 * compared whole with the decoupled side; the coupled side (its own clock) is compared whole
 * with its own client, and with every ISO time masked against the runner.
 * Everything runs as the dev admin (CONFORMANCE_ACTOR): the clients and GETs with its token, the
 * runner and the prediction with it as the actor, so owners and `actor`s match on every side.
 * The order's random intents (not only scripts) are in client-conformance.test.ts.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { type AnyAggregate, foldEvents } from '../../lambdas/core/command/aggregate';
import {
  createCommandRunner,
  parseCommandPayload,
} from '../../lambdas/core/command/command-runner';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import type { NewEvent } from '../../lambdas/core/events/events';
import { toAction } from '../../lambdas/core/events/events';
import { stamp } from '../../lambdas/core/given';
import {
  AGGREGATES,
  type DeploymentCommand,
  SERVED_AGGREGATES,
  type ServedAggregate,
} from '../../lambdas/handlers/deployment';
import { selectConfirmedView, sendCommand } from '../../client';
import { optimisticView } from '../../client/state';
import {
  clientStoreFor,
  CONFORMANCE_ACTOR,
  getVisibleRow,
  useConformanceRuntime,
  withoutTimes,
} from '../support/conformance';

type Command = { readonly type: string; readonly payload: unknown };

/** Every domain's COMMAND_SCRIPTS (`lambdas/domain/<name>/examples.ts`), by aggregate type. */
const DOMAINS = join(__dirname, '../../lambdas/domain');
const scriptsByType: Record<string, readonly (readonly Command[])[]> = {};
for (const folder of readdirSync(DOMAINS)) {
  const file = join(DOMAINS, folder, 'examples.ts');
  if (!existsSync(file)) continue;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { COMMAND_SCRIPTS } = require(file) as {
    COMMAND_SCRIPTS?: { aggregateType: string; scripts: readonly (readonly Command[])[] };
  };
  if (COMMAND_SCRIPTS) scriptsByType[COMMAND_SCRIPTS.aggregateType] = COMMAND_SCRIPTS.scripts;
}

const setup = useConformanceRuntime(`ac${process.pid}`);

/** The script's commands that the aggregate's own `decide` accepts, in turn (as the runner would). */
const accepted = (served: ServedAggregate, script: readonly Command[]): Command[] => {
  const aggregate = served.aggregate as AnyAggregate;
  const events: NewEvent[] = [];
  const kept: Command[] = [];
  for (const command of script) {
    const stored = stamp('model', events);
    const state: unknown = foldEvents(aggregate, stored.map(toAction));
    try {
      const decided = aggregate.decide(
        state,
        {
          type: command.type,
          payload: parseCommandPayload(aggregate, command.type, command.payload),
        },
        {
          aggregateId: 'model',
          version: stored.length,
          now: '2026-01-01T00:00:00.000Z',
          actor: CONFORMANCE_ACTOR,
        },
      ) as NewEvent[];
      events.push(...decided);
      kept.push(command);
    } catch {
      // Refused here (a rule, a removed item...): the scripts' random cuts make many of these.
    }
  }
  return kept;
};

/** A script's first command (the create) and a random subsequence of at least half the rest. */
const commandsOf = (served: ServedAggregate): fc.Arbitrary<Command[]> => {
  const scripts = scriptsByType[served.aggregate.type] ?? [];
  return fc
    .constantFrom(...scripts)
    .chain((script) =>
      fc
        .subarray(script.slice(1), { minLength: Math.floor((script.length - 1) / 2) })
        .map((rest) => [script[0]!, ...rest]),
    )
    .map((script) => accepted(served, script));
};

test('every aggregate of the deployment has command scripts', () => {
  expect(
    SERVED_AGGREGATES.map(({ aggregate }) => aggregate.type).filter(
      (type) => (scriptsByType[type]?.length ?? 0) === 0,
    ),
  ).toEqual([]);
  expect(SERVED_AGGREGATES.length).toBeGreaterThan(1);
});

let runs = 0;

test.each(SERVED_AGGREGATES.map((served) => [served.collection, served] as const))(
  '%s: runner, optimistic view, projector row, coupled row and client stores agree at every version',
  async (collection, served) => {
    const { runtime, tables } = setup.current;
    const token = () => runtime.identity.tokenFor(CONFORMANCE_ACTOR.subject);
    const asActor = () => ({ authorization: `Bearer ${token()}` });
    const decoupled = clientStoreFor(runtime.decoupledUrl!, token);
    const coupled = clientStoreFor(runtime.coupledUrl!, token);
    await Promise.all([decoupled.client.start(), coupled.client.start()]);
    const doc = DynamoDBDocumentClient.from(tables.client);
    const run = createCommandRunner({
      store: new DynamoDbEventStore(doc, tables.eventTable),
      aggregates: AGGREGATES,
    });
    const visible = (state: unknown) =>
      state === null || served.isDeleted(state) ? null : (state as object);

    try {
      await fc.assert(
        fc.asyncProperty(commandsOf(served), async (commands) => {
          const id = `ac-${process.pid}-${runs++}`;
          for (const command of commands) {
            const before = decoupled.store.getState().client.confirmed[id];
            const action = sendCommand({
              ...(command as DeploymentCommand),
              aggregateId: id,
            });
            const [d, c] = await Promise.all([decoupled.send(action), coupled.send(action)]);
            expect({ command, answers: [d.state, c.state] }).toEqual({
              command,
              answers: ['confirmed', 'confirmed'],
            });
            const version = d.state === 'confirmed' ? d.version : -1;
            const step = { collection, id, command: command.type, version };

            // The runner decides the same command on its own table, at the decoupled answer's time.
            const page = (await (
              await fetch(
                `${runtime.decoupledUrl}/${collection}/${id}/events?cursor=${version - 1}`,
                { headers: asActor() },
              )
            ).json()) as { events: Array<{ occurredAt: string }> };
            const now = page.events[0]!.occurredAt;
            const result = await run(
              { ...command, aggregateId: id, commandId: `runner-${id}-${version}` },
              {
                correlationId: 'ac',
                actor: CONFORMANCE_ACTOR,
                now: () => now,
                newId: () => `e-${id}-${version}`,
              },
            );
            expect({ ...step, runnerVersion: result.version }).toEqual({
              ...step,
              runnerVersion: version,
            });
            const runnerView = visible(result.state);

            // The client's prediction of this command, from what it had confirmed before.
            const predicted = optimisticView(
              before,
              [
                {
                  commandId: `predict-${id}-${version}`,
                  seq: 1,
                  aggregateId: id,
                  type: command.type as DeploymentCommand['type'],
                  payload: command.payload as DeploymentCommand['payload'],
                  issuedAt: now,
                  attempts: 0,
                },
              ],
              CONFORMANCE_ACTOR,
            );
            expect({ ...step, rejected: predicted.pending[0]?.wouldReject }).toEqual({
              ...step,
              rejected: undefined,
            });

            const views = {
              optimistic: { version: predicted.version, view: predicted.view },
              decoupledClient: selectConfirmedView(decoupled.store.getState().client, id),
              projectorRow: await getVisibleRow(
                `${runtime.decoupledUrl}/${collection}/${id}?minVersion=${version}`,
                asActor(),
              ),
            };
            expect({ ...step, ...views }).toEqual({
              ...step,
              optimistic: { version, view: runnerView },
              decoupledClient: runnerView,
              projectorRow: runnerView,
            });

            const coupledClient = selectConfirmedView(coupled.store.getState().client, id);
            const coupledRow = await getVisibleRow(
              `${runtime.coupledUrl}/${collection}/${id}?minVersion=${version}`,
              asActor(),
            );
            expect({ ...step, coupledClient }).toEqual({ ...step, coupledClient: coupledRow });
            expect({ ...step, coupled: withoutTimes(coupledClient) }).toEqual({
              ...step,
              coupled: withoutTimes(runnerView),
            });
          }
        }),
        // Each run is some 5-10 commands through both stacks over HTTP: a few runs per
        // aggregate keep the file near half a minute on a loaded 2-core CI machine.
        { numRuns: 4 },
      );
    } finally {
      await Promise.all([decoupled.client.stop(), coupled.client.stop()]);
    }
  },
  // Over HTTP with the projector's wait per step: a busy machine takes well over a minute.
  240_000,
);
