/**
 * The rebuild of a declared projection in AWS: a Step Functions state machine that runs the
 * same code as `npm run rebuild` (lambdas/handlers/rebuild.ts), Distributed Map over the parallel
 * Scan segments of the event table:
 *
 *   Start (function: check input, header, segment list)
 *   -> Distributed Map over the K segments, each: Segment (function) -> done? else Segment again
 *      (a segment stops 2 minutes before Lambda's 15-minute limit and resumes from its saved
 *      progress on the next invocation)
 *   -> Finish (function: mark `complete`, or `failed` when events could not be applied; totals)
 *   -> caught up? Succeed : Fail (`RebuildFailed`)
 *
 * Input: `{ "projection": "removed-lines", "version": 1, "segments": 16, "until"?: ISO }`.
 *
 * The function may Scan the event table and GetItem/BatchGetItem/PutItem in the projections table only on
 * keys of the projections this deployment lists and on the rebuild's own progress items: a
 * `dynamodb:LeadingKeys` condition from the deployment list, known at deploy time. Narrower (one
 * execution's `<name>@v<N>#*`) would need a role per execution; see
 * docs/decisions/rebuild-in-aws.md.
 */
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { REBUILD_STATE_PREFIX } from '../../lambdas/core/repair/rebuild-state';
import type { AnyRowProjection } from '../../lambdas/core/projections/row-projection';
import { ENV } from '../../lambdas/handlers/environment';
import { AppFunction } from './app-function';

export interface RebuildProps {
  readonly eventTable: dynamodb.ITableV2;
  readonly projectionsTable: dynamodb.ITableV2;
  /** The deployment's declared projections: the only storage the function may write. */
  readonly projections: readonly AnyRowProjection[];
  /** Segments rebuilt at once (Distributed Map MaxConcurrency). @default 100 */
  readonly maxConcurrency?: number;
  readonly tracing?: boolean;
  readonly disposable?: boolean;
}

/** The partition-key patterns the rebuild function may touch in the projections table. */
export const rebuildLeadingKeys = (projections: readonly AnyRowProjection[]) => [
  ...new Set(
    projections.flatMap((p) => [
      `${p.name}@v${p.version}#*`, // the version's rows
      `${p.name}@v${p.version}@*`, // its builds as of a past moment
    ]),
  ),
  `${REBUILD_STATE_PREFIX}*`,
];

export class Rebuild extends Construct {
  readonly function: AppFunction;
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: RebuildProps) {
    super(scope, id);
    this.function = new AppFunction(this, 'Function', {
      entry: 'rebuild',
      description: 'Rebuild of a declared projection from the event table, one Scan segment a call',
      // Lambda's limit; a segment stops 2 minutes before it and resumes on the next call.
      timeout: Duration.minutes(15),
      tracing: props.tracing,
      disposable: props.disposable,
    });
    const fn = this.function.function;
    fn.addEnvironment(ENV.eventTable, props.eventTable.tableName);
    fn.addEnvironment(ENV.projectionsTable, props.projectionsTable.tableName);
    this.function.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Scan'],
        resources: [props.eventTable.tableArn],
      }),
    );
    this.function.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem'],
        resources: [props.projectionsTable.tableArn],
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': rebuildLeadingKeys(props.projections),
          },
        },
      }),
    );

    const invoke = (name: string, payload: Record<string, unknown>) =>
      new tasks.LambdaInvoke(this, name, {
        lambdaFunction: fn,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        retryOnServiceExceptions: true,
      });
    const fields = {
      'projection.$': '$.projection',
      'version.$': '$.version',
      'until.$': '$.until',
      'segments.$': '$.segments',
    };
    // The execution's input as it is (`until` may be absent, which JSONPath cannot read): the
    // function's answer carries every field, `until: null` included, for the next states.
    const start = new tasks.LambdaInvoke(this, 'Start', {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromJsonPathAt('$'),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    const segment = invoke('Segment', { action: 'segment', ...fields, 'segment.$': '$.segment' });
    segment.next(
      new sfn.Choice(this, 'Segment done?')
        .when(sfn.Condition.booleanEquals('$.done', true), new sfn.Succeed(this, 'Segment rebuilt'))
        .otherwise(segment),
    );
    const map = new sfn.DistributedMap(this, 'Segments', {
      itemsPath: '$.items',
      itemSelector: { ...fields, 'segment.$': '$$.Map.Item.Value' },
      maxConcurrency: props.maxConcurrency ?? 100,
      resultPath: sfn.JsonPath.DISCARD,
    });
    map.itemProcessor(segment);
    const finish = invoke('Finish', { action: 'finish', ...fields });
    const definition = start
      .next(map)
      .next(finish)
      .next(
        new sfn.Choice(this, 'Caught up?')
          .when(sfn.Condition.booleanEquals('$.caughtUp', true), new sfn.Succeed(this, 'Rebuilt'))
          .otherwise(
            new sfn.Fail(this, 'Events not applied', {
              error: 'RebuildFailed',
              causePath:
                "States.Format('{} events not applied, first: {}', $.failures, $.firstFailure)",
            }),
          ),
      );

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      comment:
        'Rebuild a declared projection from the event table (docs/operations/rebuild-in-aws.md)',
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: props.tracing ?? false,
    });

    const stack = Stack.of(this);
    const logicalId = (c: Construct) =>
      stack.resolve((c.node.defaultChild as CfnElement).logicalId) as string;
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId(this.stateMachine)}"}]}]}`;
    Validations.of(this).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${logicalId(fn)}.Arn>:*]`,
        reason:
          'LambdaInvoke grants invoke on the rebuild function and its versions (ARN:*): one function only.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${executions}:*]`,
        reason:
          "A Distributed Map runs its iterations as child executions of this state machine: the grant is on this state machine's own executions only.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::${executions}/*:*]`,
        reason: 'Same as above: the Map Run of this state machine and its child executions.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'CloudWatch Logs delivery for Step Functions (logs:CreateLogDelivery, ...DescribeLogGroups) and, with tracing, X-Ray support no resource-level permissions.',
      },
      ...(props.tracing
        ? []
        : [
            {
              id: 'AwsSolutions-SF2',
              reason:
                'X-Ray is opt-in (-c tracing=true), as for the functions; every step is logged (level ALL).',
            },
            {
              id: 'Serverless-StepFunctionStateMachineXray',
              reason: 'Same as AwsSolutions-SF2: X-Ray is opt-in (-c tracing=true).',
            },
          ]),
    );
  }
}
