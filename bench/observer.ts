/**
 * The independent visibility observer (issue 11, item 7): how long until the decoupled read
 * model really holds a command's version, measured without the query API. A tight loop of
 * consistent GetItems of the order's view item (its checkpoint `applied[id]` only), on its own
 * DynamoDB client, started when the command is sent; the time is when the first read that
 * shows the version (or later) came back. Beside
 * it, the `?minVersion` figure (visible latency) is what a client of the API sees: the
 * difference is what the query function's wait adds (its 10 ms poll, HTTP, the handler).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { storedKey } from '../lambdas/core/projections/row-projection';
import { orderViewProjection } from '../lambdas/domain/order/projections';

export const OBSERVER_METHOD =
  'an independent observer: from the moment POST /commands is sent, a tight loop of consistent GetItems of the order’s view item in the projections table (its checkpoint applied[id]) on its own DynamoDB client (not the query API), until a read shows the command’s version; the time is when that read came back. Measured in the one-client sweep of the decoupled profiles, beside visible latency (the ?minVersion answer).';

/** Longest an observation runs before it gives up (the command's visible wait gives up too). */
const GIVE_UP_MS = 60_000;

export interface Observation {
  /**
   * Resolves with performance.now() of the first read showing `version` or later (undefined
   * when it gave up), and stops the loop.
   */
  until(version: number): Promise<number | undefined>;
  /** Stops the loop (a failed command). */
  stop(): void;
}

export class RowObserver {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    endpoint: string | undefined,
    /** The stack's projections table. */
    private readonly tableName: string,
    region?: string,
  ) {
    // Its own client (own connections): the observer never queues behind the API's requests.
    this.doc = DynamoDBDocumentClient.from(
      new DynamoDBClient(
        endpoint
          ? {
              endpoint,
              region: region ?? 'local',
              credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
            }
          : { region },
      ),
    );
  }

  /** Starts polling the row of `aggregateId` now. */
  watch(aggregateId: string): Observation {
    const started = performance.now();
    let target = Number.POSITIVE_INFINITY;
    let stopped = false;
    const seen: { version: number; at: number }[] = [];
    let wake: (() => void) | undefined;
    const loop = (async () => {
      while (!stopped && performance.now() - started < GIVE_UP_MS) {
        const { Item } = await this.doc.send(
          new GetCommand({
            TableName: this.tableName,
            Key: { key: storedKey(orderViewProjection, aggregateId) },
            ConsistentRead: true,
            // The version the query answers with: the item's checkpoint of this order.
            ProjectionExpression: '#a.#id',
            ExpressionAttributeNames: { '#a': 'applied', '#id': aggregateId },
          }),
        );
        const at = performance.now();
        const applied = (Item?.applied as Record<string, unknown> | undefined)?.[aggregateId];
        const version = typeof applied === 'number' ? applied : 0;
        if (seen.length === 0 || seen.at(-1)!.version !== version) seen.push({ version, at });
        wake?.();
        if (version >= target) return;
      }
    })();
    const firstAt = (version: number) => seen.find((s) => s.version >= version)?.at;
    return {
      until: async (version) => {
        target = version;
        while (firstAt(version) === undefined && !stopped) {
          const done = await Promise.race([
            loop.then(() => true),
            new Promise<false>((r) => (wake = () => r(false))),
          ]);
          if (done) break;
        }
        stopped = true;
        await loop.catch(() => undefined);
        return firstAt(version);
      },
      stop: () => {
        stopped = true;
      },
    };
  }

  destroy(): void {
    this.doc.destroy();
  }
}
