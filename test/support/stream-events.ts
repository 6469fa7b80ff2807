/** DynamoDB stream events as Lambda delivers them, built from event-table items. */
import type {
  AttributeValue as LambdaAttributeValue,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { StoredEvent } from '../../lambdas/core/events/events';

let sequence = 1000;

export const streamRecord = (
  event: StoredEvent | Record<string, unknown>,
  sequenceNumber = String(sequence++),
): DynamoDBRecord => {
  const image = marshall(event, { removeUndefinedValues: true }) as Record<
    string,
    LambdaAttributeValue
  >;
  return {
    eventID: `id-${sequenceNumber}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'local',
    dynamodb: {
      ApproximateCreationDateTime: 1767225600,
      Keys: { aggregateId: image.aggregateId!, version: image.version! },
      NewImage: image,
      SequenceNumber: sequenceNumber,
      SizeBytes: 100,
      StreamViewType: 'NEW_IMAGE',
    },
    eventSourceARN:
      'arn:aws:dynamodb:local:000000000000:table/events/stream/2026-01-01T00:00:00.000',
  };
};

export const streamEvent = (records: DynamoDBRecord[]): DynamoDBStreamEvent => ({
  Records: records,
});
