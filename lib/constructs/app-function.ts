/**
 * One Lambda function of this app: a NodejsFunction bundled locally by esbuild, with its own
 * role, its own log group, and the table access it declares. The environment variables a
 * handler reads (lambdas/handlers/environment.ts) and the IAM actions it needs are set here,
 * together, from the same `access` declaration: a function cannot get a table name without the
 * grant, nor a grant it does not use.
 *
 * The DynamoDB calls behind each access level (see lambdas/core/dynamodb-*.ts):
 * - events `read`: Query (load, history, gap healing).
 * - events `append`: Query + PutItem + ConditionCheckItem. An append is a TransactWriteItems of
 *   Puts, which IAM authorizes as PutItem on each item's table (there is no
 *   `TransactWriteItems` IAM action), plus a ConditionCheck that the previous version exists
 *   (authorized as ConditionCheckItem).
 * - commandTables: GetItem + PutItem on the snapshots table (read the newest, write a new one)
 *   and on the commands table (find a marker; write one inside the events' transaction).
 * - projections `read`: GetItem, BatchGetItem (a row; a sharded row; a keys-only list's page),
 *   Query on the table's list slots (the list routes).
 * - projections `project`: GetItem + conditional PutItem (the projector, redrive).
 * - projections `readWrite`: `read` + UpdateItem (the coupled function's view, inside the
 *   events' TransactWriteItems).
 * Never Scan, never a wildcard action, never a `*` resource for DynamoDB.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/handlers/environment';
import { BUNDLE_OPTIONS } from './bundle-options';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const ENTRY_DIR = path.join(REPO_ROOT, 'lambdas', 'handlers', 'entry');

/** The Lambda entry points in lambdas/handlers/entry, each `export const handler`. */
export type EntryPoint =
  | 'command'
  | 'query'
  | 'projector'
  | 'coupled'
  | 'connections'
  | 'notifier'
  | 'redrive'
  | 'rebuild'
  | 'connect-authorizer'
  | 'workflows'
  | 'workflows-redrive'
  | 'bus-enrichment'
  | 'sample-consumer';

export type EventTableAccess = 'read' | 'append';
export type ProjectionsAccess = 'read' | 'project' | 'readWrite';

const EVENT_TABLE_ACTIONS: Record<EventTableAccess, string[]> = {
  read: ['dynamodb:Query'],
  append: ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'],
};
/** A sharded row and a keys-only list's page are read in one BatchGetItem. */
const PROJECTIONS_ACTIONS: Record<ProjectionsAccess, string[]> = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
  project: ['dynamodb:GetItem', 'dynamodb:PutItem'],
  // The coupled function: it reads, and updates a view in the command's transaction.
  readWrite: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
};
/** A table and what the function does with it. */
export interface TableAccess<Access extends string> {
  readonly table: dynamodb.ITableV2;
  readonly access: Access;
}

export interface AppFunctionProps {
  /** The entry point to bundle (lambdas/handlers/entry/<entry>.ts). */
  readonly entry: EntryPoint;
  /** Shown in the Lambda console. */
  readonly description: string;
  /** The event table and the access level; sets EVENT_TABLE_NAME. @default no access */
  readonly eventTable?: TableAccess<EventTableAccess>;
  /** The declared projections' table; sets PROJECTIONS_TABLE_NAME. @default no access */
  readonly projections?: TableAccess<ProjectionsAccess>;
  /**
   * The command side's tables (snapshots, idempotency markers) and the snapshot interval; sets
   * SNAPSHOTS_TABLE_NAME, COMMANDS_TABLE_NAME and SNAPSHOT_EVERY. Command functions only.
   * @default no access
   */
  readonly commandTables?: {
    readonly snapshots: dynamodb.ITableV2;
    readonly commands: dynamodb.ITableV2;
    readonly snapshotEvery: number;
  };
  /**
   * Memory in MB. Lambda gives CPU in proportion to memory; 1024 MB keeps the cold start (module
   * parse) and the JSON work short at a small price per ms.
   * @default 1024
   */
  readonly memorySize?: number;
  /** @default 10 seconds: above the query API's 5 s minVersion wait and the append retries */
  readonly timeout?: Duration;
  /** X-Ray active tracing. @default false */
  readonly tracing?: boolean;
  /** Delete the log group with the stack. @default false - the log group is retained */
  readonly disposable?: boolean;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
}

export class AppFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    // Our own role instead of the default one with the AWSLambdaBasicExecutionRole managed
    // policy (logs:* on every log group): this function may only write to its own log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${props.entry} function`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const environment: Record<string, string> = { NODE_OPTIONS: '--enable-source-maps' };
    if (props.eventTable) {
      const { table, access } = props.eventTable;
      environment[ENV.eventTable] = table.tableName;
      this.allow(EVENT_TABLE_ACTIONS[access], [table.tableArn]);
    }
    if (props.projections) {
      const { table, access } = props.projections;
      environment[ENV.projectionsTable] = table.tableName;
      this.allow(PROJECTIONS_ACTIONS[access], [table.tableArn]);
      // The collections' list routes read the projections table's list slots.
      if (access !== 'project') this.allowIndexQueries(table, 'projections table');
    }

    if (props.commandTables) {
      const { snapshots, commands, snapshotEvery } = props.commandTables;
      environment[ENV.snapshotsTable] = snapshots.tableName;
      environment[ENV.commandsTable] = commands.tableName;
      environment[ENV.snapshotEvery] = String(snapshotEvery);
      this.allow(['dynamodb:GetItem', 'dynamodb:PutItem'], [snapshots.tableArn, commands.tableArn]);
    }

    this.function = new NodejsFunction(this, 'Handler', {
      entry: path.join(ENTRY_DIR, `${props.entry}.ts`),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      environment,
      ...(props.tracing && { tracing: lambda.Tracing.ACTIVE }),
      awsSdkConnectionReuse: false,
      bundling: {
        minify: BUNDLE_OPTIONS.minify,
        sourceMap: true,
        // Stack traces need the mappings, not the sources: a smaller zip.
        sourcesContent: false,
        target: BUNDLE_OPTIONS.target,
        // ESM (index.mjs) so esbuild tree-shakes; see bundle-options.ts and
        // docs/decisions/lean-functions.md.
        format: OutputFormat.ESM,
        mainFields: [...BUNDLE_OPTIONS.mainFields],
        esbuildArgs: Object.fromEntries(
          Object.entries(BUNDLE_OPTIONS.alias).map(([from, to]) => [`--alias:${from}`, to]),
        ),
        // Bundle the AWS SDK v3 too (the default for Node 18+ is to take the runtime's copy):
        // the version the tests ran against, in one file; see docs/operations/deploying.md for
        // the sizes.
        externalModules: [],
        logLevel: LogLevel.ERROR,
      },
    });

    this.acknowledgeFindings(props);
  }

  /** Query on the indexes of one of our tables (the list routes), acknowledged for cdk-nag. */
  private allowIndexQueries(table: dynamodb.ITableV2, which: string) {
    this.allow(['dynamodb:Query'], [`${table.tableArn}/index/*`]);
    // The finding id names the table's logical id, as cdk-nag flattens the ARN.
    const logicalId = Stack.of(this).resolve((table.node.defaultChild as CfnElement).logicalId);
    Validations.of(this).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
      reason:
        `Query on the indexes of our own ${which} only (the list routes); DynamoDB ` +
        'names index ARNs table/<name>/index/<index>.',
    });
  }

  private allow(actions: string[], resources: string[]): void {
    this.role.addToPolicy(new iam.PolicyStatement({ actions, resources }));
  }

  private acknowledgeFindings(props: AppFunctionProps): void {
    const acknowledgements = [
      {
        id: 'AwsSolutions-L1',
        reason:
          'Node.js 22 is pinned on purpose: the bundle targets node22 and the project supports ' +
          'Node 20+ locally; moving to a newer runtime is a deliberate, tested change.',
      },
      {
        id: 'Serverless-LambdaLatestVersion',
        reason: 'Same as AwsSolutions-L1: Node.js 22 is pinned on purpose.',
      },
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          'Never invoked asynchronously: API Gateway invokes synchronously and the stream ' +
          'event source mapping has its own on-failure destination (SQS); a function DLQ only ' +
          'receives failed asynchronous invocations.',
      },
    ];
    if (props.tracing) {
      acknowledgements.push({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Only xray:PutTraceSegments and xray:PutTelemetryRecords (added by tracing), which ' +
          'support no resource-level permissions.',
      });
    } else {
      acknowledgements.push({
        id: 'Serverless-LambdaTracing',
        reason:
          'X-Ray is opt-in (-c tracing=true): the handlers carry no X-Ray instrumentation, and ' +
          'every log line has the correlation id, which ties API, command and projection together.',
      });
    }
    Validations.of(this).acknowledge(...acknowledgements);
  }
}
