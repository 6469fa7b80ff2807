/**
 * The stack outputs a deployment is read through (`cdk deploy --outputs-file`). The ids are a
 * contract with the benchmark and the docs: ApiUrl, EventTableName, ReadModelTableName, and
 * DeadLetterQueueUrl in the decoupled stack.
 */
import { CfnOutput, type Stack } from 'aws-cdk-lib';

export const OUTPUT = {
  apiUrl: 'ApiUrl',
  eventTableName: 'EventTableName',
  readModelTableName: 'ReadModelTableName',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
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
