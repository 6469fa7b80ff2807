/**
 * DynamoDB adapter of the snapshot port (SNAPSHOTS_TABLE): a consistent GetItem to read, a
 * PutItem that only replaces a lower version to write.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { assertItemFits, throttlingOf } from '../shared/dynamodb-limits';
import { SNAPSHOTS_TABLE } from '../shared/schema';
import { decodeSnapshot, encodeSnapshot, type Snapshot, type SnapshotStore } from './snapshots';

const PK = SNAPSHOTS_TABLE.partitionKey.name;
const SK = SNAPSHOTS_TABLE.sortKey.name;

export class DynamoDbSnapshotStore implements SnapshotStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly now: () => string = () => new Date().toISOString(),
  ) {}

  async load(aggregateId: string, snapshotKey: string): Promise<Snapshot | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      ({ Item: item } = await this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { [PK]: aggregateId, [SK]: snapshotKey },
          ConsistentRead: true,
        }),
      ));
    } catch (error) {
      throw throttlingOf(error) ?? error;
    }
    return item && decodeSnapshot(item, aggregateId, snapshotKey);
  }

  async save(snapshot: Snapshot): Promise<boolean> {
    const item = encodeSnapshot(snapshot, this.now());
    assertItemFits('snapshot', { ...item }, { aggregateId: snapshot.aggregateId });
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          // Never back: two writers at once keep the higher version.
          ConditionExpression: 'attribute_not_exists(#v) OR #v < :v',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':v': snapshot.version },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw throttlingOf(error) ?? error;
    }
  }
}
