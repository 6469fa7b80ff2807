/**
 * Who may call the APIs: one Cognito user pool, its role groups and one app client, whose ID
 * tokens both stacks accept (docs/decisions/cognito-and-jwt-authorizers.md).
 *
 * - No self sign-up: an operator creates users (`aws cognito-idp admin-create-user`) and puts
 *   them in the groups named by ROLES (lambdas/core/identity/principal.ts), which Cognito writes
 *   into the `cognito:groups` claim the handlers read roles from.
 * - The app client has no secret (a browser holds it): SRP sign-in for apps, the operator's
 *   ADMIN_USER_PASSWORD_AUTH for scripts (it needs AWS credentials allowed AdminInitiateAuth, so
 *   a password never travels in a flow that anyone with the client id can call), and the hosted
 *   UI with the authorization-code grant (PKCE) for the pages allowed by `corsOrigins`.
 * - An ID token's `aud` is the client id and `iss` is the pool's URL: the two values every
 *   verifier of this app checks (AcceptedTokens).
 */
import { Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { ROLES, type Role } from '../../lambdas/core/identity/principal';

/** The tokens an API accepts: what API Gateway's JWT authorizer and our verifier check. */
export interface AcceptedTokens {
  /** `iss`: `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`. */
  readonly issuer: string;
  /** `aud` of an ID token: the app client id. */
  readonly audience: string;
}

/** What each role group is for, shown in the Cognito console. */
const GROUP_DESCRIPTIONS: Record<Role, string> = {
  support: "Support staff: read every user's rows; each aggregate's rules say what else",
  admin: 'Operators: every command and every read',
};

export interface IdentityProps {
  /**
   * The pages that may sign in through the hosted UI (authorization code + PKCE), redirected
   * back to `<origin>/`: the API's CORS origins. Cognito takes https origins and
   * `http://localhost` only; `*` names no page. Without one, the client has no hosted-UI flow.
   */
  readonly signInOrigins: readonly string[];
  /** Delete the user pool (and its users) with the stack. @default false - retained, protected */
  readonly disposable?: boolean;
}

/** Origins Cognito accepts as redirect targets: https, or plain http on localhost only. */
export const hostedUiOrigins = (origins: readonly string[]): string[] =>
  origins.filter(
    (origin) => /^https:\/\//.test(origin) || /^http:\/\/localhost(:\d+)?$/.test(origin),
  );

export class Identity extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  /** One group per role, in ROLES order. */
  readonly groups: readonly cognito.UserPoolGroup[];
  /** The hosted UI's domain (`https://<prefix>.auth.<region>.amazoncognito.com`). */
  readonly domain: cognito.UserPoolDomain;
  readonly accepted: AcceptedTokens;

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: Stack.of(this).stackName,
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      signInCaseSensitive: false,
      // Users are created without an email (the dev-like alice, support...) or with one, which
      // is then how they recover a forgotten password.
      standardAttributes: { email: { required: false, mutable: true } },
      autoVerify: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      // TOTP for the users who turn it on; no SMS (no SNS role, no per-message cost).
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      deletionProtection: !props.disposable,
      removalPolicy: props.disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    this.groups = ROLES.map(
      (role) =>
        new cognito.UserPoolGroup(this, `Group-${role}`, {
          userPool: this.userPool,
          groupName: role,
          description: GROUP_DESCRIPTIONS[role],
        }),
    );

    // The stack's UUID makes the prefix unique in the Region without naming the account.
    const stackUuid = Fn.select(2, Fn.split('/', Stack.of(this).stackId));
    this.domain = this.userPool.addDomain('HostedUi', {
      cognitoDomain: { domainPrefix: Fn.join('-', ['redux-backend', stackUuid]) },
    });

    const redirects = hostedUiOrigins(props.signInOrigins).map((origin) => `${origin}/`);
    this.client = this.userPool.addClient('AppClient', {
      userPoolClientName: 'browser',
      generateSecret: false,
      authFlows: { userSrp: true, adminUserPassword: true },
      ...(redirects.length > 0
        ? {
            oAuth: {
              flows: { authorizationCodeGrant: true },
              scopes: [
                cognito.OAuthScope.OPENID,
                cognito.OAuthScope.EMAIL,
                cognito.OAuthScope.PROFILE,
              ],
              callbackUrls: redirects,
              logoutUrls: redirects,
            },
            supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
          }
        : { disableOAuth: true }),
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });

    this.accepted = {
      issuer: `https://${this.userPool.userPoolProviderUrl}`,
      audience: this.client.userPoolClientId,
    };

    Validations.of(this.userPool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason:
          'MFA is optional (TOTP, no SMS), not required: the benchmark and the deploy check ' +
          'sign in from scripts with ADMIN_USER_PASSWORD_AUTH, which a required second factor ' +
          'would stop; users may turn TOTP on. A pool of public users sets Mfa.REQUIRED.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          'Essentials, not Plus: Plus (threat protection) is billed per monthly active user ' +
          'with no free tier, and this pool has no self sign-up (an operator creates every ' +
          'user), so there is no sign-up abuse to detect; a pool of public users moves to Plus.',
      },
    );
  }
}
