/**
 * What the sweeps drive: a runner sends one command and measures it. Profiles go through HTTP
 * (the deployed handler code behind a gateway); the floor runners do the same DynamoDB work
 * with the plain SDK and nothing else.
 */
import { randomUUID } from 'node:crypto';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { backoffDelay } from '../lambdas/core/shared/backoff';
import { HEADS_KEPT, NEWEST_EVENTS_READ } from '../lambdas/core/command/command-runner';
import { RecentlyUsed } from '../lambdas/core/shared/recently-used';
import {
  SNAPSHOTS_TABLE,
  SUBSCRIPTION_TTL_ATTRIBUTE,
  SUBSCRIPTIONS_TABLE,
} from '../lambdas/core/shared/schema';
import { topicOf } from '../lambdas/core/push/push';
import { UNPROCESSED_ITEMS_BACKOFF } from '../lambdas/core/shared/dynamodb-limits';
import {
  type AnyRowProjection,
  storageName,
  storedKey,
} from '../lambdas/core/projections/row-projection';
import { listAttributes } from '../lambdas/core/projections/row-lists';
import { viewItemUpdate } from '../lambdas/core/projections/dynamodb-projection-rows';
import { orderViewProjection } from '../lambdas/domain/order/projections';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { lambdaContext } from '../local/emulators/lambda-context';
import { directEvent, type JwtClaims } from './direct-event';
import type { ApiClient } from './http';
import type { RowObserver } from './observer';
import {
  applyToRow,
  type BenchCommand,
  type EventItem,
  eventFor,
  type FloorRow,
  historyEvents,
} from './orders';

export type RunnerKind = 'coupled' | 'decoupled' | 'floor-decoupled' | 'floor-coupled';

export interface Outcome {
  readonly ok: boolean;
  /** HTTP status (0 when the request itself failed; 200 for the floor). */
  readonly status: number;
  /** Error code of a failed command (`VERSION_CONFLICT`, `NETWORK`...). */
  readonly code?: string;
  readonly version?: number;
  /** Request sent -> answer received (floor: start -> the event is written). */
  readonly ackMs: number;
  /** Request sent -> the read model shows the version (when asked for and ok). */
  readonly visibleMs?: number;
  /** Request sent -> the independent observer read the version in the row (./observer.ts). */
  readonly observedMs?: number;
  /** The server's retries after lost version races (`x-command-retries`). */
  readonly retries: number;
  /** From a 409 VERSION_CONFLICT: the aggregate's actual version. */
  readonly actualVersion?: number;
}

export interface ExecuteOptions {
  /** Also measure until the read model shows the new version. */
  readonly visible: boolean;
  readonly expectedVersion?: number;
  /** Also time the row with the independent observer (decoupled runners that have one). */
  readonly observe?: boolean;
}

export interface Runner {
  /** `coupled`, `decoupled-250ms`, `floor-decoupled`... */
  readonly name: string;
  /** Short id used in aggregate ids. */
  readonly tag: string;
  readonly kind: RunnerKind;
  execute(aggregateId: string, command: BenchCommand, options: ExecuteOptions): Promise<Outcome>;
  /** Makes `aggregateId` an order with exactly `length` events (visible in the read model). */
  prepare(aggregateId: string, length: number): Promise<void>;
  /**
   * Waits until the aggregate's snapshot is stored at `version` or later (true), or a wait of
   * SNAPSHOT_WAIT has passed (false): a stack answers before its snapshot write ends, the floor
   * after. Absent: a runner that cannot read its snapshots (deployed stacks).
   */
  snapshotStored?(aggregateId: string, version: number): Promise<boolean>;
}

/** The newest snapshot version stored for an aggregate (any reducer's key), or undefined. */
export type SnapshotVersionOf = (aggregateId: string) => Promise<number | undefined>;

/** A stack's snapshots table read directly (local runs): its newest snapshot's version. */
export const snapshotVersionIn =
  (doc: DynamoDBDocumentClient, snapshotsTable: string): SnapshotVersionOf =>
  async (aggregateId) => {
    const { Items } = await doc.send(
      new QueryCommand({
        TableName: snapshotsTable,
        ConsistentRead: true,
        KeyConditionExpression: '#a = :a',
        ProjectionExpression: '#v',
        ExpressionAttributeNames: { '#a': SNAPSHOTS_TABLE.partitionKey.name, '#v': 'version' },
        ExpressionAttributeValues: { ':a': aggregateId },
      }),
    );
    const versions = (Items ?? []).map((item) => item.version as number);
    return versions.length > 0 ? Math.max(...versions) : undefined;
  };

/**
 * How long a runner waits for a snapshot, and how often it looks. Each stack stored the
 * snapshot of a 10,000-event order in about 12 s, the three side by side (2026-12-07).
 */
export const SNAPSHOT_WAIT: { readonly timeoutMs: number; readonly pollMs: number } = {
  timeoutMs: 60_000,
  pollMs: 250,
};

/** Runner.snapshotStored, read with `read` every `wait.pollMs` until `wait.timeoutMs`. */
const snapshotStoredIn = async (
  read: SnapshotVersionOf,
  aggregateId: string,
  version: number,
  wait = SNAPSHOT_WAIT,
): Promise<boolean> => {
  const since = performance.now();
  for (;;) {
    const stored = await read(aggregateId);
    if (stored !== undefined && stored >= version) return true;
    if (performance.now() - since >= wait.timeoutMs) return false;
    await new Promise((resolve) => setTimeout(resolve, wait.pollMs));
  }
};

const errorOf = (body: unknown): { code?: string; actualVersion?: number } => {
  const error = (body as { error?: { code?: unknown; details?: { actualVersion?: unknown } } })
    ?.error;
  return {
    code: typeof error?.code === 'string' ? error.code : undefined,
    actualVersion:
      typeof error?.details?.actualVersion === 'number' ? error.details.actualVersion : undefined,
  };
};

/**
 * What a stack's answer to a command says: the outcome, or (a decoupled stack's accepted command
 * whose row was asked for) the version to wait for. Pure; the HTTP and invoked runners share it.
 */
const answerOutcome = (
  kind: 'coupled' | 'decoupled',
  status: number,
  answer: unknown,
  at: { readonly ackMs: number; readonly retries: number; readonly visible: boolean },
): { outcome: Outcome; version?: undefined } | { outcome?: undefined; version: number } => {
  const { ackMs, retries } = at;
  if (status !== (kind === 'coupled' ? 200 : 202)) {
    return { outcome: { ok: false, status, ackMs, retries, ...errorOf(answer) } };
  }
  const body = answer as { version?: unknown; order?: { version?: unknown } | null } | undefined;
  const version = body?.version;
  if (typeof version !== 'number') {
    return { outcome: { ok: false, status, code: 'BAD_RESPONSE', ackMs, retries } };
  }
  if (!at.visible) return { outcome: { ok: true, status, version, ackMs, retries } };
  if (kind === 'decoupled') return { version };
  // The coupled answer carries the fresh row: it is visible when the answer arrives.
  return {
    outcome:
      body?.order?.version === version
        ? { ok: true, status, version, ackMs, visibleMs: ackMs, retries }
        : { ok: false, status, code: 'STALE_ROW', version, ackMs, retries },
  };
};

/** Longest a decoupled runner keeps asking for its version before it counts an error. */
const VISIBLE_GIVE_UP_MS = 60_000;

/** Writes a whole history at once: BatchWriteItem, 25 items a call, unprocessed ones again. */
export const batchPut = async (
  doc: DynamoDBDocumentClient,
  table: string,
  items: readonly Record<string, unknown>[],
): Promise<void> => {
  for (let i = 0; i < items.length; i += 25) {
    let pending: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = {
      [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
    };
    for (let attempt = 0; pending && Object.keys(pending).length > 0; attempt++) {
      if (attempt > 0)
        await new Promise((r) => setTimeout(r, backoffDelay(attempt, UNPROCESSED_ITEMS_BACKOFF)));
      const result = await doc.send(new BatchWriteCommand({ RequestItems: pending }));
      pending = result.UnprocessedItems as typeof pending;
      if (attempt > 20)
        throw new Error(`BatchWriteItem on ${table} kept leaving items unprocessed`);
    }
  }
};

/** How an HTTP runner starts an order at a history length. */
export type Seeder = (runner: HttpRunner, aggregateId: string, length: number) => Promise<void>;

/**
 * Through the API: one create, one addLine and `length - 2` changeQuantity commands (used
 * against deployed stacks, where the bench does not write to the tables).
 */
export const seedThroughApi = async (runner: Runner, aggregateId: string, length: number) => {
  const events = historyEvents(aggregateId, length);
  for (const [i, event] of events.entries()) {
    const type = ({ 'order/created': 'order/create', 'order/lineAdded': 'order/addLine' } as const)[
      event.type as 'order/created' | 'order/lineAdded'
    ];
    const command: BenchCommand = {
      type: type ?? 'order/changeQuantity',
      payload: event.payload,
    };
    const outcome = await runner.execute(aggregateId, command, {
      visible: i === events.length - 1,
    });
    if (!outcome.ok) {
      throw new Error(
        `${runner.name}: building ${aggregateId} failed at version ${i + 1}: ${outcome.status} ${outcome.code ?? ''}`,
      );
    }
  }
};

/**
 * Straight into the stack's event table (the events the commands would write); the coupled
 * stack also gets its view item (its commands write it with the events), the decoupled one's
 * projector builds it from the stream.
 */
export const seedThroughTables =
  (
    doc: DynamoDBDocumentClient,
    tables: { eventTable: string; projectionsTable: string },
    itemOf?: (events: readonly EventItem[]) => Record<string, unknown> | undefined,
  ): Seeder =>
  async (runner, aggregateId, length) => {
    const events = historyEvents(aggregateId, length);
    // The item first, with its checkpoint: the coupled projector then skips the seeded events,
    // as it skips those a command wrote with its row.
    const item = itemOf?.(events);
    if (item) await doc.send(new PutCommand({ TableName: tables.projectionsTable, Item: item }));
    await batchPut(doc, tables.eventTable, events as unknown as Record<string, unknown>[]);
    await runner.waitVisible(aggregateId, length);
  };

export class HttpRunner implements Runner {
  /** Runner.snapshotStored: locally, from the stack's snapshots table; deployed, absent. */
  readonly snapshotStored?: (
    aggregateId: string,
    version: number,
    wait?: typeof SNAPSHOT_WAIT,
  ) => Promise<boolean>;

  constructor(
    readonly name: string,
    readonly tag: string,
    readonly kind: 'coupled' | 'decoupled',
    /** Its HTTP client (URL and signer), also used by the client-latency sweep. */
    readonly client: ApiClient,
    private readonly seeder: Seeder = seedThroughApi,
    /** Reads the decoupled row directly, for the true visibility (./observer.ts). */
    readonly observer?: RowObserver,
    /** Reads the stack's snapshots (local runs), for snapshotStored. */
    snapshotVersion?: SnapshotVersionOf,
  ) {
    this.snapshotStored =
      snapshotVersion &&
      ((aggregateId, version, wait) =>
        snapshotStoredIn(snapshotVersion, aggregateId, version, wait));
  }

  async execute(
    aggregateId: string,
    command: BenchCommand,
    options: ExecuteOptions,
  ): Promise<Outcome> {
    let sentAt = performance.now();
    // Started before the command is sent: the row may be written before the 202 arrives.
    const observation =
      options.observe && options.visible && this.kind === 'decoupled'
        ? this.observer?.watch(aggregateId)
        : undefined;
    try {
      const response = await this.client.request('POST', '/commands', {
        type: command.type,
        aggregateId,
        payload: command.payload,
        ...(options.expectedVersion !== undefined && { expectedVersion: options.expectedVersion }),
      });
      sentAt = response.sentAt;
      const ackMs = response.receivedAt - response.sentAt;
      const retries = Number(response.headers.get('x-command-retries') ?? 0) || 0;
      const answered = answerOutcome(this.kind, response.status, response.body, {
        ackMs,
        retries,
        visible: options.visible,
      });
      if (answered.outcome) return answered.outcome;
      const { version } = answered;
      const [seen, observedAt] = await Promise.all([
        this.waitVisible(aggregateId, version, response.sentAt),
        observation?.until(version),
      ]);
      return seen.ok
        ? {
            ok: true,
            status: response.status,
            version,
            ackMs,
            visibleMs: seen.at - response.sentAt,
            ...(observedAt !== undefined && { observedMs: observedAt - response.sentAt }),
            retries,
          }
        : { ok: false, status: seen.status, code: 'NOT_VISIBLE', version, ackMs, retries };
    } catch (error) {
      observation?.stop();
      return {
        ok: false,
        status: 0,
        code: (error as Error).name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK',
        ackMs: performance.now() - sentAt,
        retries: 0,
      };
    }
  }

  /**
   * GET /orders/{id}?minVersion=N until it answers 200 (the server waits up to 5 s per request
   * and answers 503 NOT_YET_CONSISTENT after that). Resolves with when the 200 arrived.
   */
  async waitVisible(
    aggregateId: string,
    version: number,
    since = performance.now(),
  ): Promise<{ ok: true; at: number } | { ok: false; status: number }> {
    for (;;) {
      const read = await this.client.request(
        'GET',
        `/orders/${encodeURIComponent(aggregateId)}?minVersion=${version}`,
      );
      if (read.status === 200) return { ok: true, at: read.receivedAt };
      if (read.status !== 503 || read.receivedAt - since > VISIBLE_GIVE_UP_MS) {
        return { ok: false, status: read.status };
      }
    }
  }

  prepare(aggregateId: string, length: number): Promise<void> {
    return this.seeder(this, aggregateId, length);
  }
}

export interface FloorTables {
  readonly eventTable: string;
  /** Where the floor's view items go (PROJECTIONS_TABLE's definition). */
  readonly projectionsTable: string;
  /** Where the floor keeps its snapshots and command markers (local runs; absent: skipped). */
  readonly snapshotsTable?: string;
  readonly commandsTable?: string;
  /**
   * The coupled floor's subscriptions (SUBSCRIPTIONS_TABLE): after its write it reads the row's
   * subscribers, as the coupled function does to push the row (absent: skipped).
   */
  readonly subscriptionsTable?: string;
}

/** An aggregate as the floor last left it, as the runner keeps its heads (HEADS_KEPT). */
interface FloorHead {
  readonly version: number;
  /** The snapshot's version (0: none). */
  readonly base: number;
  /** The events after `base`: their commands' markers are written before the next snapshot. */
  readonly tail: readonly Record<string, unknown>[];
}

/** The floor snapshots as often as the stacks do by default (lambdas/core/command/snapshots.ts). */
export const FLOOR_SNAPSHOT_EVERY = 100;

/** Floor events carry another aggregate type, so a deployed projector ignores them. */
export const FLOOR_AGGREGATE_TYPE = 'bench-floor';

/** The storage a floor's view items are keyed and listed under (a view's name and version). */
export type FloorView = Pick<AnyRowProjection, 'name' | 'version' | 'lists'>;

/**
 * The floor's view on its own tables (local runs): the order view itself, `order@v1#<id>` in
 * both of its lists' slots.
 */
export const FLOOR_VIEW: FloorView = orderViewProjection;

/**
 * The floor's view in deployed tables: the order view's lists under the floor's name
 * (`bench-floor@v1#<id>`), so its items pay the same slot writes but sit in partitions no
 * order list reads.
 */
export const FLOOR_VIEW_DEPLOYED: FloorView = {
  ...orderViewProjection,
  name: FLOOR_AGGREGATE_TYPE,
};

/** A stored view item as the row projector and the coupled append write it. */
interface FloorItem {
  readonly key: string;
  readonly view: FloorRow;
  readonly applied: Readonly<Record<string, number>>;
  readonly rev: number;
}

export interface FloorOptions {
  /**
   * Check that version - 1 exists inside the write, as a writer that has not read it must
   * (docs/decisions/honest-appends.md): an event after version 1 goes in a TransactWriteItems
   * with a ConditionCheck. Default false: the stacks' runner has read version - 1 in the same
   * command, so its store leaves the check out (docs/decisions/single-item-appends.md).
   */
  readonly checkPrevious?: boolean;
}

/** The newest events the floor reads beside its snapshot, as the runner (NEWEST_EVENTS_READ). */
export const FLOOR_NEWEST_READ = Math.min(FLOOR_SNAPSHOT_EVERY, NEWEST_EVENTS_READ);

/** A function's handler as Lambda calls it (the coupled one: lambdas/handlers/wiring.ts). */
export type InvokedHandler = (
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  context: Context,
) => Promise<unknown>;

/**
 * The coupled function as a Lambda instance runs it: its handler (the very one the cloud runs)
 * called with the payload 2.0 event API Gateway hands it for `POST /commands`, the caller's
 * claims as its JWT authorizer passes them on, and its answer read as the gateway would map it.
 * No gateway and no HTTP in between: on AWS, routing, the token check and the HTTP exchange are
 * API Gateway's work, not the function's. The CPU target reads it (./cost.ts, CpuInTurns), run
 * in a process of its own (./runner-process.ts).
 */
export class InvokedFunctionRunner implements Runner {
  readonly kind = 'coupled';

  constructor(
    readonly name: string,
    readonly tag: string,
    private readonly handler: InvokedHandler,
    /** `requestContext.authorizer.jwt.claims` (./direct-event.ts devUserClaims). */
    private readonly claims: JwtClaims,
  ) {}

  async execute(
    aggregateId: string,
    command: BenchCommand,
    options: ExecuteOptions,
  ): Promise<Outcome> {
    const startedAt = performance.now();
    const body = JSON.stringify({
      type: command.type,
      aggregateId,
      payload: command.payload,
      ...(options.expectedVersion !== undefined && { expectedVersion: options.expectedVersion }),
    });
    const result = (await this.handler(
      directEvent(body, this.claims),
      lambdaContext('coupled-api'),
    )) as APIGatewayProxyStructuredResultV2;
    const ackMs = performance.now() - startedAt;
    const retries = Number(result.headers?.['x-command-retries'] ?? 0) || 0;
    let answer: unknown;
    try {
      answer = result.body === undefined ? undefined : JSON.parse(result.body);
    } catch {
      answer = undefined;
    }
    const answered = answerOutcome(this.kind, result.statusCode ?? 200, answer, {
      ackMs,
      retries,
      visible: options.visible,
    });
    return answered.outcome!;
  }

  prepare(aggregateId: string, length: number): Promise<void> {
    return seedThroughApi(this, aggregateId, length);
  }
}

/**
 * The DynamoDB work of a command, with the plain SDK, as the command runner does it:
 * - both: a consistent Query of the newest events (newest first, FLOOR_NEWEST_READ of them);
 *   for a longer history also a consistent GetItem of the snapshot (beside the Query once the
 *   aggregate is known to be that long), then the events between the snapshot and those beside
 *   a consistent GetItem of the commandId's marker; the event as one conditional PutItem; and once 100 events lie past the snapshot, the markers of the
 *   commands it covers (BatchWriteItem) then a conditional PutItem of a new one. Without
 *   snapshot and marker tables (remote runs): Query of the whole history, and the event alone.
 * - `floor-decoupled` then measures visible: the projector's consistent GetItem + conditional
 *   PutItem of the view item (`{ key, view, applied, rev, ...list slots }`, the condition on
 *   its revision) and the query's consistent GetItem of it.
 * - `floor-coupled` updates the view item in the same write (a TransactWriteItems of the event
 *   and the Update), as the coupled append does (DynamoDbProjectionRows.writeViewItem: view,
 *   checkpoint, revision, list slots).
 */
export class FloorRunner implements Runner {
  /** The coupled floor's rows (the coupled Lambda builds the row from the history it loaded). */
  private readonly rows = new Map<string, FloorRow>();
  /** Where it last left each aggregate: the next command reads only the events since. */
  private readonly heads = new RecentlyUsed<string, FloorHead>(HEADS_KEPT);

  constructor(
    readonly name: string,
    readonly tag: string,
    readonly kind: 'floor-decoupled' | 'floor-coupled',
    private readonly doc: DynamoDBDocumentClient,
    private readonly tables: FloorTables,
    /** Where its view items are keyed and listed (FLOOR_VIEW_DEPLOYED against deployed tables). */
    private readonly view: FloorView,
    private readonly options: FloorOptions = {},
  ) {}

  /** The events after `after` (up to `to`), oldest first; `newest`: only that many, newest first read. */
  private async loadEvents(
    aggregateId: string,
    range: { readonly after: number; readonly to?: number; readonly newest?: number },
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tables.eventTable,
          ConsistentRead: true,
          KeyConditionExpression:
            range.to === undefined
              ? '#pk = :id AND #sk > :after'
              : '#pk = :id AND #sk BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#pk': 'aggregateId', '#sk': 'version' },
          ExpressionAttributeValues:
            range.to === undefined
              ? { ':id': aggregateId, ':after': range.after }
              : { ':id': aggregateId, ':from': range.after + 1, ':to': range.to },
          ExclusiveStartKey: startKey,
          ...(range.newest !== undefined && { ScanIndexForward: false, Limit: range.newest }),
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = range.newest === undefined ? page.LastEvaluatedKey : undefined;
    } while (startKey);
    return range.newest === undefined ? items : items.reverse();
  }

  /** The markers of these events' commands (one per event here), before a snapshot covers them. */
  private async recordCommands(events: readonly Record<string, unknown>[]) {
    const { commandsTable } = this.tables;
    if (!commandsTable) return;
    const markers = events.map((e) => ({
      aggregateId: e.aggregateId,
      commandId: e.commandId,
      commandHash: e.commandHash,
      firstVersion: e.version,
      lastVersion: e.version,
    }));
    await batchPut(this.doc, commandsTable, markers);
  }

  private putEvent(event: EventItem) {
    return {
      TableName: this.tables.eventTable,
      Item: event as unknown as Record<string, unknown>,
      ConditionExpression: 'attribute_not_exists(#sk)',
      ExpressionAttributeNames: { '#sk': 'version' },
    };
  }

  /** The slot attributes of the lists `row` is in, as every writer of a view item sets them. */
  private listAttributes(row: FloorRow) {
    return listAttributes(this.view, storageName(this.view), row);
  }

  /** The coupled append's write of the view item: the very Update the stack sends. */
  private updateView(row: FloorRow) {
    return viewItemUpdate(this.tables.projectionsTable, this.view, row.id, row, row.version);
  }

  /** The honest append's check that the previous version exists (none for version 1). */
  private checkPrevious(event: EventItem) {
    if (!this.options.checkPrevious || event.version <= 1) return [];
    return [
      {
        ConditionCheck: {
          TableName: this.tables.eventTable,
          Key: { aggregateId: event.aggregateId, version: event.version - 1 },
          ConditionExpression: 'attribute_exists(#sk)',
          ExpressionAttributeNames: { '#sk': 'version' },
        },
      },
    ];
  }

  async execute(
    aggregateId: string,
    command: BenchCommand,
    options: ExecuteOptions,
  ): Promise<Outcome> {
    const started = performance.now();
    const { snapshotsTable, commandsTable } = this.tables;
    const commandId = randomUUID();
    try {
      const readSnapshot = async () =>
        snapshotsTable
          ? (
              await this.doc.send(
                new GetCommand({
                  TableName: snapshotsTable,
                  Key: { aggregateId, snapshotKey: 'floor' },
                  ConsistentRead: true,
                }),
              )
            ).Item
          : undefined;
      const readMarker = () =>
        commandsTable
          ? this.doc.send(
              new GetCommand({
                TableName: commandsTable,
                Key: { aggregateId, commandId },
                ConsistentRead: true,
              }),
            )
          : undefined;
      const readFirst = async () => {
        // As the runner: the snapshot beside the newest events only for an aggregate already
        // seen that long; for a shorter one the newest events are the whole history.
        const knownLong = (this.rows.get(aggregateId)?.version ?? 0) >= FLOOR_NEWEST_READ;
        const [early, newest] = await Promise.all([
          knownLong ? readSnapshot() : undefined,
          this.loadEvents(aggregateId, {
            after: 0,
            ...(snapshotsTable && { newest: FLOOR_NEWEST_READ }),
          }),
        ]);
        const whole = !snapshotsTable || newest.length < FLOOR_NEWEST_READ;
        const snapshot = whole ? undefined : (early ?? (await readSnapshot()));
        const base = (snapshot?.version as number | undefined) ?? 0;
        const oldest = (newest[0]?.version as number | undefined) ?? base + 1;
        // A history longer than the newest read: the events in between, beside the marker.
        const [between] = await Promise.all([
          oldest > base + 1 ? this.loadEvents(aggregateId, { after: base, to: oldest - 1 }) : [],
          base > 0 ? readMarker() : undefined,
        ]);
        return { base, tail: [...between, ...newest.filter((e) => (e.version as number) > base)] };
      };
      // As the runner with a head: the events since it, beside the marker past a snapshot.
      const head = this.heads.get(aggregateId);
      const read = head
        ? await Promise.all([
            this.loadEvents(aggregateId, { after: head.version }),
            head.base > 0 ? readMarker() : undefined,
          ]).then(([newer]) => ({ base: head.base, tail: [...head.tail, ...newer] }))
        : await readFirst();
      const { base: from, tail: history } = read;
      const version = (history.at(-1)?.version as number | undefined) ?? from;
      const event = eventFor(aggregateId, version + 1, command, FLOOR_AGGREGATE_TYPE);
      const row = applyToRow(this.rows.get(aggregateId), event);
      const items = [
        { Put: this.putEvent(event) },
        ...this.checkPrevious(event),
        ...(this.kind === 'floor-coupled' ? [{ Update: this.updateView(row) }] : []),
      ];
      if (items.length === 1) await this.doc.send(new PutCommand(this.putEvent(event)));
      else await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
      this.rows.set(aggregateId, row);
      const tail = [...history, event as unknown as Record<string, unknown>];
      if (event.version - from >= FLOOR_SNAPSHOT_EVERY) this.heads.delete(aggregateId);
      else this.heads.set(aggregateId, { version: event.version, base: from, tail });
      if (snapshotsTable && event.version - from >= FLOOR_SNAPSHOT_EVERY) {
        await this.recordCommands(tail);
        await this.doc.send(
          new PutCommand({
            TableName: snapshotsTable,
            Item: {
              aggregateId,
              snapshotKey: 'floor',
              version: event.version,
              state: JSON.stringify(row),
            },
            ConditionExpression: 'attribute_not_exists(version) OR version < :v',
            ExpressionAttributeValues: { ':v': event.version },
          }),
        );
      }
      if (this.kind === 'floor-coupled') {
        if (this.tables.subscriptionsTable) {
          // The push from the writer: the row's live subscribers (here none), read consistently.
          await this.doc.send(
            new QueryCommand({
              TableName: this.tables.subscriptionsTable,
              ConsistentRead: true,
              KeyConditionExpression: '#t = :t',
              FilterExpression: '#e > :now',
              ExpressionAttributeNames: {
                '#t': SUBSCRIPTIONS_TABLE.partitionKey.name,
                '#e': SUBSCRIPTION_TTL_ATTRIBUTE,
              },
              ExpressionAttributeValues: {
                ':t': topicOf(this.view, aggregateId),
                ':now': Math.floor(Date.now() / 1000),
              },
            }),
          );
        }
        const ms = performance.now() - started;
        return {
          ok: true,
          status: 200,
          version: event.version,
          ackMs: ms,
          visibleMs: ms,
          retries: 0,
        };
      }
      const ackMs = performance.now() - started;
      if (!options.visible)
        return { ok: true, status: 200, version: event.version, ackMs, retries: 0 };
      // The projector: read the item, fold, store it if nobody else did meanwhile.
      const key = storedKey(this.view, aggregateId);
      const { Item: current } = await this.doc.send(
        new GetCommand({
          TableName: this.tables.projectionsTable,
          Key: { key },
          ConsistentRead: true,
        }),
      );
      const previous = current as FloorItem | undefined;
      const view = applyToRow(previous?.view, event);
      await this.doc.send(
        new PutCommand({
          TableName: this.tables.projectionsTable,
          Item: {
            key,
            view,
            applied: { ...previous?.applied, [aggregateId]: event.version },
            rev: (previous?.rev ?? 0) + 1,
            ...this.listAttributes(view),
          },
          ...(previous === undefined
            ? {
                ConditionExpression: 'attribute_not_exists(#k)',
                ExpressionAttributeNames: { '#k': 'key' },
              }
            : {
                ConditionExpression: '#r = :previous',
                ExpressionAttributeNames: { '#r': 'rev' },
                ExpressionAttributeValues: { ':previous': previous.rev },
              }),
        }),
      );
      // The query: read the item (its `applied[id]` is the version it answers with).
      await this.doc.send(
        new GetCommand({
          TableName: this.tables.projectionsTable,
          Key: { key },
          ConsistentRead: true,
        }),
      );
      const visibleMs = performance.now() - started;
      return { ok: true, status: 200, version: event.version, ackMs, visibleMs, retries: 0 };
    } catch (error) {
      return {
        ok: false,
        status: 0,
        code: (error as Error).name,
        ackMs: performance.now() - started,
        retries: 0,
      };
    }
  }

  async prepare(aggregateId: string, length: number): Promise<void> {
    const events = historyEvents(aggregateId, length, FLOOR_AGGREGATE_TYPE);
    await batchPut(
      this.doc,
      this.tables.eventTable,
      events as unknown as Record<string, unknown>[],
    );
    let row: FloorRow | undefined;
    for (const event of events) row = applyToRow(row, event);
    if (row) {
      const item = {
        key: storedKey(this.view, aggregateId),
        view: row,
        applied: { [aggregateId]: row.version },
        rev: 1,
        ...this.listAttributes(row),
      };
      await this.doc.send(new PutCommand({ TableName: this.tables.projectionsTable, Item: item }));
      this.rows.set(aggregateId, row);
    }
  }
}
