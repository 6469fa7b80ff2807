/**
 * DynamoDB Local and its clients for a probe (bench/probes/*.ts): a fresh in-memory instance,
 * and the low-level and document clients on it (the probe destroys the client and stops it).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { currentSchemaVersion } from '../../lambdas/core/events/event-codec';
import type { StoredEvent } from '../../lambdas/core/events/events';
import { startDynamoDbLocal } from '../../local/emulators/dynamodb-local';

export const startProbeDynamoDb = async () => {
  const local = await startDynamoDbLocal();
  const client = new DynamoDBClient({
    endpoint: local.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { local, client, doc };
};

/** A probe's four tables, named after it: events, projections, snapshots and markers. */
export const probeTables = (prefix: string) => ({
  eventTable: `${prefix}-events`,
  projectionsTable: `${prefix}-projections`,
  snapshotsTable: `${prefix}-snapshots`,
  commandsTable: `${prefix}-commands`,
});

/** A seeded order event (a quantity change of line `a`), as a probe writes history straight in. */
export const quantityChangedEvent = (
  aggregateId: string,
  version: number,
  commandId: string,
): StoredEvent => ({
  aggregateId,
  version,
  aggregateType: 'order',
  type: 'order/quantityChanged',
  payload: { lineId: 'a', quantity: (version % 50) + 1 },
  eventId: `e-${aggregateId}-${version}`,
  occurredAt: new Date().toISOString(),
  commandId,
  commandHash: 'probe',
  correlationId: 'probe',
  causationId: commandId,
  schemaVersion: currentSchemaVersion('order/quantityChanged'),
});
