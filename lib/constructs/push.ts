/**
 * Live updates (both stacks): an API Gateway WebSocket API in front of the connections function,
 * the subscriptions table, the writers that post the rows they write (the coupled function, the
 * projector: `writers`), and the notifier fed by the projections table's stream for every other
 * row write (a rebuild's, a redrive's, a process's: lambdas/handlers/notifier.ts), so the
 * coupled and the decoupled stack push the same way and the pushed version is the row a query
 * returns.
 *
 * - Routes (selection `$request.body.action`): `$connect` (a Lambda REQUEST authorizer: the
 *   connect-authorizer function verifies the token of `?token=`, the same ID token the HTTP
 *   routes take, and API Gateway passes its context `{ sub, roles, exp }` to every route of the
 *   connection), `$disconnect`, `subscribe`, `unsubscribe`, and `$default` answering
 *   UNKNOWN_ACTION; the message routes return the function's answer on the socket.
 * - Grants, each to the one function that uses it: connections PutItem/DeleteItem on the
 *   table and Query on its `byConnection` index, and GetItem on the read-model and projections
 *   tables (the followed row's version in its `subscribed` answer); notifier Query (topic, a
 *   consistent read of the table; connection, the index), DeleteItem
 *   (gone connections), the stream, and execute-api:ManageConnections on
 *   `POST @connections/*` of this API's stage only; each writer the same but the stream. The authorizer gets no grant at all: it
 *   verifies tokens against the issuer's public keys (JWKS, fetched over HTTPS).
 * - The subscriptions table is ephemeral (connections live at most 2 hours and clients
 *   resubscribe on reconnect): deleted with the stack, no PITR, TTL on `expiresAt`.
 */
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { NOTIFIER_STREAM_FILTER, SOCKET_ACTIONS } from '../../lambdas/core/push/push';
import { SUBSCRIPTION_TTL_ATTRIBUTE, SUBSCRIPTIONS_TABLE } from '../../lambdas/core/shared/schema';
import { CONNECT_TOKEN_PARAMETER } from '../../lambdas/handlers/connect-authorizer';
import { ENV } from '../../lambdas/handlers/environment';
import { DEFAULT_THROTTLE, type ThrottleOptions } from '../config';
import { addOutputs } from '../stacks/outputs';
import { AppFunction } from './app-function';
import type { AcceptedTokens } from './identity';
import { keySchemaOf } from './table-definition';

/** The stage name: the WebSocket URL is `wss://<api>.execute-api.<region>.amazonaws.com/live`. */
export const PUSH_STAGE = 'live';

export interface PushProps {
  /**
   * The declared projections' table, whose items include every collection's view (the orders,
   * the shopping lists); it must have a stream (ProjectionsTable always has one).
   */
  readonly projectionsTable: dynamodb.ITableV2;
  /** `-c servedProjectionVersions`: the notifier pushes the versions the queries serve. */
  readonly servedProjectionVersions?: string;
  /** The tokens `$connect` accepts in `?token=` (the same as the HTTP API's). */
  readonly acceptedTokens: AcceptedTokens;
  /** Stage throttling (messages per second). @default 100/s, burst 200 */
  readonly throttle?: ThrottleOptions;
  /** X-Ray on the three functions (connections, notifier, authorizer). @default false */
  readonly tracing?: boolean;
  /** Delete the log groups with the stack. @default false - retained */
  readonly disposable?: boolean;
  /**
   * The functions that post the rows they write to their subscribers themselves (the coupled
   * function after its commit, the projector after its row write: a push costs no extra stream
   * hop). Each gets the table's name, the stage's callback URL, the served versions, and what
   * the notifier has on the subscriptions: Query (the subscribers, a consistent read; the
   * `byConnection` index and DeleteItem for gone connections) and ManageConnections on
   * `POST @connections/*`. @default none: the notifier pushes every row
   */
  readonly writers?: readonly AppFunction[];
}

export class Push extends Construct {
  readonly subscriptionsTable: dynamodb.TableV2;
  readonly webSocketApi: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;
  readonly connectionsFunction: AppFunction;
  readonly notifierFunction: AppFunction;
  /** `$connect`'s Lambda REQUEST authorizer. */
  readonly connectAuthorizerFunction: AppFunction;
  /** The notifier's source: the projections table's stream (every collection's view). */
  readonly eventSources: readonly DynamoEventSource[];
  readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PushProps) {
    super(scope, id);
    const { tracing, disposable } = props;

    this.subscriptionsTable = new dynamodb.TableV2(this, 'SubscriptionsTable', {
      ...keySchemaOf(SUBSCRIPTIONS_TABLE),
      timeToLiveAttribute: SUBSCRIPTION_TTL_ATTRIBUTE,
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.dynamoOwnedKey(),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const table = this.subscriptionsTable;
    const byConnection = `${table.tableArn}/index/${SUBSCRIPTIONS_TABLE.indexes[0].indexName}`;

    this.connectionsFunction = new AppFunction(this, 'ConnectionsFunction', {
      entry: 'connections',
      description: 'WebSocket routes: $connect, $disconnect, subscribe, unsubscribe, $default',
      tracing,
      disposable,
    });
    this.notifierFunction = new AppFunction(this, 'NotifierFunction', {
      entry: 'notifier',
      description: 'View streams -> a message to each subscriber of the changed row',
      tracing,
      disposable,
    });
    this.connectAuthorizerFunction = new AppFunction(this, 'ConnectAuthorizerFunction', {
      entry: 'connect-authorizer',
      description: '$connect: verifies the ID token of ?token= (no table, no grant)',
      tracing,
      disposable,
    });
    const authorizerFunction = this.connectAuthorizerFunction.function;
    authorizerFunction.addEnvironment(ENV.tokenIssuer, props.acceptedTokens.issuer);
    authorizerFunction.addEnvironment(ENV.tokenAudience, props.acceptedTokens.audience);
    const connections = this.connectionsFunction;
    const notifier = this.notifierFunction;
    // The table name and its grants are set together, as AppFunction does for the other tables.
    for (const fn of [connections, notifier]) {
      fn.function.addEnvironment(ENV.subscriptionsTable, table.tableName);
    }
    const allow = (fn: AppFunction, actions: string[], resources: string[]) =>
      fn.role.addToPolicy(new iam.PolicyStatement({ actions, resources }));
    // A subscription and its connection's counter change together, in one transaction.
    allow(
      connections,
      ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
      [table.tableArn],
    );
    // $disconnect reads a connection's items by connection; $connect counts the user's
    // connections, a consistent Query of their topic (MAX_CONNECTIONS_PER_USER).
    allow(connections, ['dynamodb:Query'], [table.tableArn, byConnection]);
    // The `subscribed` answer carries the followed row's version: one consistent GetItem.
    connections.function.addEnvironment(ENV.projectionsTable, props.projectionsTable.tableName);
    allow(connections, ['dynamodb:GetItem'], [props.projectionsTable.tableArn]);
    const posters = [notifier, ...(props.writers ?? [])];
    for (const fn of props.writers ?? []) {
      fn.function.addEnvironment(ENV.subscriptionsTable, table.tableName);
    }
    for (const fn of posters) {
      allow(fn, ['dynamodb:Query', 'dynamodb:DeleteItem'], [table.tableArn]);
      allow(fn, ['dynamodb:Query'], [byConnection]);
    }

    const integration = new WebSocketLambdaIntegration('Connections', connections.function);
    this.webSocketApi = new apigwv2.WebSocketApi(this, 'WebSocketApi', {
      apiName: `${Stack.of(this).stackName}-push`,
      description: 'Live updates: subscribe to a collection id, receive <view>/changed messages',
      routeSelectionExpression: '$request.body.action',
      connectRouteOptions: {
        integration,
        authorizer: new WebSocketLambdaAuthorizer('ConnectAuthorizer', authorizerFunction, {
          identitySource: [`route.request.querystring.${CONNECT_TOKEN_PARAMETER}`],
        }),
      },
      disconnectRouteOptions: { integration },
      defaultRouteOptions: { integration, returnResponse: true },
    });
    for (const action of SOCKET_ACTIONS) {
      this.webSocketApi.addRoute(action, { integration, returnResponse: true });
    }

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    const throttle = props.throttle ?? DEFAULT_THROTTLE;
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.webSocketApi,
      stageName: PUSH_STAGE,
      autoDeploy: true,
      throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            connectionId: '$context.connectionId',
            eventType: '$context.eventType',
            routeKey: '$context.routeKey',
            status: '$context.status',
            caller: '$context.authorizer.principalId',
            authorizerError: '$context.authorizer.error',
            sourceIp: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            integrationError: '$context.integrationErrorMessage',
            errorMessage: '$context.error.message',
          }),
        ),
      },
    });

    for (const fn of posters) {
      fn.function.addEnvironment(ENV.websocketManagementEndpoint, this.stage.callbackUrl);
    }
    if (props.servedProjectionVersions) {
      // Each reads or posts a collection's view at the version its GET serves.
      for (const fn of [connections, ...posters]) {
        fn.function.addEnvironment(ENV.servedProjectionVersions, props.servedProjectionVersions);
      }
    }
    // The finding id names the API's logical id, as cdk-nag flattens the ARN.
    const apiLogicalId = Stack.of(this).resolve(
      (this.webSocketApi.node.defaultChild as CfnElement).logicalId,
    ) as string;
    for (const fn of posters) {
      allow(
        fn,
        ['execute-api:ManageConnections'],
        [
          Stack.of(this).formatArn({
            service: 'execute-api',
            resource: this.webSocketApi.apiId,
            resourceName: `${PUSH_STAGE}/POST/@connections/*`,
          }),
        ],
      );
      Validations.of(fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${PUSH_STAGE}/POST/@connections/*]`,
        reason:
          'PostToConnection on the connections of this API stage only: connection ids are ' +
          'created at run time, so the ARN ends in a wildcard.',
      });
    }

    // A poke is a hint: a few retries, then it is dropped (no DLQ); clients resync on reconnect.
    this.eventSources = [props.projectionsTable].map((table) => {
      const source = new DynamoEventSource(table, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 100,
        bisectBatchOnError: true,
        retryAttempts: 3,
        maxRecordAge: Duration.minutes(5),
        reportBatchItemFailures: true,
        parallelizationFactor: 1,
        // A row its writer posted (PUSHED_BY_ATTRIBUTE) is discarded before any invocation.
        filters: [lambda.FilterCriteria.filter(NOTIFIER_STREAM_FILTER)],
      });
      notifier.function.addEventSource(source);
      return source;
    });
    Validations.of(notifier).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'A push is a hint, stale within seconds: after its retries it is dropped, and clients ' +
        'resync every subscription on (re)connect; a queue of old pokes would serve no one.',
    });

    Validations.of(this.webSocketApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'API Gateway authorizes a WebSocket connection once, on $connect (the token ' +
        'authorizer here); the other routes run on that authorized connection and cannot take ' +
        'an authorizer.',
    });

    addOutputs(Stack.of(this), { webSocketUrl: this.stage.url });
  }
}
