/**
 * The DynamoDB document client of the functions that use tables (apart from ./environment.ts, so
 * a function without tables, such as the `$connect` authorizer, bundles no DynamoDB client).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { meterConsumedCapacity } from '../core/shared/consumed-capacity';
import { DYNAMODB_TIMEOUTS } from '../core/shared/dynamodb-limits';
import { ENV, type Environment } from './environment';

/** The clients made so far, by the environment they were made from. */
const clients = new WeakMap<
  Environment,
  { readonly endpoint?: string; readonly doc: DynamoDBDocumentClient }
>();

/**
 * One document client per function: made on first use from its environment (on Lambda,
 * `process.env`) and shared by all its stores and its writer push, across invocations. One
 * connection pool and one set of SDK caches; on AWS, one TLS handshake at a cold start instead
 * of one per store. A silent call fails after DYNAMODB_TIMEOUTS and is retried. (In the local
 * runtime, functions wired from one environment object share a pool: the decoupled stack's
 * command and query functions.) Every call reports its consumed capacity into the process's
 * meter (the bench reads it per stack; docs/decisions/capacity-metered-per-call.md); with an
 * endpoint (DynamoDB Local), the units Local reports wrongly are computed from the request.
 */
export const documentClient = (env: Environment): DynamoDBDocumentClient => {
  const endpoint = env[ENV.dynamoDbEndpoint];
  // Made again when the endpoint changed since (a test pointing process.env elsewhere).
  const known = clients.get(env);
  if (known && known.endpoint === endpoint) return known.doc;
  const client = new DynamoDBClient({
    requestHandler: DYNAMODB_TIMEOUTS,
    ...(endpoint && {
      endpoint,
      region: env.AWS_REGION ?? 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  });
  meterConsumedCapacity(client, { dynamoDbLocal: Boolean(endpoint) });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  clients.set(env, { endpoint, doc });
  return doc;
};
