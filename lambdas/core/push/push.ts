/**
 * Live updates, the pure part: who is subscribed to what, the message a changed row becomes,
 * and the fan-out that posts it to every subscriber. No AWS here: the subscription store and
 * the `post` function are ports (DynamoDB and the API Gateway management API in the adapters).
 */
import { mayRead, type ReadRule } from '../identity/authorization';
import { claimList, type Principal, type Role, ROLES } from '../identity/principal';
import type { EventAction, StoredEvent } from '../events/events';
import type { Log } from '../shared/log';
import { settleWithin } from '../shared/settle-within';

/** API Gateway WebSocket quotas (per message, per connection). */
export const WEBSOCKET_LIMITS = {
  maxMessageBytes: 128 * 1024,
  idleTimeoutSeconds: 10 * 60,
  maxConnectionSeconds: 2 * 60 * 60,
} as const;

/**
 * Most rows one connection may follow at once: a subscription past it is refused
 * (`TOO_MANY_SUBSCRIPTIONS`), so one socket cannot make every change fan out to it, nor its
 * `$disconnect` delete thousands of items. A client follows what it shows.
 */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;

/**
 * Most WebSockets one user may hold open at once (tabs, devices): a `$connect` past it is refused
 * (429), so one account cannot open connections without bound. Counted over the user's live
 * connections, each registered until it closes or its token expires, so one lost `$disconnect`
 * holds a place for at most the token's lifetime.
 */
export const MAX_CONNECTIONS_PER_USER = 10;

/** The user's open connections (the `$connect` and `$disconnect` routes). */
export interface UserConnections {
  /**
   * Registers the connection unless the user has `max` live ones at `nowSeconds` already
   * (`false`). Concurrent connects of one user may pass the count together: a soft bound.
   */
  open(
    connection: {
      readonly connectionId: string;
      readonly subject: string;
      readonly expiresAt: number;
    },
    max: number,
    nowSeconds: number,
  ): Promise<boolean>;
}

/** The actions a client sends (`{ "action": ..., "id": ... }`), i.e. the socket's routes. */
export const SOCKET_ACTIONS = ['subscribe', 'unsubscribe'] as const;
export type SocketAction = (typeof SOCKET_ACTIONS)[number];

/** What pushed rows are named by: the name of the projection whose rows they are. */
export interface PushedView {
  readonly name: string;
  /** Who may be pushed a row (the projection's `canRead`). @default admins only */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly canRead?: ReadRule<any>;
}

/**
 * A collection a socket may follow (`{ action, collection, id }`), and the view whose rows are
 * pushed for it: one per aggregate of the deployment (lambdas/handlers/deployment.ts).
 */
export interface PushedCollection {
  /** The URL segment of its routes, e.g. `orders`, `shopping-lists`. */
  readonly collection: string;
  readonly view: PushedView;
}

/** A deleted row as the notifier hands it over: pushed as `<name>/deleted`. */
export interface DeletedRow {
  readonly id: string;
  readonly version: number;
  readonly deleted: true;
}

const isDeletedRow = (row: unknown): row is DeletedRow =>
  (row as Partial<DeletedRow> | null)?.deleted === true;

/** The topic of one row: `<name>#<id>` (a subscription item's key). */
export const topicOf = (view: PushedView, id: string): string => `${view.name}#${id}`;

/** The type of a change message: `<name>/changed`. */
export const changedTypeOf = (view: PushedView): string => `${view.name}/changed`;

/** The type of a deletion message: `<name>/deleted` (the row is gone: `GET` answers 404). */
export const deletedTypeOf = (view: PushedView): string => `${view.name}/deleted`;

export interface Subscription {
  readonly topic: string;
  readonly connectionId: string;
  /**
   * Epoch seconds after which the row is dead: the connection's end, or its token's expiry if
   * sooner (the connection's identity ends with its token).
   */
  readonly expiresAt: number;
  /** Who subscribed: every push is checked against the view's read rule for them. */
  readonly principal: Principal;
}

/** A live subscription's connection and who made it. */
export interface Subscriber {
  readonly connectionId: string;
  readonly principal: Principal;
}

/** Roles as stored with a subscription (comma-separated), read back. */
export const rolesOf = (stored: unknown): Role[] =>
  claimList(stored).filter((r): r is Role => (ROLES as readonly string[]).includes(r));

/** What `add` did: stored it, found it stored already, or refused it (the connection is full). */
export type AddOutcome = 'added' | 'already' | 'full';

export interface SubscriptionStore {
  /**
   * Stores the subscription unless its connection already has `maxPerConnection`, counted
   * exactly (concurrent subscribes of one connection included). Subscribing again to a topic
   * is `already`, and counts once.
   */
  add(subscription: Subscription, maxPerConnection: number): Promise<AddOutcome>;
  remove(topic: string, connectionId: string): Promise<void>;
  /**
   * Connections subscribed to `topic` whose row has not expired at `nowSeconds`, read strongly
   * consistent: a subscription stored before the read is always among them.
   */
  connectionsOf(topic: string, nowSeconds: number): Promise<string[]>;
  /** The same, with who subscribed (what the notifier checks each push against). */
  subscribersOf(topic: string, nowSeconds: number): Promise<Subscriber[]>;
  /** Removes every subscription of one connection; answers how many there were. */
  removeConnection(connectionId: string): Promise<number>;
}

/**
 * The current version of a pushed row, as the notifier would push it (`version` of a change
 * message): read strongly consistent, 0 when there is no row yet. What a subscription is
 * acknowledged with, read after the subscription is stored: a change committed before that read
 * is in the version answered, one committed after it finds the subscription and is pushed.
 */
export interface ViewVersions {
  versionOf(view: PushedView, id: string): Promise<number>;
  /** The same read, with the row itself (undefined when none): what `subscribe` checks. */
  currentOf(view: PushedView, id: string): Promise<{ version: number; row: unknown }>;
}

/**
 * Sends `data` to one connection; throws what the management API throws. `signal` aborts it (the
 * fan-out's per-post timeout).
 */
export type PostToConnection = (
  connectionId: string,
  data: string,
  signal?: AbortSignal,
) => Promise<void>;

/**
 * The attribute a row write carries when its writer posts the row itself right after the write
 * (the coupled function, the projector): the notifier on the projections table's stream skips
 * such a row. A write without it (a rebuild, a redrive, a test's or an operator's Put, a process
 * manager's command) is pushed by the notifier (docs/decisions/push-from-the-writer.md).
 */
export const PUSHED_BY_ATTRIBUTE = 'pushedBy';

/**
 * The notifier's event source mapping filter (Lambda event filtering; the local poller applies
 * it too): a row write that carries PUSHED_BY_ATTRIBUTE is discarded before the notifier is
 * invoked, since its writer posted it; every other record, a removal included, is delivered.
 */
export const NOTIFIER_STREAM_FILTER = {
  dynamodb: { NewImage: { [PUSHED_BY_ATTRIBUTE]: { S: [{ exists: false }] } } },
} as const;

/** Who posted a row itself: the value of PUSHED_BY_ATTRIBUTE. */
export type RowPusher = 'coupled' | 'projector';

/** A post that has not answered in this long is given up (aws-sdk-js-v3#7632). @default */
export const DEFAULT_POST_TIMEOUT_MS = 3_000;

/** The post did not answer within the fan-out's per-post timeout. */
export class PostTimeoutError extends Error {
  override readonly name = 'PostTimeoutError';
}

/** The expiry of a subscription made on a connection opened at `connectedAtMs`. */
export const expiryOf = (connectedAtMs: number): number =>
  Math.floor(connectedAtMs / 1000) + WEBSOCKET_LIMITS.maxConnectionSeconds;

/**
 * The connection no longer exists. SDK v3 errors carry `name` and `$metadata`, not the
 * `statusCode` that v2-era samples test (and then never match).
 */
export const isGone = (error: unknown): boolean => {
  if (!error || typeof error !== 'object') return false;
  const { name, $metadata } = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return name === 'GoneException' || $metadata?.httpStatusCode === 410;
};

/** A view's row as the stream delivered it. */
export interface ChangedRow {
  /** The view the row is a row of (its topics and message type). */
  readonly view: PushedView;
  readonly id: string;
  readonly version: number;
  readonly row: Record<string, unknown>;
  /** The row as stored, when `row` is a deletion's stub: what the read rule is asked about. */
  readonly stored?: unknown;
  /**
   * Its writer posted it right after the write (PUSHED_BY_ATTRIBUTE): the notifier posts nothing
   * for it, but it still supersedes the earlier versions of its row in the batch.
   */
  readonly pushedBy?: string;
  /**
   * The events that took the row from `version - events.length` to `version`: a writer that
   * holds them (the coupled append, the projector) passes them, and the message may carry them
   * instead of the row (changeMessage).
   */
  readonly events?: readonly PushedEvent[];
}

const byteLength = (text: string) => new TextEncoder().encode(text).length;

/**
 * An event as a change message carries it: what the client's fold reads (the reducer's action
 * and the codec's schema version). The aggregate's id and type are the message's; the command's
 * ids, hash and actor are the log's (`/events`, `/history`), not the fold's.
 */
export type PushedEvent = Pick<
  StoredEvent,
  'version' | 'type' | 'payload' | 'occurredAt' | 'eventId' | 'correlationId' | 'schemaVersion'
>;

/**
 * An event as the projector folds it (its action) as a change message carries it. The action's
 * payload is the decoded one, upcast to `schemaVersion` (the codec's current version of its type).
 */
export const pushedEventOfAction = (action: EventAction, schemaVersion: number): PushedEvent => ({
  version: action.meta.version,
  type: action.type,
  payload: action.payload,
  occurredAt: action.meta.occurredAt,
  eventId: action.meta.eventId,
  correlationId: action.meta.correlationId,
  schemaVersion,
});

/**
 * The events a projector folded into a row that are aggregate `id`'s own, as a change message
 * carries them (changedRowOf keeps them only when they lead to the row's version).
 */
export const foldedEventsOf = (
  folded: readonly EventAction[] | undefined,
  id: string,
  schemaVersionOf: (type: string) => number,
): PushedEvent[] =>
  (folded ?? [])
    .filter((action) => action.meta.aggregateId === id)
    .map((action) => pushedEventOfAction(action, schemaVersionOf(action.type)));

/**
 * Whether `events` took a row from `version - events.length` to `version`: they follow one
 * another and end there, so a client holding the version before them folds exactly that row.
 */
const leadTo = (events: readonly PushedEvent[], version: number) =>
  events.length > 0 &&
  events.at(-1)!.version === version &&
  events.every((event, index) => index === 0 || event.version === events[index - 1]!.version + 1);

export const pushedEventOf = (event: StoredEvent): PushedEvent => ({
  version: event.version,
  type: event.type,
  payload: event.payload,
  occurredAt: event.occurredAt,
  eventId: event.eventId,
  correlationId: event.correlationId,
  ...(event.schemaVersion !== undefined && { schemaVersion: event.schemaVersion }),
});

/**
 * `{ type: '<name>/changed', id, version, <name>: row }` when that fits in one WebSocket
 * message, otherwise the poke `{ type, id, version }`: the client then fetches the row with
 * `?minVersion=version`. With the change's events, `{ type, id, version, events }` (each a
 * PushedEvent) instead of the row when that is the smaller message: a client holding
 * `version - events.length` folds them with the aggregate's reducer, any other reads the row, as
 * after a poke (docs/decisions/push-events-to-fold.md). A tombstone (the row of a deleted view) is
 * `{ type: '<name>/deleted', id, version }`: never the stub itself, which is no view.
 */
export const changeMessage = (change: ChangedRow): string => {
  const { view } = change;
  if (isDeletedRow(change.row)) {
    return JSON.stringify({ type: deletedTypeOf(view), id: change.id, version: change.version });
  }
  const type = changedTypeOf(view);
  const head = { type, id: change.id, version: change.version };
  const withRow = JSON.stringify({ ...head, [view.name]: change.row });
  const withEvents =
    change.events && change.events.length > 0
      ? JSON.stringify({ ...head, events: change.events })
      : undefined;
  const smaller =
    withEvents !== undefined && byteLength(withEvents) < byteLength(withRow) ? withEvents : withRow;
  if (byteLength(smaller) <= WEBSOCKET_LIMITS.maxMessageBytes) return smaller;
  return JSON.stringify(head);
};

export interface NotifyOutcome {
  readonly sent: number;
  readonly gone: number;
  /** Posts that failed for another reason: logged, never retried (the client resyncs). */
  readonly failedPosts: number;
  /** Indexes of changes whose subscribers could not be read: retry from the first. */
  readonly failedChanges: number[];
}

/**
 * A row a writer holds at its write: the view it is a row of (with `isDeleted`), its id, the
 * aggregate version it is at and the row as stored. What the notifier and the writers push alike.
 */
export const changedRowOf = (
  view: PushedView,
  id: string,
  version: number,
  stored: unknown,
  isDeleted?: (row: never) => boolean,
  /** The events a writer holds that made it: kept only when they lead to `version` exactly. */
  events?: readonly PushedEvent[],
): ChangedRow => {
  const deleted = (isDeleted as ((row: unknown) => boolean) | undefined)?.(stored) === true;
  return {
    view: { name: view.name, ...(view.canRead && { canRead: view.canRead }) },
    id,
    version,
    row: deleted ? { id, version, deleted: true } : (stored as Record<string, unknown>),
    ...(deleted && { stored }),
    ...(!deleted && events && leadTo(events, version) && { events }),
  };
};

export interface NotifierDependencies {
  readonly subscriptions: SubscriptionStore;
  readonly post: PostToConnection;
  readonly log: Log;
  /** Posts in flight at once. @default 20 */
  readonly concurrency?: number;
  /**
   * A post not answered in this long is aborted and counted failed: PostToConnection can hang
   * past the SDK's own request timeout (aws-sdk-js-v3#7632). @default DEFAULT_POST_TIMEOUT_MS
   */
  readonly postTimeoutMs?: number;
  readonly now?: () => number;
}

/**
 * `post` with a deadline: aborted through its signal, and given up even if it ignores the signal
 * (the hang the SDK issue describes does).
 */
const postWithin = async (
  post: PostToConnection,
  timeoutMs: number,
  connectionId: string,
  data: string,
): Promise<void> => {
  const abort = new AbortController();
  if ((await settleWithin(post(connectionId, data, abort.signal), timeoutMs)) === 'late') {
    abort.abort();
    throw new PostTimeoutError(`No answer to the post in ${timeoutMs} ms`);
  }
};

/**
 * Posts each change to its subscribers. A change superseded by a later version of the same row
 * in the same batch is skipped (the later message carries it), and so is one its writer posted
 * itself (`pushedBy`). A GoneException removes that
 * connection's subscriptions, and only that connection's; any other failed post is logged and
 * does not stop the others: a pushed message is a hint, the client heals a missed one by
 * resyncing on reconnect.
 */
export const createNotifier =
  (deps: NotifierDependencies) =>
  async (changes: readonly ChangedRow[]): Promise<NotifyOutcome> => {
    const now = deps.now ?? Date.now;
    const concurrency = deps.concurrency ?? 20;
    const postTimeoutMs = deps.postTimeoutMs ?? DEFAULT_POST_TIMEOUT_MS;
    const latest = new Map<string, number>();
    changes.forEach((change, index) => latest.set(topicOf(change.view, change.id), index));
    let sent = 0;
    let gone = 0;
    let failedPosts = 0;
    const failedChanges: number[] = [];

    for (const [index, change] of changes.entries()) {
      const topic = topicOf(change.view, change.id);
      if (latest.get(topic) !== index || change.pushedBy !== undefined) continue;
      let connections: string[];
      try {
        const subscribers = await deps.subscriptions.subscribersOf(topic, Math.floor(now() / 1000));
        // Checked on every push, not only at subscribe time: an owner or a sharing may change.
        const readable = change.stored ?? change.row;
        connections = subscribers
          .filter((s) => mayRead(change.view.canRead, s.principal, readable))
          .map((s) => s.connectionId);
      } catch (error) {
        deps.log.error('Could not read the subscribers', { topic, error: String(error) });
        failedChanges.push(index);
        continue;
      }
      // No one may read it: no message to build (the writer's push of most commands).
      if (connections.length === 0) continue;
      const message = changeMessage(change);
      const postOne = async (connectionId: string) => {
        try {
          await postWithin(deps.post, postTimeoutMs, connectionId, message);
          sent++;
        } catch (error) {
          if (isGone(error)) {
            gone++;
            // The gone connection: never the one that caused the change, never anyone else.
            await deps.subscriptions.removeConnection(connectionId).catch((cleanup: unknown) =>
              deps.log.warn('Could not remove a gone connection', {
                connectionId,
                error: String(cleanup),
              }),
            );
          } else {
            failedPosts++;
            deps.log.warn('Post to a connection failed', {
              connectionId,
              topic,
              version: change.version,
              error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
            });
          }
        }
      };
      for (let start = 0; start < connections.length; start += concurrency) {
        await Promise.all(connections.slice(start, start + concurrency).map(postOne));
      }
    }
    return { sent, gone, failedPosts, failedChanges };
  };
