/**
 * The CDK app: two stacks, one per profile, and the identity stack whose users both accept
 * (each profile stack deploys alone: the CLI deploys the identity stack first, as its
 * dependency); all checked by cdk-nag. bin/app.ts calls this for the CLI; the template tests
 * call it with their own context.
 */
import { App, CrossStackReferences, ReferenceStrength, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { readOptions } from './config';
import { CoupledStack } from './stacks/coupled-stack';
import { DecoupledStack } from './stacks/decoupled-stack';
import { IdentityStack } from './stacks/identity-stack';

export const STACK_NAMES = {
  decoupled: 'ReduxBackend-Decoupled',
  coupled: 'ReduxBackend-Coupled',
  identity: 'ReduxBackend-Identity',
} as const;

export interface BuiltApp {
  readonly app: App;
  readonly decoupled: DecoupledStack;
  readonly coupled: CoupledStack;
  readonly identity: IdentityStack;
}

/**
 * Builds the app. `context` is merged over the CLI's (cdk.json, `-c`), e.g.
 * `{ disposable: true, openApi: true }`. Any cdk-nag finding that is not acknowledged (with a
 * reason, next to the construct that causes it) fails synthesis.
 */
export const buildApp = (context: Record<string, unknown> = {}): BuiltApp => {
  const app = new App({ context });
  const options = readOptions(app);
  // Imports of exports: CloudFormation refuses to delete the user pool's stack, or change what
  // it exports, while a profile stack uses it (docs/decisions/cognito-and-jwt-authorizers.md).
  CrossStackReferences.of(app).consume(ReferenceStrength.STRONG);
  // Environment-agnostic: the account and Region come from the credentials at deploy time.
  const identity = new IdentityStack(app, STACK_NAMES.identity, {
    options,
    description: 'Redux-inspired CQRS + event sourcing: the users of both profiles (Cognito)',
  });
  // Cross-stack references (exports): each profile stack depends on the identity stack.
  const { accepted: acceptedTokens } = identity;
  const decoupled = new DecoupledStack(app, STACK_NAMES.decoupled, {
    options,
    acceptedTokens,
    description: 'Redux-inspired CQRS + event sourcing: decoupled profile (stream projection)',
  });
  const coupled = new CoupledStack(app, STACK_NAMES.coupled, {
    options,
    acceptedTokens,
    description: 'Redux-inspired CQRS + event sourcing: coupled profile (one function)',
  });
  // cdk-nag 3 packs are CDK policy-validation plugins (not Aspects): they run at synthesis and
  // any unacknowledged finding, error or warning, fails it.
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true }),
    new ServerlessChecks(app, { verbose: true }),
  );
  return { app, decoupled, coupled, identity };
};
