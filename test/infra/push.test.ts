/** Live updates in both stacks: the WebSocket API, its authorization, the table, the notifier. */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SOCKET_ACTIONS } from '../../lambdas/core/push/push';
import { SUBSCRIPTION_TTL_ATTRIBUTE, SUBSCRIPTIONS_TABLE } from '../../lambdas/core/shared/schema';
import { CONNECT_TOKEN_PARAMETER } from '../../lambdas/handlers/connect-authorizer';
import { ENV } from '../../lambdas/handlers/environment';
import { AppFunction } from '../../lib/constructs/app-function';
import { ProjectionsTable } from '../../lib/constructs/projections-table';
import { Push, PUSH_STAGE } from '../../lib/constructs/push';
import { type AppStack, logicalIdOf, permissionsOf, synthesize } from './helpers';

const byDefault = synthesize();

const STACKS = [
  ['decoupled', byDefault.decoupledTemplate, byDefault.decoupled],
  ['coupled', byDefault.coupledTemplate, byDefault.coupled],
] as const;

const webSocketRoutes = (template: Template, stack: AppStack) => {
  const apiId = logicalIdOf(stack.push.webSocketApi, stack);
  return Object.values(template.findResources('AWS::ApiGatewayV2::Route')).filter(
    (route) => (route.Properties.ApiId as { Ref: string }).Ref === apiId,
  );
};

describe.each(STACKS)('%s stack push', (_name, template, stack) => {
  const apiId = logicalIdOf(stack.push.webSocketApi, stack);
  const tableId = logicalIdOf(stack.push.subscriptionsTable, stack);
  const projectionsId = logicalIdOf(stack.projectionsTable.table, stack);
  const fnPrefix = (fn: 'Notifier' | 'Connections' | 'ConnectAuthorizer') => `Push${fn}Function`;

  it('has a WebSocket API selecting routes on the message action', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
    const keys = webSocketRoutes(template, stack).map((r) => r.Properties.RouteKey as string);
    expect(keys.sort()).toEqual(['$connect', '$default', '$disconnect', ...SOCKET_ACTIONS].sort());
  });

  it('given a WebSocket upgrade, when $connect is routed, then the connect-authorizer function checks the token of ?token= (a Lambda REQUEST authorizer)', () => {
    const routes = webSocketRoutes(template, stack);
    const connect = routes.find((r) => r.Properties.RouteKey === '$connect');
    const authorizers = Object.entries(
      template.findResources('AWS::ApiGatewayV2::Authorizer', {
        Properties: { ApiId: { Ref: apiId } },
      }),
    );
    expect(authorizers).toHaveLength(1);
    const [authorizerId, authorizer] = authorizers[0]!;
    expect(connect?.Properties).toMatchObject({
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizerId },
    });
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      IdentitySource: [`route.request.querystring.${CONNECT_TOKEN_PARAMETER}`],
    });
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toMatch(
      new RegExp(`"${fnPrefix('ConnectAuthorizer')}Handler\\w+","Arn"`),
    );
    // The other routes run on the authorized connection: API Gateway takes no authorizer there.
    for (const route of routes.filter((r) => r.Properties.RouteKey !== '$connect')) {
      expect(route.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
    }
  });

  it('given the connect authorizer, when API Gateway invokes it, then a permission of this API allows it', () => {
    const permissions = Object.values(
      template.findResources('AWS::Lambda::Permission', {
        Properties: {
          FunctionName: {
            'Fn::GetAtt': [
              Match.stringLikeRegexp(`^${fnPrefix('ConnectAuthorizer')}Handler`),
              'Arn',
            ],
          },
        },
      }),
    );
    expect(permissions).toHaveLength(1);
    expect(permissions[0]?.Properties.Principal).toBe('apigateway.amazonaws.com');
    expect(JSON.stringify(permissions[0]?.Properties.SourceArn)).toContain(apiId);
  });

  it('given the connect authorizer, when its role is read, then it may only write its log: no table, no other grant', () => {
    const { permissions, managedPolicyArns } = permissionsOf(
      template,
      `${fnPrefix('ConnectAuthorizer')}Handler`,
    );
    expect(permissions.filter((p) => !p.startsWith('logs:'))).toEqual([]);
    expect(permissions.filter((p) => p.startsWith('dynamodb:'))).toEqual([]);
    expect(managedPolicyArns).toEqual([]);
  });

  it('answers on the socket for subscribe, unsubscribe and $default (route responses)', () => {
    const withResponse = webSocketRoutes(template, stack)
      .filter((r) => r.Properties.RouteResponseSelectionExpression === '$default')
      .map((r) => r.Properties.RouteKey as string);
    expect(withResponse.sort()).toEqual(['$default', ...SOCKET_ACTIONS].sort());
    template.resourcePropertiesCountIs(
      'AWS::ApiGatewayV2::RouteResponse',
      { ApiId: { Ref: apiId }, RouteResponseKey: '$default' },
      3,
    );
  });

  it(`deploys a throttled, access-logged stage "${PUSH_STAGE}" and outputs its URL`, () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiId },
      StageName: PUSH_STAGE,
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: Match.objectLike({ Format: Match.stringLikeRegexp('connectionId') }),
    });
    expect(template.findOutputs('WebSocketUrl')).toHaveProperty('WebSocketUrl');
  });

  it('keys the subscriptions table as SUBSCRIPTIONS_TABLE, with the TTL and the byConnection index', () => {
    const table = template.findResources('AWS::DynamoDB::GlobalTable')[tableId];
    expect(table?.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: SUBSCRIPTIONS_TABLE.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: SUBSCRIPTIONS_TABLE.sortKey.name, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: SUBSCRIPTIONS_TABLE.indexes[0].indexName,
          KeySchema: [
            { AttributeName: SUBSCRIPTIONS_TABLE.indexes[0].partitionKey.name, KeyType: 'HASH' },
            { AttributeName: SUBSCRIPTIONS_TABLE.indexes[0].sortKey.name, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      TimeToLiveSpecification: { AttributeName: SUBSCRIPTION_TTL_ATTRIBUTE, Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
    // Ephemeral (2-hour connections, clients resubscribe): deleted with the stack.
    expect(table?.DeletionPolicy).toBe('Delete');
  });

  it("feeds the projections table's stream (every view) to the notifier, with bounded retries, less the rows their writer posted", () => {
    const notifierSources = template.findResources('AWS::Lambda::EventSourceMapping', {
      Properties: {
        FunctionName: { Ref: Match.stringLikeRegexp(`^${fnPrefix('Notifier')}Handler`) },
      },
    });
    // One source: the orders' rows are in the projections table like every other view.
    expect(Object.values(notifierSources).map((source) => source.Properties)).toEqual([
      expect.objectContaining({
        EventSourceArn: { 'Fn::GetAtt': [projectionsId, 'StreamArn'] },
        StartingPosition: 'LATEST',
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 3,
        ParallelizationFactor: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        FilterCriteria: {
          Filters: [{ Pattern: '{"dynamodb":{"NewImage":{"pushedBy":{"S":[{"exists":false}]}}}}' }],
        },
      }),
    ]);
  });

  it('notifier: the stream, Query/DeleteItem on subscriptions, ManageConnections on POST @connections of the stage only', () => {
    const table = `<${tableId}.Arn>`;
    const stream = `<${projectionsId}.StreamArn>`;
    const { permissions } = permissionsOf(template, `${fnPrefix('Notifier')}Handler`);
    expect(permissions.filter((p) => !p.startsWith('logs:'))).toEqual(
      [
        `dynamodb:DeleteItem ${table}`,
        `dynamodb:Query ${table}`,
        `dynamodb:Query ${table}/index/byConnection`,
        ...['DescribeStream', 'GetRecords', 'GetShardIterator', 'ListStreams'].map(
          (a) => `dynamodb:${a} ${stream}`,
        ),
        `execute-api:ManageConnections arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiId}>/${PUSH_STAGE}/POST/@connections/*`,
      ].sort(),
    );
  });

  it("connections: PutItem/DeleteItem/UpdateItem on subscriptions (the count), Query on it (a user's connections) and byConnection, GetItem on the projections table, nothing else", () => {
    const table = `<${tableId}.Arn>`;
    const { permissions } = permissionsOf(template, `${fnPrefix('Connections')}Handler`);
    expect(permissions.filter((p) => !p.startsWith('logs:'))).toEqual(
      [
        `dynamodb:DeleteItem ${table}`,
        `dynamodb:PutItem ${table}`,
        // A subscription and its connection's counter item change in one transaction.
        `dynamodb:UpdateItem ${table}`,
        // $connect counts the user's open connections (MAX_CONNECTIONS_PER_USER).
        `dynamodb:Query ${table}`,
        `dynamodb:Query ${table}/index/byConnection`,
        `dynamodb:GetItem <${projectionsId}.Arn>`,
      ].sort(),
    );
  });

  it('gives each function its table names, and the notifier the stage callback URL', () => {
    const env = (prefix: string) => {
      const [fn] = Object.entries(template.findResources('AWS::Lambda::Function'))
        .filter(([id]) => id.startsWith(prefix))
        .map(([, f]) => f.Properties.Environment.Variables as Record<string, unknown>);
      return fn ?? {};
    };
    // The authorizer: the token's expected issuer and audience, and no table name.
    expect(Object.keys(env(fnPrefix('ConnectAuthorizer'))).sort()).toEqual(
      ['NODE_OPTIONS', ENV.tokenIssuer, ENV.tokenAudience].sort(),
    );
    expect(Object.keys(env(fnPrefix('Connections'))).sort()).toEqual(
      ['NODE_OPTIONS', ENV.subscriptionsTable, ENV.projectionsTable].sort(),
    );
    const notifierEnv = env(fnPrefix('Notifier'));
    expect(Object.keys(notifierEnv).sort()).toEqual(
      ['NODE_OPTIONS', ENV.subscriptionsTable, ENV.websocketManagementEndpoint].sort(),
    );
    expect(JSON.stringify(notifierEnv[ENV.websocketManagementEndpoint])).toContain(
      `/${PUSH_STAGE}`,
    );
  });
});

describe('push writers (functions that post the rows they write)', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Writers');
  const projections = new ProjectionsTable(stack, 'ProjectionsTable');
  const writer = new AppFunction(stack, 'WriterFunction', {
    entry: 'projector',
    description: 'a writer',
  });
  const push = new Push(stack, 'Push', {
    projectionsTable: projections.table,
    acceptedTokens: { issuer: 'https://issuer.example', audience: 'app' },
    servedProjectionVersions: 'order=2',
    writers: [writer],
  });
  const template = Template.fromStack(stack);
  const tableId = logicalIdOf(push.subscriptionsTable, stack);
  const apiId = logicalIdOf(push.webSocketApi, stack);

  it('given a writer, then it may read the subscribers, clean up gone connections and post to this stage only, nothing more', () => {
    const table = `<${tableId}.Arn>`;
    const { permissions } = permissionsOf(template, 'WriterFunctionHandler');
    expect(permissions.filter((p) => !p.startsWith('logs:'))).toEqual(
      [
        `dynamodb:DeleteItem ${table}`,
        `dynamodb:Query ${table}`,
        `dynamodb:Query ${table}/index/byConnection`,
        `execute-api:ManageConnections arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiId}>/${PUSH_STAGE}/POST/@connections/*`,
      ].sort(),
    );
  });

  it('given a writer, then its environment names the subscriptions, the stage callback URL and the served versions', () => {
    const [variables] = Object.entries(template.findResources('AWS::Lambda::Function'))
      .filter(([id]) => id.startsWith('WriterFunctionHandler'))
      .map(([, f]) => f.Properties.Environment.Variables as Record<string, unknown>);
    expect(variables).toMatchObject({
      [ENV.subscriptionsTable]: { Ref: tableId },
      [ENV.servedProjectionVersions]: 'order=2',
    });
    expect(JSON.stringify(variables?.[ENV.websocketManagementEndpoint])).toContain(
      `/${PUSH_STAGE}`,
    );
  });
});
