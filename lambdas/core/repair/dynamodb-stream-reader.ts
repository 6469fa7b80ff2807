/**
 * Reads back the records of a failed stream batch from the DynamoDB stream, by the coordinates
 * Lambda's on-failure record gives (shard, first and last sequence number): the only way from a
 * dead-letter message to the aggregates it is about, and only while the stream still holds the
 * records (24 hours). See docs/decisions/redrive.md.
 */
import {
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { type KeyedRecord, sequenceAfter, type StreamBatchInfo } from './redrive';

/** The records of the batch, or why they cannot be read any more. */
export type BatchRecords =
  | { readonly records: KeyedRecord[] }
  | { readonly unavailable: 'trimmed' | 'gone'; readonly reason: string };

export interface StreamBatchReader {
  recordsOf(batch: StreamBatchInfo): Promise<BatchRecords>;
}

/** Pages read past the batch's start before giving up on reaching its end (empty pages happen). */
const MAX_PAGES = 50;

export class DynamoDbStreamBatchReader implements StreamBatchReader {
  constructor(private readonly client: DynamoDBStreamsClient) {}

  static forEndpoint(endpoint?: string, region?: string): DynamoDbStreamBatchReader {
    return new DynamoDbStreamBatchReader(
      new DynamoDBStreamsClient(
        endpoint
          ? {
              endpoint,
              region: region ?? 'local',
              credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
            }
          : {},
      ),
    );
  }

  async recordsOf(batch: StreamBatchInfo): Promise<BatchRecords> {
    try {
      const { ShardIterator } = await this.client.send(
        new GetShardIteratorCommand({
          StreamArn: batch.streamArn,
          ShardId: batch.shardId,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          SequenceNumber: batch.startSequenceNumber,
        }),
      );
      const records: KeyedRecord[] = [];
      let iterator = ShardIterator;
      for (let page = 0; iterator && page < MAX_PAGES; page++) {
        const answer = await this.client.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }),
        );
        for (const record of answer.Records ?? []) {
          const sequence = record.dynamodb?.SequenceNumber;
          if (sequence === undefined) continue;
          if (sequenceAfter(sequence, batch.endSequenceNumber)) return { records };
          records.push(record as KeyedRecord);
        }
        if (batch.batchSize !== undefined && records.length >= batch.batchSize) break;
        iterator = answer.NextShardIterator;
      }
      return { records };
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      const reason = error instanceof Error ? error.message : String(error);
      if (name === 'TrimmedDataAccessException') return { unavailable: 'trimmed', reason };
      if (name === 'ResourceNotFoundException') return { unavailable: 'gone', reason };
      throw error;
    }
  }
}
