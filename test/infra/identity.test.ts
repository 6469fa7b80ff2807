/**
 * The identity stack (one Cognito user pool for both profiles) and what the API stacks take from
 * it: every HTTP route behind the JWT authorizer, `$connect` behind the token authorizer
 * function, both checking the pool's issuer and the app client id, read through exports.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { ROLES } from '../../lambdas/core/identity/principal';
import { ENV } from '../../lambdas/handlers/environment';
import { ROUTES, routeKey } from '../../lambdas/handlers/routes';
import { hostedUiOrigins } from '../../lib/constructs/identity';
import { STACK_NAMES } from '../../lib/app';
import { type AppStack, logicalIdOf, synthesize } from './helpers';

const byDefault = synthesize();
const disposable = synthesize({ disposable: 'true' });

const { identity, identityTemplate } = byDefault;
const poolId = logicalIdOf(identity.identity.userPool, identity);
const clientId = logicalIdOf(identity.identity.client, identity);

/** The name under which the identity stack exports `value` (a Ref or GetAtt of its own). */
const exportOf = (value: unknown): string => {
  const names = Object.values(identityTemplate.findOutputs('*'))
    .filter((output) => JSON.stringify(output.Value) === JSON.stringify(value) && output.Export)
    .map((output) => (output.Export as { Name: string }).Name);
  expect(names).toHaveLength(1);
  return names[0]!;
};

/** How an API stack reads the pool's issuer and the client id: imports of those exports. */
const importedIssuer = () => ({
  'Fn::Join': [
    '',
    ['https://', { 'Fn::ImportValue': exportOf({ 'Fn::GetAtt': [poolId, 'ProviderURL'] }) }],
  ],
});
const importedAudience = () => ({ 'Fn::ImportValue': exportOf({ Ref: clientId }) });

describe('the user pool', () => {
  const pool = identityTemplate.findResources('AWS::Cognito::UserPool')[poolId];

  it('given the default deployment, when synthesized, then there is one user pool, in the identity stack', () => {
    identityTemplate.resourceCountIs('AWS::Cognito::UserPool', 1);
    for (const template of [byDefault.decoupledTemplate, byDefault.coupledTemplate]) {
      template.resourceCountIs('AWS::Cognito::UserPool', 0);
    }
    expect(identity.stackName).toBe(STACK_NAMES.identity);
  });

  it('given no self sign-up, when a user is wanted, then only an operator can create them', () => {
    expect(pool?.Properties.AdminCreateUserConfig).toEqual({ AllowAdminCreateUserOnly: true });
  });

  it('given the password policy, when read, then it asks 12 characters of all four kinds and a 3-day temporary password', () => {
    expect(pool?.Properties.Policies.PasswordPolicy).toEqual({
      MinimumLength: 12,
      RequireLowercase: true,
      RequireUppercase: true,
      RequireNumbers: true,
      RequireSymbols: true,
      TemporaryPasswordValidityDays: 3,
    });
  });

  it('given MFA, when read, then it is optional TOTP (no SMS), on the Essentials plan', () => {
    expect(pool?.Properties).toMatchObject({
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UserPoolTier: 'ESSENTIALS',
      UsernameConfiguration: { CaseSensitive: false },
    });
    expect(pool?.Properties.SmsConfiguration).toBeUndefined();
  });

  it('given users are data, when the stack is deleted, then the pool is kept and deletion-protected unless disposable', () => {
    expect(pool).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { DeletionProtection: 'ACTIVE' },
    });
    const thrownAway = disposable.identityTemplate.findResources('AWS::Cognito::UserPool');
    expect(Object.values(thrownAway)).toEqual([
      expect.objectContaining({
        DeletionPolicy: 'Delete',
        Properties: expect.objectContaining({ DeletionProtection: 'INACTIVE' }),
      }),
    ]);
  });

  it('given ROLES, when the groups are synthesized, then there is one group per role, named as the role', () => {
    const groups = Object.values(identityTemplate.findResources('AWS::Cognito::UserPoolGroup'));
    expect(groups.map((g) => g.Properties.GroupName as string).sort()).toEqual([...ROLES].sort());
    for (const group of groups) expect(group.Properties.UserPoolId).toEqual({ Ref: poolId });
  });

  it('given the hosted UI, when its domain is synthesized, then its prefix is unique per stack (its UUID), not the account', () => {
    identityTemplate.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      UserPoolId: { Ref: poolId },
      Domain: {
        'Fn::Join': [
          '-',
          ['redux-backend', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }],
        ],
      },
    });
  });
});

describe('the app client', () => {
  const client = () => identityTemplate.findResources('AWS::Cognito::UserPoolClient')[clientId];

  it('given a browser holds it, when synthesized, then it has no secret and only SRP, the operator flow and refresh', () => {
    identityTemplate.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    expect(client()?.Properties).toMatchObject({
      GenerateSecret: false,
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
      IdTokenValidity: 60,
      TokenValidityUnits: { IdToken: 'minutes' },
    });
    expect([...(client()?.Properties.ExplicitAuthFlows as string[])].sort()).toEqual([
      'ALLOW_ADMIN_USER_PASSWORD_AUTH',
      'ALLOW_REFRESH_TOKEN_AUTH',
      'ALLOW_USER_SRP_AUTH',
    ]);
  });

  it('given the default CORS origins, when the hosted UI is configured, then only the code grant redirects to the localhost demo (Cognito refuses plain http elsewhere)', () => {
    expect(client()?.Properties).toMatchObject({
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      CallbackURLs: ['http://localhost:3000/'],
      LogoutURLs: ['http://localhost:3000/'],
      SupportedIdentityProviders: ['COGNITO'],
    });
  });

  it('given -c corsOrigins, when synthesized, then the allowed https and localhost pages are the redirect targets', () => {
    const built = synthesize({
      corsOrigins: 'https://app.example.com,http://localhost:5173,http://demo.example.com',
    });
    built.identityTemplate.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      CallbackURLs: ['https://app.example.com/', 'http://localhost:5173/'],
    });
  });

  it('given -c corsOrigins=*, when synthesized, then no page can be a redirect target: the client has no hosted-UI flow', () => {
    const built = synthesize({ corsOrigins: '*' });
    const [only] = Object.values(
      built.identityTemplate.findResources('AWS::Cognito::UserPoolClient'),
    );
    expect(only?.Properties.AllowedOAuthFlowsUserPoolClient).toBe(false);
    expect(only?.Properties.CallbackURLs).toBeUndefined();
  });

  it('given origins, when filtered for Cognito, then https and http://localhost pass and others do not', () => {
    expect(
      hostedUiOrigins([
        'https://a.example.com',
        'http://localhost',
        'http://localhost:3000',
        'http://127.0.0.1:3000',
        'http://localhost.example.com',
        '*',
      ]),
    ).toEqual(['https://a.example.com', 'http://localhost', 'http://localhost:3000']);
  });
});

it('given a deployment, when its outputs are read, then the identity stack names the pool, the client, the issuer and the hosted UI', () => {
  identityTemplate.hasOutput('UserPoolId', { Value: { Ref: poolId } });
  identityTemplate.hasOutput('UserPoolClientId', { Value: { Ref: clientId } });
  identityTemplate.hasOutput('TokenIssuer', {
    Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [poolId, 'ProviderURL'] }]] },
  });
  identityTemplate.hasOutput('SignInDomainUrl', {
    Value: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['.amazoncognito.com'])] }),
  });
});

const API_STACKS = [
  ['decoupled', byDefault.decoupledTemplate, byDefault.decoupled],
  ['coupled', byDefault.coupledTemplate, byDefault.coupled],
] as const;

describe.each(API_STACKS)('%s stack', (_name, template, stack: AppStack) => {
  const httpApiId = logicalIdOf(stack.api.httpApi, stack);

  it('given the identity stack, when the app is synthesized, then this stack depends on it (deploying this one deploys that first)', () => {
    expect(stack.dependencies).toContain(identity);
  });

  it("given the HTTP API, when its authorizer is read, then it is a JWT authorizer of the pool's issuer and the app client", () => {
    const authorizers = template.findResources('AWS::ApiGatewayV2::Authorizer', {
      Properties: { ApiId: { Ref: httpApiId } },
    });
    expect(Object.values(authorizers).map((a) => a.Properties)).toEqual([
      expect.objectContaining({
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: { Issuer: importedIssuer(), Audience: [importedAudience()] },
      }),
    ]);
  });

  it.each(ROUTES.map((r) => [routeKey(r)]))(
    'given ROUTES, when %s is synthesized, then it takes that JWT authorizer',
    (key) => {
      const [authorizerId] = Object.keys(
        template.findResources('AWS::ApiGatewayV2::Authorizer', {
          Properties: { ApiId: { Ref: httpApiId }, AuthorizerType: 'JWT' },
        }),
      );
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        ApiId: { Ref: httpApiId },
        RouteKey: key,
        AuthorizationType: 'JWT',
        AuthorizerId: { Ref: authorizerId },
      });
    },
  );

  it('given every route of both APIs, when read, then none is AWS_IAM (SigV4) and none is open but the connected socket routes', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    const types = routes.map((r) => (r.Properties.AuthorizationType as string) ?? 'NONE');
    expect(types).not.toContain('AWS_IAM');
    expect(types.filter((t) => t === 'JWT')).toHaveLength(ROUTES.length);
    expect(types.filter((t) => t === 'CUSTOM')).toHaveLength(1);
  });

  it('given the connect authorizer function, when its environment is read, then it checks the same issuer and audience as the HTTP API', () => {
    const [fn] = Object.entries(template.findResources('AWS::Lambda::Function'))
      .filter(([id]) => id.startsWith('PushConnectAuthorizerFunctionHandler'))
      .map(([, f]) => f.Properties.Environment.Variables as Record<string, unknown>);
    expect(fn).toMatchObject({
      [ENV.tokenIssuer]: importedIssuer(),
      [ENV.tokenAudience]: importedAudience(),
    });
  });
});
