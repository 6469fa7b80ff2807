/** DynamoDB adapter of the subscription store (SUBSCRIPTIONS_TABLE in schema.ts). */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Subscription, SubscriptionStore } from './push';
import { SUBSCRIPTION_TTL_ATTRIBUTE, SUBSCRIPTIONS_TABLE } from '../shared/schema';

const TOPIC = SUBSCRIPTIONS_TABLE.partitionKey.name;
const CONNECTION = SUBSCRIPTIONS_TABLE.sortKey.name;
const BY_CONNECTION = SUBSCRIPTIONS_TABLE.indexes[0].indexName;

export class DynamoDbSubscriptions implements SubscriptionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async add(subscription: Subscription): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          [TOPIC]: subscription.topic,
          [CONNECTION]: subscription.connectionId,
          [SUBSCRIPTION_TTL_ATTRIBUTE]: subscription.expiresAt,
        },
      }),
    );
  }

  async remove(topic: string, connectionId: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { [TOPIC]: topic, [CONNECTION]: connectionId },
      }),
    );
  }

  /**
   * The topic is the table's partition key, so this Query can be (and is) strongly consistent:
   * a subscription acknowledged before the notifier reads is never missed (a GSI could not be).
   * TTL deletion is lazy (AWS: typically within days), so expired rows are filtered here.
   */
  async connectionsOf(topic: string, nowSeconds: number): Promise<string[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      ConsistentRead: true,
      KeyConditionExpression: '#t = :t',
      FilterExpression: '#e > :now',
      ExpressionAttributeNames: { '#t': TOPIC, '#e': SUBSCRIPTION_TTL_ATTRIBUTE, '#c': CONNECTION },
      ExpressionAttributeValues: { ':t': topic, ':now': nowSeconds },
      ProjectionExpression: '#c',
    });
    return items.map((item) => String(item[CONNECTION]));
  }

  async removeConnection(connectionId: string): Promise<number> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: BY_CONNECTION,
      KeyConditionExpression: '#c = :c',
      ExpressionAttributeNames: { '#c': CONNECTION },
      ExpressionAttributeValues: { ':c': connectionId },
    });
    await Promise.all(items.map((item) => this.remove(String(item[TOPIC]), connectionId)));
    return items.length;
  }

  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({ ...input, ...(start && { ExclusiveStartKey: start }) }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
