/**
 * The CDK app: two independent stacks, one per profile, both checked by cdk-nag. bin/app.ts
 * calls this for the CLI; the template tests call it with their own context.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { readOptions } from './config';
import { CoupledStack } from './stacks/coupled-stack';
import { DecoupledStack } from './stacks/decoupled-stack';

export const STACK_NAMES = {
  decoupled: 'ReduxBackend-Decoupled',
  coupled: 'ReduxBackend-Coupled',
} as const;

export interface BuiltApp {
  readonly app: App;
  readonly decoupled: DecoupledStack;
  readonly coupled: CoupledStack;
}

/**
 * Builds the app. `context` is merged over the CLI's (cdk.json, `-c`), e.g.
 * `{ disposable: true, openApi: true }`. Any cdk-nag finding that is not acknowledged (with a
 * reason, next to the construct that causes it) fails synthesis.
 */
export const buildApp = (context: Record<string, unknown> = {}): BuiltApp => {
  const app = new App({ context });
  const options = readOptions(app);
  // Environment-agnostic: the account and Region come from the credentials at deploy time.
  const decoupled = new DecoupledStack(app, STACK_NAMES.decoupled, {
    options,
    description: 'Redux-inspired CQRS + event sourcing: decoupled profile (stream projection)',
  });
  const coupled = new CoupledStack(app, STACK_NAMES.coupled, {
    options,
    description: 'Redux-inspired CQRS + event sourcing: coupled profile (one function)',
  });
  // cdk-nag 3 packs are CDK policy-validation plugins (not Aspects): they run at synthesis and
  // any unacknowledged finding, error or warning, fails it.
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true }),
    new ServerlessChecks(app, { verbose: true }),
  );
  return { app, decoupled, coupled };
};
