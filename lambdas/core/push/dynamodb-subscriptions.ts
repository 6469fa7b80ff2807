/** DynamoDB adapter of the subscription store (SUBSCRIPTIONS_TABLE in schema.ts). */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type AddOutcome,
  rolesOf,
  type Subscriber,
  type Subscription,
  type SubscriptionStore,
  type UserConnections,
} from './push';
import { type BackoffPolicy, backoffDelay } from '../shared/backoff';
import { SUBSCRIPTION_TTL_ATTRIBUTE, SUBSCRIPTIONS_TABLE } from '../shared/schema';

const TOPIC = SUBSCRIPTIONS_TABLE.partitionKey.name;
const CONNECTION = SUBSCRIPTIONS_TABLE.sortKey.name;
const BY_CONNECTION = SUBSCRIPTIONS_TABLE.indexes[0].indexName;
/**
 * The topic of a connection's counter item (its number of subscriptions, beside them): no view's
 * topic, which is always `<name>#<id>` with a name.
 */
const COUNTER_TOPIC = '#subscriptions';
/** The topic of a user's connections (`#user#<sub>`): one item per open connection. */
const userTopic = (subject: string) => `#user#${subject}`;
/** Topics of bookkeeping items (counters, a user's connections): never a row's (`<name>#<id>`). */
const isBookkeeping = (topic: unknown) => String(topic).startsWith('#');

/**
 * Subscribes of one connection arriving at once contend for its counter item: DynamoDB cancels
 * the transactions that clash (`TransactionConflict`), which the SDK does not retry. They are
 * tried again, jittered, a bounded number of times.
 */
const CONFLICT_BACKOFF: BackoffPolicy = { baseMs: 5, maxMs: 200, jitter: 1 };
const CONFLICT_ATTEMPTS = 10;

const isConflict = (error: unknown) =>
  error instanceof TransactionCanceledException &&
  (error.CancellationReasons ?? []).some((reason) => reason.Code === 'TransactionConflict');

export class DynamoDbSubscriptions implements SubscriptionStore, UserConnections {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * One transaction: the connection's counter item (topic COUNTER_TOPIC) goes up by one only
   * while it is under the limit, and the subscription is put only if it is not there yet. Either
   * condition failing cancels both, so the count is exact whatever arrives at once.
   */
  async add(subscription: Subscription, maxPerConnection: number): Promise<AddOutcome> {
    const { topic, connectionId, expiresAt, principal } = subscription;
    try {
      await this.transact(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: { [TOPIC]: COUNTER_TOPIC, [CONNECTION]: connectionId },
                UpdateExpression: 'ADD #n :one SET #e = :e',
                ConditionExpression: 'attribute_not_exists(#n) OR #n < :max',
                ExpressionAttributeNames: {
                  '#n': 'subscriptions',
                  '#e': SUBSCRIPTION_TTL_ATTRIBUTE,
                },
                ExpressionAttributeValues: { ':one': 1, ':max': maxPerConnection, ':e': expiresAt },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  [TOPIC]: topic,
                  [CONNECTION]: connectionId,
                  [SUBSCRIPTION_TTL_ATTRIBUTE]: expiresAt,
                  subject: principal.subject,
                  roles: principal.roles.join(','),
                },
                ConditionExpression: 'attribute_not_exists(#t)',
                ExpressionAttributeNames: { '#t': TOPIC },
              },
            },
          ],
        }),
      );
      return 'added';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [counter, put] = (error.CancellationReasons ?? []).map((r) => r.Code);
      if (put === 'ConditionalCheckFailed') return 'already';
      if (counter === 'ConditionalCheckFailed') return 'full';
      throw error;
    }
  }

  /** The subscription and one off its connection's count, together; nothing when not there. */
  async remove(topic: string, connectionId: string): Promise<void> {
    try {
      await this.transact(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.tableName,
                Key: { [TOPIC]: topic, [CONNECTION]: connectionId },
                ConditionExpression: 'attribute_exists(#t)',
                ExpressionAttributeNames: { '#t': TOPIC },
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: { [TOPIC]: COUNTER_TOPIC, [CONNECTION]: connectionId },
                UpdateExpression: 'ADD #n :minus',
                ConditionExpression: 'attribute_exists(#n)',
                ExpressionAttributeNames: { '#n': 'subscriptions' },
                ExpressionAttributeValues: { ':minus': -1 },
              },
            },
          ],
        }),
      );
    } catch (error) {
      // Not subscribed (or its counter gone with the connection): nothing to remove.
      if (!(error instanceof TransactionCanceledException)) throw error;
    }
  }

  /**
   * The live items of a topic. The topic is the table's partition key, so this Query can be (and
   * is) strongly consistent: a subscription acknowledged before the notifier reads is never
   * missed (a GSI could not be). TTL deletion is lazy (AWS: typically within days), so expired
   * items are filtered here.
   */
  private liveItems(topic: string, nowSeconds: number) {
    return this.queryAll({
      TableName: this.tableName,
      ConsistentRead: true,
      KeyConditionExpression: '#t = :t',
      FilterExpression: '#e > :now',
      ExpressionAttributeNames: { '#t': TOPIC, '#e': SUBSCRIPTION_TTL_ATTRIBUTE },
      ExpressionAttributeValues: { ':t': topic, ':now': nowSeconds },
    });
  }

  async connectionsOf(topic: string, nowSeconds: number): Promise<string[]> {
    const items = await this.liveItems(topic, nowSeconds);
    return items.map((item) => String(item[CONNECTION]));
  }

  async subscribersOf(topic: string, nowSeconds: number): Promise<Subscriber[]> {
    const items = await this.liveItems(topic, nowSeconds);
    // A subscription stored before users existed names nobody: it is pushed nothing.
    return items.flatMap((item) =>
      typeof item.subject === 'string'
        ? [
            {
              connectionId: String(item[CONNECTION]),
              principal: { subject: item.subject, roles: rolesOf(item.roles) },
            },
          ]
        : [],
    );
  }

  /**
   * Counts the user's live connections (their topic's live items), then registers this one.
   * `removeConnection` deletes it with the connection's subscriptions.
   */
  async open(
    connection: { connectionId: string; subject: string; expiresAt: number },
    max: number,
    nowSeconds: number,
  ): Promise<boolean> {
    const topic = userTopic(connection.subject);
    const live = await this.liveItems(topic, nowSeconds);
    if (live.length >= max) return false;
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          [TOPIC]: topic,
          [CONNECTION]: connection.connectionId,
          [SUBSCRIPTION_TTL_ATTRIBUTE]: connection.expiresAt,
        },
      }),
    );
    return true;
  }

  async removeConnection(connectionId: string): Promise<number> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: BY_CONNECTION,
      KeyConditionExpression: '#c = :c',
      ExpressionAttributeNames: { '#c': CONNECTION },
      ExpressionAttributeValues: { ':c': connectionId },
    });
    // Its subscriptions and its counter: deleted outright, the count goes with them.
    await Promise.all(
      items.map((item) =>
        this.client.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: { [TOPIC]: item[TOPIC], [CONNECTION]: connectionId },
          }),
        ),
      ),
    );
    return items.filter((item) => !isBookkeeping(item[TOPIC])).length;
  }

  /** Sends a transaction, again while it only clashed with another one (see CONFLICT_BACKOFF). */
  private async transact(command: TransactWriteCommand): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(command);
        return;
      } catch (error) {
        if (!isConflict(error) || attempt >= CONFLICT_ATTEMPTS) throw error;
        await new Promise((resolve) =>
          setTimeout(resolve, backoffDelay(attempt, CONFLICT_BACKOFF)),
        );
      }
    }
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
