/**
 * DynamoDB adapter of a rebuild's progress (./rebuild-state.ts): the header and segment items,
 * kept in the projections table beside the rows the rebuild writes.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  headerKey,
  type RebuildHeader,
  type RebuildStateStore,
  type SegmentProgress,
  segmentKey,
} from './rebuild-state';

export class DynamoDbRebuildState implements RebuildStateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  private async get<T>(key: string): Promise<T | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { key }, ConsistentRead: true }),
    );
    return Item as T | undefined;
  }

  getHeader(build: string) {
    return this.get<RebuildHeader>(headerKey(build));
  }

  async putHeader(header: RebuildHeader) {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: header }));
  }

  getSegment(build: string, segment: number) {
    return this.get<SegmentProgress>(segmentKey(build, segment));
  }

  async putSegment(progress: SegmentProgress) {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: progress }));
  }
}
