import type { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import {
  CORS_ALLOW_HEADERS,
  CORS_EXPOSE_HEADERS,
  DEFAULT_CORS_ORIGINS,
} from '../../lambdas/handlers/cors';
import { ROUTES, routeKey } from '../../lambdas/handlers/routes';
import { ACCESS_LOG_FIELDS } from '../../lib/constructs/api';
import { logicalIdOf, synthesize } from './helpers';

const byDefault = synthesize();
const throttled = synthesize({ throttleRate: '50', throttleBurst: '75' });

const STACKS = [
  ['decoupled', byDefault.decoupledTemplate, byDefault.decoupled],
  ['coupled', byDefault.coupledTemplate, byDefault.coupled],
] as const;

/**
 * The resources of the HTTP API only: the stacks also have the push WebSocket API (its own
 * tests are in push.test.ts), whose routes, integrations and stage share these types.
 */
const ofHttpApi = (template: Template, type: string) => {
  const [httpApiId] = Object.keys(
    template.findResources('AWS::ApiGatewayV2::Api', { Properties: { ProtocolType: 'HTTP' } }),
  );
  return Object.fromEntries(
    Object.entries(template.findResources(type)).filter(
      ([, resource]) => (resource.Properties.ApiId as { Ref?: string }).Ref === httpApiId,
    ),
  );
};

/** Route key -> the logical id of the function its integration invokes. */
const routeTargets = (template: Template) => {
  const integrations = ofHttpApi(template, 'AWS::ApiGatewayV2::Integration');
  const routes = Object.values(ofHttpApi(template, 'AWS::ApiGatewayV2::Route'));
  return Object.fromEntries(
    routes.map((route) => {
      const target = route.Properties.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
      const integration = integrations[target['Fn::Join'][1][1].Ref];
      const uri = integration?.Properties.IntegrationUri as { 'Fn::GetAtt': [string, string] };
      return [route.Properties.RouteKey as string, uri['Fn::GetAtt'][0]];
    }),
  );
};

const functionId = (stack: Stack, fn: { node: { defaultChild?: unknown } }) =>
  logicalIdOf(fn, stack);

describe.each(STACKS)('%s stack API', (_name, template, stack) => {
  it('is one HTTP API with one route per ROUTES entry', () => {
    expect(
      template.findResources('AWS::ApiGatewayV2::Api', { Properties: { ProtocolType: 'HTTP' } }),
    ).toEqual({ [logicalIdOf(stack.api.httpApi, stack)]: expect.anything() });
    const routes = ofHttpApi(template, 'AWS::ApiGatewayV2::Route');
    expect(Object.keys(routes)).toHaveLength(ROUTES.length);
    const keys = Object.values(routes).map((r) => r.Properties.RouteKey as string);
    expect(keys.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  // The authorizer's issuer and audience are asserted in identity.test.ts.
  it.each(ROUTES.map((r) => [routeKey(r)]))(
    'given ROUTES, when %s is synthesized, then it requires a token (the JWT authorizer)',
    (key) => {
      const [authorizerId] = Object.keys(ofHttpApi(template, 'AWS::ApiGatewayV2::Authorizer'));
      const route = Object.values(ofHttpApi(template, 'AWS::ApiGatewayV2::Route')).find(
        (r) => r.Properties.RouteKey === key,
      );
      expect(route?.Properties).toMatchObject({
        AuthorizationType: 'JWT',
        AuthorizerId: { Ref: authorizerId },
      });
    },
  );

  it('given the default deployment, when CORS is configured, then API Gateway answers the preflight: no OPTIONS route, no authorizer on it', () => {
    const keys = Object.values(ofHttpApi(template, 'AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties.RouteKey as string,
    );
    expect(keys.filter((key) => key.startsWith('OPTIONS') || key === '$default')).toEqual([]);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: { AllowMethods: ['POST', 'GET'] },
    });
  });

  it('answers CORS for the demo app only by default: the client headers in, its headers out', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: [...DEFAULT_CORS_ORIGINS],
        AllowMethods: ['POST', 'GET'],
        AllowHeaders: [...CORS_ALLOW_HEADERS],
        ExposeHeaders: [...CORS_EXPOSE_HEADERS],
        MaxAge: 600,
      },
    });
    const [api] = Object.values(template.findResources('AWS::ApiGatewayV2::Api'));
    expect(api?.Properties.CorsConfiguration.AllowOrigins).not.toContain('*');
    // The token travels in this header: a browser may only send it if the preflight allows it.
    expect(CORS_ALLOW_HEADERS).toContain('authorization');
    expect(CORS_EXPOSE_HEADERS).toEqual(
      expect.arrayContaining(['x-correlation-id', 'x-command-replayed', 'x-command-retries']),
    );
  });

  it('integrates with Lambda proxy, payload format 2.0', () => {
    for (const integration of Object.values(
      ofHttpApi(template, 'AWS::ApiGatewayV2::Integration'),
    )) {
      expect(integration.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
      });
    }
  });

  it('throttles the $default stage (100 req/s, burst 200) and deploys automatically', () => {
    expect(Object.keys(ofHttpApi(template, 'AWS::ApiGatewayV2::Stage'))).toHaveLength(1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
  });

  it('writes JSON access logs to its own log group, kept one month', () => {
    const [stage] = Object.values(ofHttpApi(template, 'AWS::ApiGatewayV2::Stage'));
    const settings = stage?.Properties.AccessLogSettings as {
      DestinationArn: { 'Fn::GetAtt': [string, string] };
      Format: string;
    };
    const logGroup =
      template.findResources('AWS::Logs::LogGroup')[settings.DestinationArn['Fn::GetAtt'][0]];
    expect(logGroup?.Properties).toEqual({ RetentionInDays: 30 });
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format).toEqual(ACCESS_LOG_FIELDS);
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
      responseLatency: '$context.responseLatency',
      integrationLatency: '$context.integrationLatency',
    });
  });

  it('outputs ApiUrl (the $default stage URL) and EventTableName', () => {
    const apiId = logicalIdOf(stack.api.httpApi, stack);
    template.hasOutput('ApiUrl', {
      Value: {
        'Fn::Join': [
          '',
          [
            'https://',
            { Ref: apiId },
            '.execute-api.',
            { Ref: 'AWS::Region' },
            '.',
            { Ref: 'AWS::URLSuffix' },
            '/',
          ],
        ],
      },
    });
    template.hasOutput('EventTableName', {
      Value: { Ref: logicalIdOf(stack.eventTable.table, stack) },
    });
  });
});

it('decoupled: each route goes to the function ROUTES names (command or query)', () => {
  const { decoupled, decoupledTemplate } = byDefault;
  const functions = {
    command: functionId(decoupled, decoupled.commandFunction.function),
    query: functionId(decoupled, decoupled.queryFunction.function),
  };
  expect(routeTargets(decoupledTemplate)).toEqual(
    Object.fromEntries(ROUTES.map((r) => [routeKey(r), functions[r.decoupled]])),
  );
  // Two integrations (one per function), shared by the routes.
  expect(Object.keys(ofHttpApi(decoupledTemplate, 'AWS::ApiGatewayV2::Integration'))).toHaveLength(
    2,
  );
});

it('coupled: every route goes to the one coupled function', () => {
  const { coupled, coupledTemplate } = byDefault;
  const fn = functionId(coupled, coupled.coupledFunction.function);
  expect(routeTargets(coupledTemplate)).toEqual(
    Object.fromEntries(ROUTES.map((r) => [routeKey(r), fn])),
  );
  expect(Object.keys(ofHttpApi(coupledTemplate, 'AWS::ApiGatewayV2::Integration'))).toHaveLength(1);
});

it('both stacks serve the collection routes: seven routes, the four generic GETs reading views', () => {
  const collectionRoutes = [
    'GET /{collection}',
    'GET /{collection}/{id}',
    'GET /{collection}/{id}/events',
    'GET /{collection}/{id}/history',
  ];
  const { decoupled, coupled, decoupledTemplate, coupledTemplate } = byDefault;
  const query = functionId(decoupled, decoupled.queryFunction.function);
  const coupledFn = functionId(coupled, coupled.coupledFunction.function);
  for (const [template, fn] of [
    [decoupledTemplate, query],
    [coupledTemplate, coupledFn],
  ] as const) {
    const targets = routeTargets(template);
    // The command, read-model and process routes, and the four of every collection (the orders too).
    expect(Object.keys(targets)).toHaveLength(7);
    for (const key of collectionRoutes) expect({ key, fn: targets[key] }).toEqual({ key, fn });
  }
});

it('both stacks also output their repair tools (DLQ, redrive, rebuild, projections table), their workflows and their event bus', () => {
  const { decoupled, coupled, decoupledTemplate, coupledTemplate } = byDefault;
  decoupledTemplate.hasOutput('DeadLetterQueueUrl', {
    Value: { Ref: logicalIdOf(decoupled.projection.deadLetterQueue, decoupled) },
  });
  coupledTemplate.hasOutput('DeadLetterQueueUrl', {
    Value: { Ref: logicalIdOf(coupled.projection.deadLetterQueue, coupled) },
  });
  expect(Object.keys(decoupledTemplate.findOutputs('*')).sort()).toEqual([
    'ApiUrl',
    'DeadLetterQueueUrl',
    'EventBusArn',
    'EventBusDeadLetterQueueUrl',
    'EventBusName',
    'EventTableName',
    'ProjectionsTableName',
    'RebuildStateMachineArn',
    'RedriveFunctionName',
    'WebSocketUrl',
    'WorkflowsDeadLetterQueueUrl',
    'WorkflowsFunctionName',
    'WorkflowsRedriveFunctionName',
    'WorkflowsTimerDeadLetterQueueUrl',
  ]);
  // The same outputs: the coupled stack's projector has the same repair tools.
  expect(Object.keys(coupledTemplate.findOutputs('*')).sort()).toEqual(
    Object.keys(decoupledTemplate.findOutputs('*')).sort(),
  );
});

describe('-c throttleRate=50 -c throttleBurst=75', () => {
  it.each([
    ['decoupled', throttled.decoupledTemplate],
    ['coupled', throttled.coupledTemplate],
  ])('%s: every route still requires a token, stage throttled as given', (_name, template) => {
    const routes = Object.values(ofHttpApi(template, 'AWS::ApiGatewayV2::Route'));
    expect(routes).toHaveLength(ROUTES.length);
    for (const route of routes) expect(route.Properties.AuthorizationType).toBe('JWT');
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 75 },
    });
  });
});

it.each([
  [
    'https://app.example.com,http://localhost:5173',
    ['https://app.example.com', 'http://localhost:5173'],
  ],
  ['*', ['*']],
])("-c corsOrigins=%s sets both stacks' allowed origins", (value, origins) => {
  const built = synthesize({ corsOrigins: value });
  for (const template of [built.decoupledTemplate, built.coupledTemplate]) {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: { AllowOrigins: origins },
    });
  }
});
