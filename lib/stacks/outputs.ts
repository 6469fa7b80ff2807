/**
 * The stack outputs a deployment is read through (`cdk deploy --outputs-file`). The ids are a
 * contract with the benchmark and the docs (docs/operations/deploying.md lists each one with the
 * stacks that have it; test/infra/deploying-docs.test.ts checks that list against the
 * templates): ApiUrl,
 * EventTableName in both stacks, and in both the repair tools' outputs
 * (ProjectionsTableName, DeadLetterQueueUrl, RedriveFunctionName, RebuildStateMachineArn); the
 * identity stack's UserPoolId, UserPoolClientId, TokenIssuer and SignInDomainUrl; the event
 * bus's EventBusName, EventBusArn and EventBusDeadLetterQueueUrl in both; the workflows
 * function's WorkflowsFunctionName, WorkflowsDeadLetterQueueUrl,
 * WorkflowsTimerDeadLetterQueueUrl and WorkflowsRedriveFunctionName in both.
 */
import { CfnOutput, type Stack } from 'aws-cdk-lib';

export const OUTPUT = {
  apiUrl: 'ApiUrl',
  eventTableName: 'EventTableName',
  projectionsTableName: 'ProjectionsTableName',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  redriveFunctionName: 'RedriveFunctionName',
  rebuildStateMachineArn: 'RebuildStateMachineArn',
  webSocketUrl: 'WebSocketUrl',
  userPoolId: 'UserPoolId',
  userPoolClientId: 'UserPoolClientId',
  tokenIssuer: 'TokenIssuer',
  signInDomainUrl: 'SignInDomainUrl',
  eventBusName: 'EventBusName',
  eventBusArn: 'EventBusArn',
  eventBusDeadLetterQueueUrl: 'EventBusDeadLetterQueueUrl',
  workflowsFunctionName: 'WorkflowsFunctionName',
  workflowsDeadLetterQueueUrl: 'WorkflowsDeadLetterQueueUrl',
  workflowsTimerDeadLetterQueueUrl: 'WorkflowsTimerDeadLetterQueueUrl',
  workflowsRedriveFunctionName: 'WorkflowsRedriveFunctionName',
} as const;

/** What each output says in the console and in `cdk deploy --outputs-file`. */
const DESCRIPTIONS: Record<(typeof OUTPUT)[keyof typeof OUTPUT], string> = {
  ApiUrl: 'Invoke URL of the HTTP API (ends in /)',
  EventTableName: 'Event table (append-only log)',
  ProjectionsTableName: 'Rows of the declared projections (<name>@v<version>#<key>)',
  DeadLetterQueueUrl: "The projector's failed batches (stream coordinates) after every retry",
  RedriveFunctionName:
    'Re-projects what the dead-letter queue names (fed by it; docs/operations/redrive.md)',
  RebuildStateMachineArn:
    'Rebuild a declared projection: aws stepfunctions start-execution (docs/operations/rebuild-in-aws.md)',
  WebSocketUrl: 'WebSocket URL of live updates (wss://...)',
  UserPoolId: 'Cognito user pool of both stacks: admin-create-user, admin-add-user-to-group',
  UserPoolClientId: "The app client: an ID token's aud, and the client_id to sign in with",
  TokenIssuer: "The tokens' iss, checked by both stacks' authorizers",
  SignInDomainUrl: 'Hosted UI (authorization code + PKCE): <url>/oauth2/authorize',
  EventBusName:
    "The stack's domain events (docs/reference/event-bus.md): add a rule to consume them",
  EventBusArn: 'The same bus, for rules and permissions in other stacks or accounts',
  EventBusDeadLetterQueueUrl:
    'Stream batches the event bus pipe gave up on (docs/operations/alarms.md)',
  WorkflowsFunctionName:
    'Runs the process managers from the event stream and their timers (docs/operations/runbooks.md)',
  WorkflowsDeadLetterQueueUrl:
    "The workflows function's failed stream batches (stream coordinates) after every retry",
  WorkflowsTimerDeadLetterQueueUrl:
    'Process timers the workflows function failed on (each message: the invocation input)',
  WorkflowsRedriveFunctionName:
    'Runs again what both workflows dead-letter queues name (fed by them; docs/operations/redrive.md)',
};

/** Adds the named outputs, each with its description. */
export const addOutputs = (
  stack: Stack,
  values: Partial<Record<keyof typeof OUTPUT, string>>,
): void => {
  for (const [key, value] of Object.entries(values)) {
    const id = OUTPUT[key as keyof typeof OUTPUT];
    new CfnOutput(stack, id, { value: value!, description: DESCRIPTIONS[id] });
  }
};

export const addCommonOutputs = (
  stack: Stack,
  values: { apiUrl: string; eventTableName: string },
): void => addOutputs(stack, values);

/**
 * What an operator repairs read models with (docs/operations/redrive.md), the same in both
 * stacks.
 */
export const addRepairOutputs = (
  stack: Stack,
  values: {
    projectionsTableName: string;
    deadLetterQueueUrl: string;
    redriveFunctionName: string;
    rebuildStateMachineArn: string;
  },
): void => addOutputs(stack, values);

/** Where other services subscribe to the stack's domain events, the same in both stacks. */
export const addEventBusOutputs = (
  stack: Stack,
  values: { eventBusName: string; eventBusArn: string; eventBusDeadLetterQueueUrl: string },
): void => addOutputs(stack, values);

/** The process managers' function and where its failures land, the same in both stacks. */
export const addWorkflowsOutputs = (
  stack: Stack,
  values: {
    workflowsFunctionName: string;
    workflowsDeadLetterQueueUrl: string;
    workflowsTimerDeadLetterQueueUrl: string;
    workflowsRedriveFunctionName: string;
  },
): void => addOutputs(stack, values);

/** What a client signs in with, and what every authorizer of the app checks. */
export const addIdentityOutputs = (
  stack: Stack,
  values: {
    userPoolId: string;
    userPoolClientId: string;
    tokenIssuer: string;
    signInDomainUrl: string;
  },
): void => addOutputs(stack, values);
