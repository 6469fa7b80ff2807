/**
 * The fulfilment workflow on one set of test tables (test/support/dynamo.ts): commands run as the
 * API runs them, orders submitted with stock, and the workflows handler the cloud runs with a
 * `send` that fails where a test says (a crash, a throttle) and the timers it set.
 */
import { randomUUID } from 'node:crypto';
import { createCommandRunner } from '../../lambdas/core/command/command-runner';
import { DynamoDbEventStore } from '../../lambdas/core/events/dynamodb-event-store';
import type { EventStore, LoadOptions } from '../../lambdas/core/events/event-store';
import type { Principal } from '../../lambdas/core/identity/principal';
import { DynamoDbProjectionRows } from '../../lambdas/core/projections/dynamodb-projection-rows';
import {
  createProcessRunner,
  type ProcessRecord,
  type ProcessTimer,
  type SendCommand,
} from '../../lambdas/core/workflows/process-runner';
import { fulfilmentProcess, type FulfilmentState } from '../../lambdas/domain/fulfilment';
import { AGGREGATES } from '../../lambdas/handlers/deployment';
import { createWorkflowsHandler, sendThroughRunner } from '../../lambdas/handlers/workflows';
import type { TestTables } from './dynamo';
import { testLogger } from './logs';
import { streamEvent, streamRecord } from './stream-events';

export const ALICE: Principal = { subject: 'alice', roles: [] };
export const ADMIN: Principal = { subject: 'admin', roles: ['admin'] };

export const fulfilmentOn = (tables: TestTables) => {
  const logger = testLogger('workflows');
  const store = new DynamoDbEventStore(tables.doc, tables.eventTable, {
    commandsTable: tables.commandsTable,
  });
  const run = createCommandRunner({ store, aggregates: AGGREGATES });
  const execute = (
    actor: Principal,
    type: string,
    aggregateId: string,
    payload: Record<string, unknown> = {},
  ) =>
    run(
      { type, aggregateId, payload, commandId: randomUUID() },
      {
        correlationId: `click-${aggregateId}`,
        actor,
        now: () => new Date().toISOString(),
        newId: randomUUID,
      },
    );

  /** Stock of each SKU, and a submitted order of alice's with one line per SKU. */
  const submittedOrder = async (lines: Record<string, number>, stock: Record<string, number>) => {
    for (const [sku, quantity] of Object.entries(stock)) {
      await execute(ADMIN, 'inventory/receive', sku, { quantity });
    }
    const id = `o-${randomUUID().slice(0, 8)}`;
    await execute(ALICE, 'order/create', id, { currency: 'EUR' });
    let n = 0;
    for (const [sku, quantity] of Object.entries(lines)) {
      await execute(ALICE, 'order/addLine', id, {
        lineId: `l${++n}`,
        sku,
        quantity,
        unitPrice: 100,
      });
    }
    await execute(ALICE, 'order/submit', id);
    return id;
  };

  /** The workflows handler with a `send` that throws where `failOn` says, and the timers it set. */
  const workflows = (failOn: (type: string, aggregateId: string) => boolean = () => false) => {
    const timers: ProcessTimer[] = [];
    const real = sendThroughRunner(run);
    const send: SendCommand = async (command, context) => {
      if (failOn(command.type, command.aggregateId)) {
        throw new Error(`crash before ${command.type}`);
      }
      return real(command, context);
    };
    // The event-table reads of the runner (aggregate and options), for tests that count them.
    const loads: { aggregateId: string; options?: LoadOptions }[] = [];
    const events: EventStore = {
      load: (aggregateId, options) => {
        loads.push({ aggregateId, ...(options && { options }) });
        return store.load(aggregateId, options);
      },
      currentVersion: (aggregateId) => store.currentVersion(aggregateId),
      append: (stored) => store.append(stored),
    };
    const runner = createProcessRunner({
      managers: [fulfilmentProcess],
      rows: new DynamoDbProjectionRows(tables.doc, tables.projectionsTable),
      events,
      send,
      timers: { schedule: async (timer) => void timers.push(timer) },
      log: logger,
    });
    const handle = createWorkflowsHandler({
      runner,
      logger,
      aggregateTypes: AGGREGATES.map((a) => a.type),
    });
    const recordOf = async (orderId: string) =>
      (await runner.recordOf(fulfilmentProcess, orderId)) as
        ProcessRecord<FulfilmentState> | undefined;
    return { handle, runner, timers, recordOf, loads };
  };

  /** An aggregate's whole log as one stream batch (what Lambda would deliver, or redeliver). */
  const batchOf = async (aggregateId: string) =>
    streamEvent((await store.load(aggregateId)).map((e) => streamRecord(e)));

  const typesOf = async (id: string) => (await store.load(id)).map((e) => e.type);

  return { store, run, execute, submittedOrder, workflows, batchOf, typesOf };
};
