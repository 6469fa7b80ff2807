/**
 * The DynamoDB document client of the functions that use tables (apart from ./environment.ts, so
 * a function without tables, such as the `$connect` authorizer, bundles no DynamoDB client).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { meterConsumedCapacity } from '../core/shared/consumed-capacity';
import { ENV, type Environment } from './environment';

/**
 * One document client per endpoint; created once per module, reused across invocations. Every
 * call reports its consumed capacity into the process's meter (the bench reads it per stack;
 * docs/decisions/capacity-metered-per-call.md); with an endpoint (DynamoDB Local), the units Local
 * reports wrongly are computed from the request.
 */
export const documentClient = (env: Environment): DynamoDBDocumentClient => {
  const endpoint = env[ENV.dynamoDbEndpoint];
  const client = new DynamoDBClient({
    ...(endpoint && {
      endpoint,
      region: env.AWS_REGION ?? 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  });
  meterConsumedCapacity(client, { dynamoDbLocal: Boolean(endpoint) });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
};
