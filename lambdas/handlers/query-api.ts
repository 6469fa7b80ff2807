/**
 * The GET routes, shared by both profiles: one order (optionally waiting for a version), a
 * list through an index, the audit log, and time travel (state at a version or a moment).
 */
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { decodeVersionCursor } from '../core/cursor';
import { AppError, NotFoundError } from '../core/errors';
import type { EventStore } from '../core/event-store';
import type { StoredEvent } from '../core/events';
import { isTombstone, projectEvents } from '../core/projection';
import type { DynamoDbReadModel } from '../core/dynamodb-read-model';
import type { ProjectionRowStore } from '../core/dynamodb-projection-rows';
import type { RebuildStatus } from '../core/rebuild-state';
import { type AnyRowProjection, itemKeys, mergeItems, storageName } from '../core/row-projection';
import type { OrderView } from '../domain/order';
import { AGGREGATE_VIEW } from './deployment';
import { AGGREGATE_ID, type HttpEdgeDependencies, withHttpEdge } from './command-api';
import { type HttpEvent, type HttpResult, json, parseWith } from './http';
import type { RouteKey } from './routes';

export interface QueryApiDependencies extends HttpEdgeDependencies {
  readonly rows: DynamoDbReadModel<OrderView>;
  readonly events: EventStore;
  /** Longest wait for `?minVersion` before answering NOT_YET_CONSISTENT. */
  readonly minVersionWaitMs?: number;
  /**
   * True where the row is written in the same transaction as its events (coupled profile): a
   * row behind `?minVersion` then means the version does not exist, and waiting cannot help.
   */
  readonly rowsWrittenWithEvents?: boolean;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Most rows one `GET /orders` examines (default DEFAULT_MAX_ROWS_EXAMINED). */
  readonly maxRowsExamined?: number;
  /** The declared projections this function serves (`GET /read-models/{name}/{key}`). */
  readonly readModels?: {
    readonly projections: readonly AnyRowProjection[];
    readonly rows: ProjectionRowStore;
    /** Builds as of a past moment (`?asOf=`): the status of `<name>@v<N>@<until>`'s rebuild. */
    readonly builds?: { status(build: string): Promise<RebuildStatus | 'none'> };
  };
}

export const DEFAULT_MIN_VERSION_WAIT_MS = 5_000;
/**
 * Pause between the consistent reads of a `?minVersion` wait. Constant and short, so the answer
 * follows within about this long once the projector has written the row. It is paid only while
 * the version is known to exist in the event log and the row lags (a few reads per projection).
 */
export const MIN_VERSION_POLL_MS = 10;
/**
 * Kept free of the function's remaining time when it bounds a `?minVersion` wait: time to
 * answer NOT_YET_CONSISTENT ourselves rather than be cut off by the Lambda timeout (API Gateway
 * would answer a bare 500/503 with no Retry-After).
 */
export const MIN_VERSION_MARGIN_MS = 500;

/** The longest `?minVersion` wait: the configured cap, or the remaining time less the margin. */
export const minVersionWaitLimit = (capMs: number, context?: Context): number =>
  Math.max(
    0,
    context ? Math.min(capMs, context.getRemainingTimeInMillis() - MIN_VERSION_MARGIN_MS) : capMs,
  );

const intParam = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const orderId = z.object({
  id: z.string().regex(AGGREGATE_ID, 'must be 1-64 characters of A-Z, a-z, 0-9, _ or -'),
});

const getOrderQuery = z.strictObject({
  minVersion: intParam(1, Number.MAX_SAFE_INTEGER).optional(),
});
const listQuery = z
  .strictObject({
    status: z.enum(['draft', 'submitted', 'cancelled']).optional(),
    customerId: z.string().min(1).max(128).optional(),
    limit: intParam(1, 100).optional(),
    // Checked against the list queried, as INVALID_CURSOR (core/cursor.ts).
    cursor: z.string().optional(),
  })
  .refine((q) => q.status !== undefined || q.customerId !== undefined, {
    message: 'give status or customerId (lists are served by an index, never a scan)',
  });
const eventsQuery = z.strictObject({
  limit: intParam(1, 1000).optional(),
  // A version number up to 2^53-1, checked as INVALID_CURSOR (core/cursor.ts).
  cursor: z.string().optional(),
});
/**
 * `?at=` as an ISO time. A `+` of an offset sent unencoded arrives as a space (query strings
 * decode `+` to a space, in API Gateway too): `T10:00:00 02:00` is read as `+02:00`.
 */
const isoAt = z
  .string()
  .transform((at) => at.replace(/^(\S+T[\d:.]+) (\d{2}(:?\d{2})?)$/, '$1+$2'))
  .pipe(
    z.iso.datetime({
      offset: true,
      error: 'must be an ISO-8601 date-time with Z or an offset (send + as %2B)',
    }),
  );
const historyQuery = z
  .strictObject({
    version: intParam(1, Number.MAX_SAFE_INTEGER).optional(),
    at: isoAt.optional(),
  })
  .refine((q) => (q.version === undefined) !== (q.at === undefined), {
    message: 'give exactly one of version or at',
  });

/** An index the declaration of the order row lists (a missing one is a deployment bug). */
const indexNamed = (name: 'byStatus' | 'byCustomer') => {
  const index = AGGREGATE_VIEW.indexes.find((i) => i.indexName === name);
  if (!index) throw new Error(`The ${AGGREGATE_VIEW.name} projection declares no index ${name}`);
  return index;
};

const readModelPath = z.object({ name: z.string().regex(/^[a-z0-9-]{1,64}$/), key: z.string() });
const readModelQuery = z.strictObject({ asOf: isoAt.optional() });

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const createQueryRoutes = (deps: QueryApiDependencies) => {
  const waitLimit = deps.minVersionWaitMs ?? DEFAULT_MIN_VERSION_WAIT_MS;
  const sleep = deps.sleep ?? defaultSleep;
  const query = (event: HttpEvent) => event.queryStringParameters ?? {};
  const idOf = (event: HttpEvent) => parseWith(orderId, event.pathParameters ?? {}, 'path').id;

  /**
   * 404 for an id whose log belongs to another aggregate (its first event names the type): the
   * order routes never serve, wait for or fold another aggregate's events.
   */
  const assertOrderLog = (id: string, first: StoredEvent | undefined) => {
    if (first && first.aggregateType !== AGGREGATE_VIEW.aggregateType) {
      throw new NotFoundError(`Order ${id} not found: it is a ${first.aggregateType}`, {
        id,
        aggregateType: first.aggregateType,
      });
    }
  };

  /**
   * The version `?minVersion` may wait for: the event log's latest (one consistent Query with
   * Limit 1), or the row's own in the coupled profile. 404 when the order has no events at all,
   * or the id is another aggregate's: checked (one more Query, side by side) only while no row
   * exists, since the order table holds orders only.
   */
  const latestVersionFor = async (id: string, rowVersion: number): Promise<number> => {
    if (rowVersion > 0) {
      return deps.rowsWrittenWithEvents ? rowVersion : deps.events.currentVersion(id);
    }
    const [latest, [first]] = await Promise.all([
      deps.rowsWrittenWithEvents ? 0 : deps.events.currentVersion(id),
      deps.events.load(id, { limit: 1 }),
    ]);
    assertOrderLog(id, first);
    if (latest === 0) throw new NotFoundError(`Order ${id} not found`, { id });
    return latest;
  };

  const getOrder = async (event: HttpEvent, context?: Context): Promise<HttpResult> => {
    const id = idOf(event);
    const { minVersion } = parseWith(getOrderQuery, query(event), 'query');
    let row = await deps.rows.get(id);
    if (minVersion !== undefined && (row?.version ?? 0) < minVersion) {
      // Wait only for a version that exists: never for an unknown order or a future version.
      const latestVersion = await latestVersionFor(id, row?.version ?? 0);
      if (minVersion > latestVersion) {
        throw new NotFoundError(
          `Order ${id} has no version ${minVersion} (latest is ${latestVersion})`,
          { id, minVersion, latestVersion },
        );
      }
      // Bounded wait for read-your-writes in the decoupled profile: the projector is behind.
      // Bounded by the function's remaining time too, so the answer is always ours.
      const limit = minVersionWaitLimit(waitLimit, context);
      const started = Date.now();
      while ((row?.version ?? 0) < minVersion) {
        const waited = Date.now() - started;
        if (waited >= limit) {
          throw new AppError(
            'NOT_YET_CONSISTENT',
            `Order ${id} is at version ${row?.version ?? 0} after ${waited} ms, not yet ${minVersion}`,
            {
              minVersion,
              currentVersion: row?.version ?? 0,
              latestVersion,
              waitedMs: waited,
              waitLimitMs: limit,
            },
          );
        }
        await sleep(Math.min(MIN_VERSION_POLL_MS, limit - waited));
        row = await deps.rows.get(id);
      }
    }
    if (!row || isTombstone(row)) throw new NotFoundError(`Order ${id} not found`, { id });
    return json(200, row);
  };

  const listOrders = async (event: HttpEvent): Promise<HttpResult> => {
    const q = parseWith(listQuery, query(event), 'query');
    const options = {
      limit: q.limit ?? 20,
      cursor: q.cursor,
      maxRowsExamined: deps.maxRowsExamined,
    };
    // Both filters: the customer's partition, filtered on status (a customer has few orders).
    const page =
      q.customerId !== undefined
        ? await deps.rows.queryIndex(indexNamed('byCustomer'), q.customerId, {
            ...options,
            filter: q.status === undefined ? undefined : { name: 'status', value: q.status },
          })
        : await deps.rows.queryIndex(indexNamed('byStatus'), q.status!, options);
    return json(200, page);
  };

  const listEvents = async (event: HttpEvent): Promise<HttpResult> => {
    const id = idOf(event);
    const q = parseWith(eventsQuery, query(event), 'query');
    const limit = q.limit ?? 100;
    const afterVersion = q.cursor === undefined ? 0 : decodeVersionCursor(q.cursor);
    const events = await deps.events.load(id, { afterVersion, limit: limit + 1 });
    if (events.length === 0 && afterVersion === 0)
      throw new NotFoundError(`Order ${id} not found`, { id });
    if (afterVersion === 0) assertOrderLog(id, events[0]);
    const page = events.slice(0, limit);
    return json(200, {
      aggregateId: id,
      events: page,
      nextCursor: events.length > limit ? String(page.at(-1)!.version) : null,
    });
  };

  const history = async (event: HttpEvent): Promise<HttpResult> => {
    const id = idOf(event);
    const q = parseWith(historyQuery, query(event), 'query');
    const loaded = await deps.events.load(
      id,
      q.version === undefined ? {} : { toVersion: q.version },
    );
    // At a moment: versions 1..k, k the last version stamped at or before `at`. A prefix by
    // version, never a filter: clocks of different instances may stamp out of order, and a
    // filtered subset would be a state the order never had.
    let events = loaded;
    if (q.at !== undefined) {
      const at = new Date(q.at).getTime();
      let k = loaded.length;
      while (k > 0 && new Date(loaded[k - 1]!.occurredAt).getTime() > at) k--;
      events = loaded.slice(0, k);
    }
    assertOrderLog(id, loaded[0]);
    const last = events.at(-1);
    if (!last) {
      throw new NotFoundError(
        q.at === undefined ? `Order ${id} not found` : `Order ${id} did not exist at ${q.at}`,
        { id },
      );
    }
    if (q.version !== undefined && last.version < q.version) {
      throw new NotFoundError(
        `Order ${id} has no version ${q.version} (latest is ${last.version})`,
        {
          id,
          latestVersion: last.version,
        },
      );
    }
    // Foreign events (another aggregate type in this partition) count as versions: the state's
    // version is always the log's.
    const order = projectEvents(AGGREGATE_VIEW, events);
    return json(200, { version: last.version, ...(q.at !== undefined && { at: q.at }), order });
  };

  const readModelRow = async (event: HttpEvent): Promise<HttpResult> => {
    const { name, key } = parseWith(readModelPath, event.pathParameters ?? {}, 'path');
    const projection = deps.readModels?.projections.find((p) => p.name === name);
    if (!projection || !deps.readModels) {
      throw new NotFoundError(`No read model ${name} here`, {
        name,
        readModels: deps.readModels?.projections.map((p) => p.name) ?? [],
      });
    }
    parseWith(z.object({ key: z.string().regex(projection.keyPattern) }), { key }, 'path');
    // A sharded row is the merge of its items (one BatchGetItem); unsharded: one GetItem.
    const readRow = async (storage: string) => {
      const keys = itemKeys(projection, key, storage);
      const { rows } = deps.readModels!;
      const items =
        keys.length === 1
          ? [await rows.get(keys[0]!)].filter((item) => item !== undefined)
          : ((await rows.getMany?.(keys)) ??
            (await Promise.all(keys.map((k) => rows.get(k)))).filter((item) => item !== undefined));
      return mergeItems(
        projection,
        items.map((item) => item.view),
      );
    };
    const { asOf } = parseWith(readModelQuery, query(event), 'query');
    if (asOf !== undefined) {
      // Time travel: a build of the served version as of that moment (npm run rebuild --until).
      const until = new Date(asOf).toISOString();
      const build = `${storageName(projection)}@${until}`;
      const status = (await deps.readModels.builds?.status(build)) ?? 'none';
      if (status !== 'complete') {
        const command = `npm run rebuild -- ${name} --version ${projection.version} --until ${until}`;
        const why = {
          none: `No complete build of ${name} v${projection.version} as of ${until} (build it with: ${command})`,
          running: `The build of ${name} v${projection.version} as of ${until} is still running (not served until complete; ${command} resumes it)`,
          failed: `The build of ${name} v${projection.version} as of ${until} failed: some events could not be applied, so it is not served (fix the cause, then run ${command} again: a failed build starts over)`,
        }[status];
        throw new NotFoundError(why, {
          name,
          version: projection.version,
          asOf: until,
          build: status,
        });
      }
      const view = await readRow(build);
      if (view === undefined) {
        throw new NotFoundError(`${name} had no row ${key} at ${until}`, { name, key });
      }
      return json(200, {
        readModel: name,
        version: projection.version,
        asOf: until,
        key,
        row: view,
      });
    }
    const view = await readRow(storageName(projection));
    if (view === undefined) throw new NotFoundError(`${name} has no row ${key}`, { name, key });
    return json(200, { readModel: name, version: projection.version, key, row: view });
  };

  const routes: Record<
    Exclude<RouteKey, 'POST /commands'>,
    (event: HttpEvent, context?: Context) => Promise<HttpResult>
  > = {
    'GET /orders': listOrders,
    'GET /orders/{id}': getOrder,
    'GET /orders/{id}/events': listEvents,
    'GET /orders/{id}/history': history,
    'GET /read-models/{name}/{key}': readModelRow,
  };
  return routes;
};

export const dispatch = (
  routes: Partial<Record<RouteKey, (event: HttpEvent, context?: Context) => Promise<HttpResult>>>,
  event: HttpEvent,
  context?: Context,
): Promise<HttpResult> => {
  const route = routes[event.routeKey as RouteKey];
  if (!route) throw new AppError('ROUTE_NOT_FOUND', `No route ${event.routeKey}`);
  return route(event, context);
};

export const createQueryApiHandler = (deps: QueryApiDependencies) => {
  const routes = createQueryRoutes(deps);
  return withHttpEdge(deps, (event, _correlationId, _log, context) =>
    dispatch(routes, event, context),
  );
};
