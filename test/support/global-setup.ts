// Starts one DynamoDB Local for the whole test run, on a free port; workers inherit the env var.
import { startDynamoDbLocal } from '../../local/emulators/dynamodb-local';

export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_DYNAMODB_ENDPOINT) return; // an already running one, e.g. while developing
  const dynamo = await startDynamoDbLocal();
  process.env.TEST_DYNAMODB_ENDPOINT = dynamo.endpoint;
  (globalThis as { __dynamo?: typeof dynamo }).__dynamo = dynamo;
}
