/**
 * The coupled profile: one function serves every route and writes each aggregate's view in the
 * same transaction as its events, so a view is never behind. The read models fed by many
 * aggregates (and other versions of the views) are a projector's job here too: the event
 * table's stream feeds the projector, which skips what the transaction wrote
 * (docs/decisions/declared-projections-in-coupled.md), and they have the decoupled stack's
 * repair tools: the redrive function on the projector's dead-letter queue and the rebuild state
 * machine.
 */
import { Stack } from 'aws-cdk-lib';
import { ENV } from '../../lambdas/handlers/environment';
import type { Construct } from 'constructs';
import { Api } from '../constructs/api';
import { AppFunction } from '../constructs/app-function';
import { CommandTables } from '../constructs/command-tables';
import { EventBus } from '../constructs/event-bus';
import { EventTable } from '../constructs/event-table';
import { ProjectionPipeline } from '../constructs/projection-pipeline';
import { ProjectionsTable } from '../constructs/projections-table';
import { Push } from '../constructs/push';
import { Rebuild } from '../constructs/rebuild';
import { Redrive } from '../constructs/redrive';
import { Workflows } from '../constructs/workflows';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import type { AppStackProps } from './decoupled-stack';
import {
  addCommonOutputs,
  addEventBusOutputs,
  addRepairOutputs,
  addWorkflowsOutputs,
} from './outputs';

export class CoupledStack extends Stack {
  readonly eventTable: EventTable;
  /** Snapshots and idempotency markers: the coupled function's alone. */
  readonly commandTables: CommandTables;
  /** The declared projections' rows (lambdas/handlers/deployment.ts). */
  readonly projectionsTable: ProjectionsTable;
  readonly coupledFunction: AppFunction;
  /** Runs the declared projections (skipping the views written with the events). */
  readonly projectorFunction: AppFunction;
  readonly projection: ProjectionPipeline;
  /** The projector's DLQ -> re-projection of the declared projections of what it names. */
  readonly redrive: Redrive;
  /** Rebuild of declared projections from the event table (Step Functions). */
  readonly rebuild: Rebuild;
  /** Domain events on an EventBridge bus, through a pipe from the event stream. */
  readonly eventBus: EventBus;
  /** The process managers, run from the event stream and their timers. */
  readonly workflows: Workflows;
  readonly api: Api;
  readonly push: Push;

  constructor(scope: Construct, id: string, props: AppStackProps) {
    super(scope, id, props);
    const { disposable, tracing, throttle, corsOrigins } = props.options;
    const { acceptedTokens } = props;

    // The stream feeds the declared projections' projector.
    this.eventTable = new EventTable(this, 'EventTable', { stream: true, disposable });
    const events = this.eventTable.table;
    this.commandTables = new CommandTables(this, 'CommandTables', { disposable });
    this.projectionsTable = new ProjectionsTable(this, 'ProjectionsTable', { disposable });
    const projectionRows = this.projectionsTable.table;

    this.coupledFunction = new AppFunction(this, 'CoupledFunction', {
      entry: 'coupled',
      description: "Every route: commands write events and the aggregate's view in one transaction",
      eventTable: { table: events, access: 'append' },
      commandTables: {
        snapshots: this.commandTables.snapshots,
        commands: this.commandTables.commands,
        snapshotEvery: props.options.snapshotEvery,
      },
      // Reads every route's rows and lists; updates a view in the command's transaction.
      projections: { table: projectionRows, access: 'readWrite' },
      tracing,
      disposable,
    });
    if (props.options.servedProjectionVersions) {
      // It serves GET /read-models too: a switch applies to it as to the decoupled query function.
      this.coupledFunction.function.addEnvironment(
        ENV.servedProjectionVersions,
        props.options.servedProjectionVersions,
      );
    }
    this.projectorFunction = new AppFunction(this, 'ProjectorFunction', {
      entry: 'projector',
      description: 'Event table stream -> declared projections (coupled)',
      eventTable: { table: events, access: 'read' },
      projections: { table: projectionRows, access: 'project' },
      tracing,
      disposable,
    });
    this.projection = new ProjectionPipeline(this, 'Projection', {
      eventTable: events,
      projector: this.projectorFunction.function,
    });
    this.redrive = new Redrive(this, 'Redrive', {
      deadLetterQueue: this.projection.deadLetterQueue,
      eventTable: events,
      projectionsTable: projectionRows,
      tracing,
      disposable,
    });
    this.rebuild = new Rebuild(this, 'Rebuild', {
      eventTable: events,
      projectionsTable: projectionRows,
      projections: PROJECTIONS,
      tracing,
      disposable,
    });

    this.api = new Api(this, 'Api', {
      description: 'Redux backend, coupled profile (one function)',
      functionFor: () => this.coupledFunction.function,
      acceptedTokens,
      throttle,
      corsOrigins,
      disposable,
    });

    this.push = new Push(this, 'Push', {
      projectionsTable: projectionRows,
      servedProjectionVersions: props.options.servedProjectionVersions,
      // They post the rows they write themselves (docs/decisions/push-from-the-writer.md).
      writers: [this.coupledFunction, this.projectorFunction],
      acceptedTokens,
      throttle,
      tracing,
      disposable,
    });

    addCommonOutputs(this, {
      apiUrl: this.api.url,
      eventTableName: events.tableName,
    });
    addRepairOutputs(this, {
      projectionsTableName: projectionRows.tableName,
      deadLetterQueueUrl: this.projection.deadLetterQueue.queueUrl,
      redriveFunctionName: this.redrive.function.function.functionName,
      rebuildStateMachineArn: this.rebuild.stateMachine.stateMachineArn,
    });

    this.workflows = new Workflows(this, 'Workflows', {
      eventTable: events,
      projectionsTable: projectionRows,
      commandTables: {
        snapshots: this.commandTables.snapshots,
        commands: this.commandTables.commands,
        snapshotEvery: props.options.snapshotEvery,
      },
      // Its processes' commands write their views with their events, as the API's do.
      writeViewsWithEvents: true,
      tracing,
      disposable,
    });
    addWorkflowsOutputs(this, {
      workflowsFunctionName: this.workflows.functionName,
      workflowsDeadLetterQueueUrl: this.workflows.deadLetterQueue.queueUrl,
      workflowsTimerDeadLetterQueueUrl: this.workflows.timerDeadLetterQueue.queueUrl,
      workflowsRedriveFunctionName: this.workflows.redrive.function.function.functionName,
    });

    this.eventBus = new EventBus(this, 'EventBus', {
      eventTable: events,
      stackName: 'coupled',
      tracing,
      disposable,
    });
    addEventBusOutputs(this, {
      eventBusName: this.eventBus.bus.eventBusName,
      eventBusArn: this.eventBus.bus.eventBusArn,
      eventBusDeadLetterQueueUrl: this.eventBus.deadLetterQueue.queueUrl,
    });
  }
}
