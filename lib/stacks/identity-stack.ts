/**
 * The users both profiles share: the Cognito user pool, its role groups and the app client
 * (lib/constructs/identity.ts). A stack of its own so that each API stack still deploys alone:
 * `cdk deploy ReduxBackend-Decoupled` deploys this one first, as a dependency, and the two API
 * stacks read its issuer and client id through CloudFormation exports
 * (docs/decisions/cognito-and-jwt-authorizers.md).
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { DeploymentOptions } from '../config';
import { type AcceptedTokens, Identity } from '../constructs/identity';
import { addIdentityOutputs } from './outputs';

export interface IdentityStackProps extends StackProps {
  /** Parsed deployment options (lib/config.ts): `corsOrigins` and `disposable` apply here. */
  readonly options: DeploymentOptions;
}

export class IdentityStack extends Stack {
  readonly identity: Identity;
  /** What the API stacks' authorizers check (`iss`, `aud`). */
  readonly accepted: AcceptedTokens;

  constructor(scope: Construct, id: string, props: IdentityStackProps) {
    super(scope, id, props);
    const { corsOrigins, disposable } = props.options;
    // The pages allowed to call the APIs are the pages allowed to sign in.
    this.identity = new Identity(this, 'Identity', { signInOrigins: corsOrigins, disposable });
    this.accepted = this.identity.accepted;
    addIdentityOutputs(this, {
      userPoolId: this.identity.userPool.userPoolId,
      userPoolClientId: this.identity.client.userPoolClientId,
      tokenIssuer: this.accepted.issuer,
      signInDomainUrl: this.identity.domain.baseUrl(),
    });
  }
}
