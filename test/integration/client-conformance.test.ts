/**
 * Conformance: random valid command sequences (fast-check) on DynamoDB Local. At every version,
 * these agree:
 * - the state folded by the command runner (in process, on its own event table),
 * - the row the projector writes (decoupled), read with `?minVersion`,
 * - the row the coupled Lambda writes (its answer and its GET),
 * - a client store fed only by the command answers (one per profile).
 * Timestamps are stamped by each server's clock: the runner is given the decoupled answer's
 * time, so runner, decoupled row and decoupled client are compared whole; the coupled path is
 * compared whole with its own client, and with every ISO time masked across profiles.
 * Everything runs as the dev admin (the orders name their customer, an admin's right): the
 * clients with the admin's token, the runner with the admin as its actor.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { createCommandRunner } from '../../lambdas/core/command/command-runner';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import {
  decideOrder,
  type OrderCommand,
  orderAggregate,
  orderReducer,
  type OrderState,
  type OrderView,
} from '../../lambdas/domain/order';
import { applyMiddleware, combineReducers, legacy_createStore } from 'redux';
import {
  clientReducer,
  type CommandDispatch,
  createApiClient,
  createCommandClient,
  selectConfirmedView,
  sendCommand,
} from '../../client';
import type { Principal } from '../../lambdas/core/identity/principal';
import { useConformanceRuntime, withoutTimes } from '../support/conformance';

const setup = useConformanceRuntime(`cf${process.pid}`);

/** Who runs every command, on each side. */
const ADMIN: Principal = { subject: 'admin', roles: ['admin'] };
const adminToken = () => setup.current.runtime.identity.tokenFor('admin');
const asAdmin = () => ({ authorization: `Bearer ${adminToken()}` });

/** A client store on one stack with the admin's token, fed only by its command answers. */
const clientStoreFor = (baseUrl: string) => {
  const api = createApiClient({ baseUrl, token: adminToken });
  const client = createCommandClient({ api, channel: null });
  const store = legacy_createStore(
    combineReducers({ client: clientReducer }),
    applyMiddleware(client.middleware),
  );
  const send: CommandDispatch = store.dispatch;
  return { client, store, send };
};

/** What a GET answers the admin: `null` for a deleted aggregate (404). */
const getVisibleRow = async (url: string): Promise<unknown> => {
  const response = await fetch(url, {
    headers: asAdmin(),
  });
  if (response.status === 404) return null;
  expect({ url, status: response.status }).toEqual({ url, status: 200 });
  return response.json();
};

/** One user intent; `pick` chooses among the order's lines. It becomes a command if valid. */
const intent = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const),
    quantity: fc.integer({ min: 1, max: 50 }),
    unitPrice: fc.integer({ min: 0, max: 10_000 }),
  }),
  fc.record({
    kind: fc.constant('change' as const),
    pick: fc.nat(),
    quantity: fc.integer({ min: 1, max: 50 }),
  }),
  fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('submit' as const) }),
  fc.record({
    kind: fc.constant('cancel' as const),
    reason: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('delete' as const) }),
);
type Intent = typeof intent extends fc.Arbitrary<infer T> ? T : never;

/** Turns intents into a valid command sequence: invalid ones (by the shared decide) are dropped. */
const toCommands = (currency: string, intents: readonly Intent[]): OrderCommand[] => {
  const commands: OrderCommand[] = [
    { type: 'order/create', payload: { customerId: 'cust-cf', currency } },
  ];
  let state: OrderState = null;
  let version = 0;
  let lines = 0;
  const apply = (command: OrderCommand) => {
    const context = {
      aggregateId: 'model',
      version,
      now: '2026-01-01T00:00:00.000Z',
      actor: ADMIN,
    };
    const events = decideOrder(state, command, context);
    for (const event of events) {
      version++;
      state = orderReducer(state, {
        ...event,
        meta: { ...context, version, occurredAt: context.now, eventId: 'e', correlationId: 'c' },
      } as never);
    }
  };
  apply(commands[0]!);
  for (const i of intents) {
    const current: OrderView = state!;
    const pick = (n: number) =>
      current.lines[n % Math.max(1, current.lines.length)]?.lineId ?? 'none';
    const command: OrderCommand =
      i.kind === 'add'
        ? {
            type: 'order/addLine',
            payload: {
              lineId: `l${lines}`,
              sku: `sku-${lines}`,
              quantity: i.quantity,
              unitPrice: i.unitPrice,
            },
          }
        : i.kind === 'change'
          ? {
              type: 'order/changeQuantity',
              payload: { lineId: pick(i.pick), quantity: i.quantity },
            }
          : i.kind === 'remove'
            ? { type: 'order/removeLine', payload: { lineId: pick(i.pick) } }
            : i.kind === 'submit'
              ? { type: 'order/submit', payload: {} }
              : i.kind === 'cancel'
                ? {
                    type: 'order/cancel',
                    payload: i.reason === undefined ? {} : { reason: i.reason },
                  }
                : { type: 'order/delete', payload: {} };
    try {
      apply(command);
    } catch {
      continue;
    }
    if (command.type === 'order/addLine') lines++;
    commands.push(command);
  }
  return commands;
};

/** The row a GET serves at `minVersion`: `null` for a deleted order (404). */
const getRow = async (baseUrl: string, id: string, minVersion: number) =>
  (await getVisibleRow(`${baseUrl}/orders/${id}?minVersion=${minVersion}`)) as OrderView | null;

let runs = 0;

test('runner, projector row, coupled row and client stores agree at every version', async () => {
  const { runtime, tables } = setup.current;
  const decoupled = clientStoreFor(runtime.decoupledUrl!);
  const coupled = clientStoreFor(runtime.coupledUrl!);
  await Promise.all([decoupled.client.start(), coupled.client.start()]);
  const doc = DynamoDBDocumentClient.from(tables.client);
  const store = new DynamoDbEventStore(doc, tables.eventTable);
  let now = '';
  const run = createCommandRunner({ store, aggregates: [orderAggregate] });

  try {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('EUR', 'SEK', 'JPY'),
        fc.array(intent, { minLength: 1, maxLength: 10 }),
        async (currency, intents) => {
          const id = `cf-${process.pid}-${runs++}`;
          for (const command of toCommands(currency, intents)) {
            const action = sendCommand({ ...command, aggregateId: id });
            const [d, c] = await Promise.all([decoupled.send(action), coupled.send(action)]);
            expect([d.state, c.state]).toEqual(['confirmed', 'confirmed']);
            const version = d.state === 'confirmed' ? d.version : -1;

            // The runner folds the same command on DynamoDB Local, at the decoupled answer's time.
            const events = await (
              await fetch(`${runtime.decoupledUrl}/orders/${id}/events?cursor=${version - 1}`, {
                headers: asAdmin(),
              })
            ).json();
            now = (events as { events: Array<{ occurredAt: string }> }).events[0]!.occurredAt;
            const result = await run(
              { ...command, aggregateId: id, commandId: `runner-${id}-${version}` },
              {
                correlationId: 'cf',
                actor: ADMIN,
                now: () => now,
                newId: () => `e-${id}-${version}`,
              },
            );
            expect(result.version).toBe(version);
            const runnerView =
              (result.state as OrderState)?.status === 'deleted'
                ? null
                : (result.state as OrderView);

            const decoupledClient = selectConfirmedView<OrderView>(
              decoupled.store.getState().client,
              id,
            );
            const projectorRow = await getRow(runtime.decoupledUrl!, id, version);
            expect(decoupledClient).toEqual(runnerView);
            expect(projectorRow).toEqual(runnerView);

            const coupledClient = selectConfirmedView<OrderView>(
              coupled.store.getState().client,
              id,
            );
            const coupledRow = await getRow(runtime.coupledUrl!, id, version);
            expect(coupledClient).toEqual(coupledRow);
            expect(coupledClient?.version ?? version).toBe(version);
            expect(withoutTimes(coupledClient)).toEqual(withoutTimes(runnerView));
          }
        },
      ),
      { numRuns: 12 },
    );
  } finally {
    await Promise.all([decoupled.client.stop(), coupled.client.stop()]);
  }
});
