/**
 * The stack outputs a deployment is read through (`cdk deploy --outputs-file`). The ids are a
 * contract with the benchmark and the docs: docs/deploying.md lists each one with the stacks
 * that have it, and test/infra/deploying-docs.test.ts checks that list against the templates.
 */
import { CfnOutput, type Stack } from 'aws-cdk-lib';

export const OUTPUT = {
  apiUrl: 'ApiUrl',
  eventTableName: 'EventTableName',
  readModelTableName: 'ReadModelTableName',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  webSocketUrl: 'WebSocketUrl',
  projectionsTableName: 'ProjectionsTableName',
  rebuildStateMachineArn: 'RebuildStateMachineArn',
  redriveFunctionName: 'RedriveFunctionName',
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
