/**
 * The decoupled profile (CQRS with an asynchronous projection): the command function appends
 * events and answers 202; the event table's stream drives the projector, which updates every
 * declared projection (each aggregate's view, the read models); the query function serves
 * reads from the projections table and the event table.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ENV } from '../../lambdas/handlers/environment';
import type { DeploymentOptions } from '../config';
import { Api } from '../constructs/api';
import type { AcceptedTokens } from '../constructs/identity';
import { AppFunction } from '../constructs/app-function';
import { CommandTables } from '../constructs/command-tables';
import { EventBus } from '../constructs/event-bus';
import { EventTable } from '../constructs/event-table';
import { ProjectionPipeline } from '../constructs/projection-pipeline';
import { ProjectionsTable } from '../constructs/projections-table';
import { Push } from '../constructs/push';
import { Redrive } from '../constructs/redrive';
import { Rebuild } from '../constructs/rebuild';
import { Workflows } from '../constructs/workflows';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import {
  addCommonOutputs,
  addEventBusOutputs,
  addRepairOutputs,
  addWorkflowsOutputs,
} from './outputs';

export interface AppStackProps extends StackProps {
  /** Parsed deployment options (lib/config.ts). */
  readonly options: DeploymentOptions;
  /** The tokens both APIs accept: the identity stack's issuer and app client id. */
  readonly acceptedTokens: AcceptedTokens;
}

export class DecoupledStack extends Stack {
  readonly eventTable: EventTable;
  /** The declared projections' rows (lambdas/handlers/deployment.ts). */
  readonly projectionsTable: ProjectionsTable;
  /** Snapshots and idempotency markers: the command function's alone. */
  readonly commandTables: CommandTables;
  readonly commandFunction: AppFunction;
  readonly queryFunction: AppFunction;
  readonly projectorFunction: AppFunction;
  readonly projection: ProjectionPipeline;
  /** The projector's DLQ -> re-projection of the aggregates it names. */
  readonly redrive: Redrive;
  readonly api: Api;
  readonly push: Push;
  /** Rebuild of declared projections from the event table (Step Functions). */
  readonly rebuild: Rebuild;
  /** Domain events on an EventBridge bus, through a pipe from the event stream. */
  readonly eventBus: EventBus;
  /** The process managers, run from the event stream and their timers. */
  readonly workflows: Workflows;

  constructor(scope: Construct, id: string, props: AppStackProps) {
    super(scope, id, props);
    const { disposable, tracing, throttle, corsOrigins } = props.options;
    const { acceptedTokens } = props;

    this.eventTable = new EventTable(this, 'EventTable', { stream: true, disposable });
    const events = this.eventTable.table;
    this.projectionsTable = new ProjectionsTable(this, 'ProjectionsTable', { disposable });
    const projectionRows = this.projectionsTable.table;
    this.commandTables = new CommandTables(this, 'CommandTables', { disposable });

    this.commandFunction = new AppFunction(this, 'CommandFunction', {
      entry: 'command',
      description: 'POST /commands: decide and append events (decoupled)',
      eventTable: { table: events, access: 'append' },
      commandTables: {
        snapshots: this.commandTables.snapshots,
        commands: this.commandTables.commands,
        snapshotEvery: props.options.snapshotEvery,
      },
      tracing,
      disposable,
    });
    this.queryFunction = new AppFunction(this, 'QueryFunction', {
      entry: 'query',
      description: 'GET routes: views, lists, read models, event log, history (decoupled)',
      eventTable: { table: events, access: 'read' },
      projections: { table: projectionRows, access: 'read' },
      tracing,
      disposable,
    });
    if (props.options.servedProjectionVersions) {
      this.queryFunction.function.addEnvironment(
        ENV.servedProjectionVersions,
        props.options.servedProjectionVersions,
      );
    }
    this.projectorFunction = new AppFunction(this, 'ProjectorFunction', {
      entry: 'projector',
      description: 'Event table stream -> declared projections (decoupled)',
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

    const handlers = { command: this.commandFunction, query: this.queryFunction };
    this.api = new Api(this, 'Api', {
      description: 'Redux backend, decoupled profile (command / query / projector)',
      functionFor: (route) => handlers[route.decoupled].function,
      acceptedTokens,
      throttle,
      corsOrigins,
      disposable,
    });

    this.push = new Push(this, 'Push', {
      projectionsTable: projectionRows,
      servedProjectionVersions: props.options.servedProjectionVersions,
      // They post the rows they write themselves (docs/decisions/push-from-the-writer.md).
      writers: [this.projectorFunction],
      acceptedTokens,
      throttle,
      tracing,
      disposable,
    });

    addCommonOutputs(this, {
      apiUrl: this.api.url,
      eventTableName: events.tableName,
    });
    this.rebuild = new Rebuild(this, 'Rebuild', {
      eventTable: events,
      projectionsTable: projectionRows,
      projections: PROJECTIONS,
      tracing,
      disposable,
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
      stackName: 'decoupled',
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
