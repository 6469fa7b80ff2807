/** Per-test tables on the shared DynamoDB Local, with unique names, deleted afterwards. */
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensurePushTables, ensureTables, type StackTables } from '../../local/emulators/tables';
import { ENV } from '../../lambdas/handlers/environment';

export const testEndpoint = (): string => {
  const endpoint = process.env.TEST_DYNAMODB_ENDPOINT;
  if (!endpoint)
    throw new Error('TEST_DYNAMODB_ENDPOINT is not set: run the tests with jest (global setup)');
  return endpoint;
};

export const localClient = (endpoint = testEndpoint()) =>
  new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

export interface TestTables extends StackTables {
  readonly projectionsTable: string;
  readonly snapshotsTable: string;
  readonly commandsTable: string;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly eventStreamArn?: string;
  /** The push subscriptions table, when asked for (`subscriptions: true`). */
  readonly subscriptionsTable?: string;
  /** The environment a handler of this stack gets. */
  readonly env: Record<string, string>;
  drop(): Promise<void>;
}

export const createTestTables = async (
  options: { stream?: boolean; subscriptions?: boolean } = {},
): Promise<TestTables> => {
  const client = localClient();
  const suffix = randomUUID().slice(0, 8);
  const tables = {
    eventTable: `events-${suffix}`,
    projectionsTable: `read-models-${suffix}`,
    snapshotsTable: `snapshots-${suffix}`,
    commandsTable: `commands-${suffix}`,
  };
  const { eventStreamArn } = await ensureTables(client, tables, {
    stream: options.stream ?? false,
  });
  const subscriptionsTable = options.subscriptions ? `subscriptions-${suffix}` : undefined;
  if (subscriptionsTable) {
    await ensurePushTables(client, {
      projectionsTable: tables.projectionsTable,
      subscriptionsTable,
    });
  }
  return {
    ...tables,
    subscriptionsTable,
    client,
    doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    eventStreamArn,
    env: {
      [ENV.eventTable]: tables.eventTable,
      [ENV.projectionsTable]: tables.projectionsTable,
      [ENV.snapshotsTable]: tables.snapshotsTable,
      [ENV.commandsTable]: tables.commandsTable,
      [ENV.dynamoDbEndpoint]: testEndpoint(),
    },
    async drop() {
      for (const TableName of [...Object.values(tables), subscriptionsTable]) {
        if (TableName === undefined) continue;
        await client.send(new DeleteTableCommand({ TableName })).catch(() => undefined);
      }
      client.destroy();
    },
  };
};
