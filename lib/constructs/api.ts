/**
 * The HTTP API: one route per entry of ROUTES (lambdas/handlers/routes.ts), each integrated with
 * the function `functionFor(route)` names (Lambda proxy, payload format 2.0, which the handlers
 * read). Every route requires a token: API Gateway's JWT authorizer checks its signature, `iss`,
 * `aud` and expiry (AcceptedTokens) and hands the claims to the function as
 * `requestContext.authorizer.jwt.claims`. CORS preflights are answered by API Gateway itself,
 * before any authorizer (a browser sends them without the token). The `$default` stage is
 * throttled and writes JSON access logs to its own log group.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  CORS_ALLOW_HEADERS,
  CORS_ALLOW_METHODS,
  CORS_EXPOSE_HEADERS,
  CORS_MAX_AGE_SECONDS,
  DEFAULT_CORS_ORIGINS,
} from '../../lambdas/handlers/cors';
import { type Route, ROUTES } from '../../lambdas/handlers/routes';
import { DEFAULT_THROTTLE, type ThrottleOptions } from '../config';
import type { AcceptedTokens } from './identity';

/**
 * One JSON object per request. HTTP API access logs can only use `$context` variables (not
 * request headers), so the caller's `x-correlation-id` is not here: the functions log it on
 * every line and return it as a response header. `integrationRequestId` is the Lambda request
 * id, which joins an access-log line to the function's log lines.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  integrationRequestId: '$context.integration.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  /** The token's subject (the principal); its groups are in the function's log. */
  caller: '$context.authorizer.claims.sub',
  httpMethod: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  errorMessage: '$context.error.message',
} as const;

export interface ApiProps {
  /** The function that serves a route. */
  readonly functionFor: (route: Route) => lambda.IFunction;
  /** Shown in the API Gateway console. */
  readonly description: string;
  /** The tokens every route accepts (`Authorization: Bearer <ID token>`). */
  readonly acceptedTokens: AcceptedTokens;
  /** Default stage throttling. @default 100 requests/s, burst 200 */
  readonly throttle?: ThrottleOptions;
  /** Delete the access log group with the stack. @default false - retained */
  readonly disposable?: boolean;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Origins whose pages may call the API (CORS; API Gateway answers preflights itself).
   * @default DEFAULT_CORS_ORIGINS - the local demo app only
   */
  readonly corsOrigins?: readonly string[];
}

export class Api extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogGroup: logs.LogGroup;
  /** The invoke URL, ending in `/`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);

    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: Stack.of(this).stackName,
      description: props.description,
      createDefaultStage: false,
      defaultAuthorizer: new HttpJwtAuthorizer('TokenAuthorizer', props.acceptedTokens.issuer, {
        jwtAudience: [props.acceptedTokens.audience],
        identitySource: ['$request.header.Authorization'],
      }),
      corsPreflight: {
        allowOrigins: [...(props.corsOrigins ?? DEFAULT_CORS_ORIGINS)],
        allowMethods: CORS_ALLOW_METHODS.map(
          (m) => apigwv2.CorsHttpMethod[m as keyof typeof apigwv2.CorsHttpMethod],
        ),
        allowHeaders: [...CORS_ALLOW_HEADERS],
        exposeHeaders: [...CORS_EXPOSE_HEADERS],
        maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
      },
    });

    // One integration per function, shared by its routes.
    const integrations = new Map<lambda.IFunction, HttpLambdaIntegration>();
    const integrationFor = (fn: lambda.IFunction) => {
      let integration = integrations.get(fn);
      if (!integration) {
        integration = new HttpLambdaIntegration(`Integration${integrations.size + 1}`, fn);
        integrations.set(fn, integration);
      }
      return integration;
    };
    for (const route of ROUTES) {
      this.httpApi.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration: integrationFor(props.functionFor(route)),
      });
    }

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    const throttle = props.throttle ?? DEFAULT_THROTTLE;
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    this.url = this.stage.url;
  }
}
