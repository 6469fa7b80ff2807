/**
 * The coupled profile: one function serves every route and writes the read-model row in the
 * same transaction as the events, so reads are never behind. No stream, no projector.
 */
import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Api } from '../constructs/api';
import { AppFunction } from '../constructs/app-function';
import { CommandTables } from '../constructs/command-tables';
import { EventTable } from '../constructs/event-table';
import { Push } from '../constructs/push';
import { ReadModelTable } from '../constructs/read-model-table';
import type { AppStackProps } from './decoupled-stack';
import { addCommonOutputs } from './outputs';

export class CoupledStack extends Stack {
  readonly eventTable: EventTable;
  readonly readModelTable: ReadModelTable;
  /** Snapshots and idempotency markers: the coupled function's alone. */
  readonly commandTables: CommandTables;
  readonly coupledFunction: AppFunction;
  readonly api: Api;
  readonly push: Push;

  constructor(scope: Construct, id: string, props: AppStackProps) {
    super(scope, id, props);
    const { disposable, tracing, openApi, throttle, corsOrigins } = props.options;

    this.eventTable = new EventTable(this, 'EventTable', { disposable });
    this.readModelTable = new ReadModelTable(this, 'ReadModelTable', { disposable });
    const events = this.eventTable.table;
    const rows = this.readModelTable.table;
    this.commandTables = new CommandTables(this, 'CommandTables', { disposable });

    this.coupledFunction = new AppFunction(this, 'CoupledFunction', {
      entry: 'coupled',
      description: 'Every route: commands write events and the read-model row in one transaction',
      eventTable: { table: events, access: 'append' },
      readModel: { table: rows, access: 'readWrite' },
      commandTables: {
        snapshots: this.commandTables.snapshots,
        commands: this.commandTables.commands,
        snapshotEvery: props.options.snapshotEvery,
      },
      tracing,
      disposable,
    });

    this.api = new Api(this, 'Api', {
      description: 'Redux backend, coupled profile (one function)',
      functionFor: () => this.coupledFunction.function,
      openApi,
      throttle,
      corsOrigins,
      disposable,
    });

    this.push = new Push(this, 'Push', {
      readModelTable: rows,
      openApi,
      throttle,
      tracing,
      disposable,
    });

    addCommonOutputs(this, {
      apiUrl: this.api.url,
      eventTableName: events.tableName,
      readModelTableName: rows.tableName,
    });
  }
}
