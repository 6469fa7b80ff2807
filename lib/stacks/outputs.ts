/**
 * The stack outputs a deployment is read through (`cdk deploy --outputs-file`). The ids are a
 * contract with the benchmark and the docs (docs/deploying.md lists each one with the stacks
 * that have it; test/infra/deploying-docs.test.ts checks that list against the templates): ApiUrl,
 * EventTableName, ReadModelTableName in both stacks, and in both the repair tools' outputs
 * (ProjectionsTableName, DeadLetterQueueUrl, RedriveFunctionName, RebuildStateMachineArn).
 */
import { CfnOutput, type Stack } from 'aws-cdk-lib';

export const OUTPUT = {
  apiUrl: 'ApiUrl',
  eventTableName: 'EventTableName',
  readModelTableName: 'ReadModelTableName',
  projectionsTableName: 'ProjectionsTableName',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  redriveFunctionName: 'RedriveFunctionName',
  rebuildStateMachineArn: 'RebuildStateMachineArn',
  webSocketUrl: 'WebSocketUrl',
} as const;

export const addCommonOutputs = (
  stack: Stack,
  values: { apiUrl: string; eventTableName: string; readModelTableName: string },
): void => {
  new CfnOutput(stack, OUTPUT.apiUrl, {
    value: values.apiUrl,
    description: 'Invoke URL of the HTTP API (ends in /)',
  });
  new CfnOutput(stack, OUTPUT.eventTableName, {
    value: values.eventTableName,
    description: 'Event table (append-only log)',
  });
  new CfnOutput(stack, OUTPUT.readModelTableName, {
    value: values.readModelTableName,
    description: 'Order read-model table',
  });
};

/** What an operator repairs read models with (README, "Redrive"), the same in both stacks. */
export const addRepairOutputs = (
  stack: Stack,
  values: {
    projectionsTableName: string;
    deadLetterQueueUrl: string;
    redriveFunctionName: string;
    rebuildStateMachineArn: string;
  },
): void => {
  new CfnOutput(stack, OUTPUT.projectionsTableName, {
    value: values.projectionsTableName,
    description: 'Rows of the declared projections (<name>@v<version>#<key>)',
  });
  new CfnOutput(stack, OUTPUT.deadLetterQueueUrl, {
    value: values.deadLetterQueueUrl,
    description: "The projector's failed batches (stream coordinates) after every retry",
  });
  new CfnOutput(stack, OUTPUT.redriveFunctionName, {
    value: values.redriveFunctionName,
    description: 'Re-projects what the dead-letter queue names (fed by it; README "Redrive")',
  });
  new CfnOutput(stack, OUTPUT.rebuildStateMachineArn, {
    value: values.rebuildStateMachineArn,
    description: 'Rebuild a declared projection: aws stepfunctions start-execution (README)',
  });
};
