/**
 * The GET routes, shared by both profiles, for every collection of the deployment: one
 * aggregate's view (optionally waiting for a version), a page of a declared list (through an
 * index), the audit log, and time travel (state at a version or a moment); and one row of any
 * declared read model.
 */
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { foldOwnEvents } from '../core/command/aggregate';
import type { CollectionDeclaration } from '../core/projections/collections';
import { decodeVersionCursor } from '../core/projections/cursor';
import { AppError, NotFoundError } from '../core/shared/errors';
import type { EventStore } from '../core/events/event-store';
import { isOwnEvent, type StoredEvent } from '../core/events/events';
import type { RebuildStatus } from '../core/repair/rebuild-state';
import {
  type AnyRowProjection,
  itemKeys,
  mergeItems,
  type ProjectionRowStore,
  storageName,
} from '../core/projections/row-projection';
import { COLLECTIONS } from './deployment';
import { ForbiddenError, isAdmin, mayRead } from '../core/identity/authorization';
import type { Principal } from '../core/identity/principal';
import { AGGREGATE_ID, type HttpEdgeDependencies, principalOf, withHttpEdge } from './http-edge';
import { type HttpEvent, type HttpResult, json, parseWith } from './http';
import type { RouteKey } from './routes';
import type { AnyProcessManager } from '../core/workflows/process-manager';
import {
  journalAsOf,
  type ProcessRecord,
  processRecordKey,
} from '../core/workflows/process-runner';
import { PAGE_PARAMS, type RowList } from '../core/projections/row-lists';

export interface QueryApiDependencies extends HttpEdgeDependencies {
  readonly events: EventStore;
  /** Longest wait for `?minVersion` before answering NOT_YET_CONSISTENT. */
  readonly minVersionWaitMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Most rows one list page examines (default DEFAULT_MAX_ROWS_EXAMINED, ../core/projections/dynamodb-list-query.ts). */
  readonly maxRowsExamined?: number;
  /** The declared projections this function serves (`GET /read-models/{name}/{key}`). */
  readonly readModels?: {
    readonly projections: readonly AnyRowProjection[];
    readonly rows: ProjectionRowStore;
    /** Builds as of a past moment (`?asOf=`): the status of `<name>@v<N>@<until>`'s rebuild. */
    readonly builds?: { status(build: string): Promise<RebuildStatus | 'none'> };
  };
  /** The process managers whose processes `GET /processes/{name}/{key}` serves, and their records. */
  readonly processes?: {
    readonly managers: readonly AnyProcessManager[];
    readonly rows: ProjectionRowStore;
  };
  /**
   * The collections `GET /{collection}/{id}...` serves (default: the deployment's COLLECTIONS);
   * each view is read from `readModels`, in its served version.
   */
  readonly collections?: readonly CollectionDeclaration[];
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

const aggregateIdPath = z.object({
  id: z.string().regex(AGGREGATE_ID, 'must be 1-64 characters of A-Z, a-z, 0-9, _ or -'),
});
const collectionPath = z.object({ collection: z.string() });

const getOneQuery = z.strictObject({
  minVersion: intParam(1, Number.MAX_SAFE_INTEGER).optional(),
});
const eventsQuery = z.strictObject({
  limit: intParam(1, 1000).optional(),
  // A version number up to 2^53-1, checked as INVALID_CURSOR (core/projections/cursor.ts).
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

type ListQuery = Readonly<Record<string, string | number | undefined>>;

/** The list a query names: its parameter is given, and its filters take every other one. */
const listTaking = (lists: readonly RowList[], q: ListQuery) => {
  const given = Object.keys(q).filter(
    (name) => !(PAGE_PARAMS as readonly string[]).includes(name) && q[name] !== undefined,
  );
  const list = lists.find(
    (l) => given.includes(l.param) && given.every((g) => g === l.param || g in (l.filters ?? {})),
  );
  return list && { list, filter: given.find((g) => g !== list.param) };
};

/**
 * The query of a collection's list route: each list's parameter and filters (checked against
 * their patterns), `limit` and `cursor`, and exactly one list that takes every parameter given.
 * Built once per declaration (`listQueryOf`), not per request.
 */
const buildListQuery = (lists: readonly RowList[]) => {
  const patterns: Record<string, RegExp> = {};
  for (const list of lists) {
    for (const [name, pattern] of Object.entries(list.filters ?? {})) patterns[name] = pattern;
  }
  for (const list of lists) patterns[list.param] = list.pattern;
  const describe = lists
    .map((l) => [l.param, ...Object.keys(l.filters ?? {}).map((f) => `&${f}`)].join(''))
    .join(', ');
  return z
    .strictObject({
      ...Object.fromEntries(
        Object.entries(patterns).map(([name, pattern]) => [
          name,
          z.string().regex(pattern, `must match ${pattern}`).optional(),
        ]),
      ),
      limit: intParam(1, 100).optional(),
      // Checked against the list queried, as INVALID_CURSOR (core/projections/cursor.ts).
      cursor: z.string().optional(),
    })
    .refine((q) => listTaking(lists, q) !== undefined, {
      message: `give one list's parameter, and only its filters besides (lists: ${describe}); lists are served by an index, never a scan`,
    }) as z.ZodType<ListQuery>;
};

const listQueries = new WeakMap<readonly RowList[], z.ZodType<ListQuery>>();
const listQueryOf = (lists: readonly RowList[]) => {
  let schema = listQueries.get(lists);
  if (!schema) listQueries.set(lists, (schema = buildListQuery(lists)));
  return schema;
};

const readModelPath = z.object({ name: z.string().regex(/^[a-z0-9-]{1,64}$/), key: z.string() });
const readModelQuery = z.strictObject({ asOf: isoAt.optional() });

/** Whose log a route reads: 404s name the type (`order o-1 not found`, `shoppingList l-1 ...`). */
interface LogOwner {
  readonly aggregateType: string;
  readonly label: string;
  /** An event the aggregate's view applies (its own type, one of the view's event types). */
  readonly handles: (event: StoredEvent) => boolean;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const createQueryRoutes = (deps: QueryApiDependencies) => {
  const waitLimit = deps.minVersionWaitMs ?? DEFAULT_MIN_VERSION_WAIT_MS;
  const sleep = deps.sleep ?? defaultSleep;
  const query = (event: HttpEvent) => event.queryStringParameters ?? {};
  const idOf = (event: HttpEvent) =>
    parseWith(aggregateIdPath, event.pathParameters ?? {}, 'path').id;
  const collections = deps.collections ?? COLLECTIONS;

  /**
   * 404 for an id whose log belongs to another aggregate (its first event names the type): a
   * route of one aggregate type never serves, waits for or folds another aggregate's events.
   */
  const assertLogOf = (owner: LogOwner, id: string, first: StoredEvent | undefined) => {
    if (first && first.aggregateType !== owner.aggregateType) {
      throw new NotFoundError(`${owner.label} ${id} not found: it is a ${first.aggregateType}`, {
        id,
        aggregateType: first.aggregateType,
      });
    }
  };

  /**
   * The version `?minVersion` may wait for: the event log's latest (one consistent Query with
   * Limit 1; not the row's: a view row skips events it ignores). 404 when the id has no events
   * at all, or is another aggregate's: checked (one more Query, side by side) only while no row
   * exists, since a row of a collection's view (keyed by the aggregate id, fed by that aggregate
   * only) proves the type.
   */
  const latestVersionFor = async (
    owner: LogOwner,
    id: string,
    rowVersion: number,
  ): Promise<number> => {
    if (rowVersion > 0) return deps.events.currentVersion(id);
    const [latest, [first]] = await Promise.all([
      deps.events.currentVersion(id),
      deps.events.load(id, { limit: 1 }),
    ]);
    assertLogOf(owner, id, first);
    if (latest === 0) throw new NotFoundError(`${owner.label} ${id} not found`, { id });
    return latest;
  };

  /**
   * The row of `id` (`read`: the row and the version it has applied), and with `minVersion`
   * the row once it has applied that version: a bounded wait for read-your-writes (the
   * projector is behind), only for a version the log has (404 at once otherwise), bounded by
   * the function's remaining time too, so the answer is always ours (NOT_YET_CONSISTENT).
   */
  const readAtLeast = async <Row>(
    owner: LogOwner,
    id: string,
    minVersion: number | undefined,
    read: () => Promise<{ readonly row: Row | undefined; readonly version: number }>,
    context?: Context,
  ): Promise<Row | undefined> => {
    let current = await read();
    if (minVersion === undefined || current.version >= minVersion) return current.row;
    // Wait only for a version that exists: never for an unknown aggregate or a future version.
    // Side by side, the events up to it: the row's checkpoint moves only with the events its
    // view handles, so a version made by another one (a foreign event, a type the view
    // ignores) is met once the last handled event before it is applied.
    const upTo = () =>
      deps.events.load(id, { afterVersion: current.version, toVersion: minVersion });
    const [latestVersion, first] = await Promise.all([
      latestVersionFor(owner, id, current.version),
      upTo(),
    ]);
    if (minVersion > latestVersion) {
      throw new NotFoundError(
        `${owner.label} ${id} has no version ${minVersion} (latest is ${latestVersion})`,
        { id, minVersion, latestVersion },
      );
    }
    // Read side by side, the events may predate an append the latest version saw: then read them
    // again (they exist now, gapless), or the wait would end before the version asked for.
    const pending = first.length < minVersion - current.version ? await upTo() : first;
    const target = Math.max(
      current.version,
      ...pending.filter(owner.handles).map((event) => event.version),
    );
    const limit = minVersionWaitLimit(waitLimit, context);
    const started = Date.now();
    while (current.version < target) {
      const waited = Date.now() - started;
      if (waited >= limit) {
        throw new AppError(
          'NOT_YET_CONSISTENT',
          `${owner.label} ${id} is at version ${current.version} after ${waited} ms, not yet ${minVersion}`,
          {
            minVersion,
            currentVersion: current.version,
            latestVersion,
            waitedMs: waited,
            waitLimitMs: limit,
          },
        );
      }
      await sleep(Math.min(MIN_VERSION_POLL_MS, limit - waited));
      current = await read();
    }
    return current.row;
  };

  /** A page of the id's events: 404 when it has none or its log is another aggregate's. */
  const eventsOf = async (owner: LogOwner, event: HttpEvent): Promise<HttpResult> => {
    const id = idOf(event);
    const q = parseWith(eventsQuery, query(event), 'query');
    const limit = q.limit ?? 100;
    const afterVersion = q.cursor === undefined ? 0 : decodeVersionCursor(q.cursor);
    const events = await deps.events.load(id, { afterVersion, limit: limit + 1 });
    // An aggregate without events is 404 whatever the cursor: the answer a caller refused the
    // aggregate gets (a 200 empty page would tell the two apart).
    const exists =
      events.length > 0 ||
      (afterVersion > 0 && (await deps.events.load(id, { limit: 1 })).length > 0);
    if (!exists) throw new NotFoundError(`${owner.label} ${id} not found`, { id });
    if (afterVersion === 0) assertLogOf(owner, id, events[0]);
    const page = events.slice(0, limit);
    return json(200, {
      aggregateId: id,
      events: page,
      nextCursor: events.length > limit ? String(page.at(-1)!.version) : null,
    });
  };

  /**
   * The events `/history` folds: versions 1..N (`?version=N`), or 1..k with k the last version
   * stamped at or before `?at=`. A prefix by version, never a filter: clocks of different
   * instances may stamp out of order, and a filtered subset would be a state the aggregate
   * never had. 404 when empty, when version N does not exist, or the log is another aggregate's.
   */
  const historyOf = async (owner: LogOwner, event: HttpEvent) => {
    const id = idOf(event);
    const q = parseWith(historyQuery, query(event), 'query');
    const loaded = await deps.events.load(
      id,
      q.version === undefined ? {} : { toVersion: q.version },
    );
    let events = loaded;
    if (q.at !== undefined) {
      const at = new Date(q.at).getTime();
      let k = loaded.length;
      while (k > 0 && new Date(loaded[k - 1]!.occurredAt).getTime() > at) k--;
      events = loaded.slice(0, k);
    }
    assertLogOf(owner, id, loaded[0]);
    const last = events.at(-1);
    if (!last) {
      throw new NotFoundError(
        q.at === undefined
          ? `${owner.label} ${id} not found`
          : `${owner.label} ${id} did not exist at ${q.at}`,
        { id },
      );
    }
    if (q.version !== undefined && last.version < q.version) {
      throw new NotFoundError(
        `${owner.label} ${id} has no version ${q.version} (latest is ${last.version})`,
        { id, latestVersion: last.version },
      );
    }
    return { events, version: last.version, ...(q.at !== undefined && { at: q.at }) };
  };

  /**
   * One row of a declared projection as stored under `storage`: the merge of its items (one
   * BatchGetItem when sharded, else one GetItem), and the version of `aggregateId` it has
   * applied (its checkpoint: an aggregate feeds one item).
   */
  const readProjectionRow = async (projection: AnyRowProjection, key: string, storage: string) => {
    const keys = itemKeys(projection, key, storage);
    const { rows } = deps.readModels!;
    const items =
      keys.length === 1
        ? [await rows.get(keys[0]!)].filter((item) => item !== undefined)
        : ((await rows.getMany?.(keys)) ??
          (await Promise.all(keys.map((k) => rows.get(k)))).filter((item) => item !== undefined));
    return {
      view: mergeItems(
        projection,
        items.map((item) => item.view),
      ),
      versionOf: (aggregateId: string) =>
        Math.max(0, ...items.map((item) => item.applied[aggregateId] ?? 0)),
    };
  };

  const readModelRow = async (event: HttpEvent): Promise<HttpResult> => {
    const principal = principalOf(event);
    const { name, key } = parseWith(readModelPath, event.pathParameters ?? {}, 'path');
    const projection = deps.readModels?.projections.find((p) => p.name === name);
    if (!projection || !deps.readModels) {
      throw new NotFoundError(`No read model ${name} here`, {
        name,
        readModels: deps.readModels?.projections.map((p) => p.name) ?? [],
      });
    }
    parseWith(z.object({ key: z.string().regex(projection.keyPattern) }), { key }, 'path');
    const readRow = async (storage: string) =>
      (await readProjectionRow(projection, key, storage)).view;
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
      if (view === undefined || !mayRead(projection.canRead, principal, view)) {
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
    // A row the caller may not read is answered as a missing one: existence is not revealed.
    if (view === undefined || !mayRead(projection.canRead, principal, view)) {
      throw new NotFoundError(`${name} has no row ${key}`, { name, key });
    }
    return json(200, { readModel: name, version: projection.version, key, row: view });
  };

  /**
   * A process: its state, the steps still to send (after a failure) and its journal; with
   * `?asOf=`, its state after the last step at or before that moment (from the journal, which
   * keeps its last JOURNAL_LENGTH steps).
   */
  const processRecord = async (event: HttpEvent): Promise<HttpResult> => {
    const principal = principalOf(event);
    const { name, key } = parseWith(readModelPath, event.pathParameters ?? {}, 'path');
    // The newest version of a name: a process manager's versions run side by side.
    const manager = [...(deps.processes?.managers ?? [])]
      .filter((m) => m.name === name)
      .sort((a, b) => b.version - a.version)[0];
    if (!manager || !deps.processes) {
      throw new NotFoundError(`No process manager ${name} here`, {
        name,
        processManagers: [...new Set(deps.processes?.managers.map((m) => m.name) ?? [])],
      });
    }
    parseWith(z.object({ key: z.string().regex(manager.keyPattern) }), { key }, 'path');
    const { asOf } = parseWith(readModelQuery, query(event), 'query');
    const stored = await deps.processes.rows.get(processRecordKey(manager, key));
    const record = stored?.view as ProcessRecord | undefined;
    // A process the caller may not read is answered as a missing one.
    if (!record || !mayRead(manager.canRead, principal, record.state)) {
      throw new NotFoundError(`${name} has no process ${key}`, { name, key });
    }
    const head = { process: name, version: manager.version, key };
    if (asOf !== undefined) {
      const until = new Date(asOf).toISOString();
      const entry = journalAsOf(record, until);
      if (!entry) {
        throw new NotFoundError(
          `${name} process ${key} had no step at ${until} (its journal starts at ${record.journal[0]?.at ?? 'none'})`,
          { name, key, asOf: until },
        );
      }
      return json(200, { ...head, asOf: until, at: entry.at, state: entry.state, step: entry });
    }
    return json(200, {
      ...head,
      state: record.state,
      pending: Object.values(record.pending ?? {}).flatMap((p) =>
        p.send.map(({ type, aggregateId }) => ({ type, aggregateId })),
      ),
      journal: record.journal ?? [],
    });
  };

  /** The collection the path names (404 naming the known ones), with its served view. */
  const collectionOf = (event: HttpEvent) => {
    const { collection } = parseWith(collectionPath, event.pathParameters ?? {}, 'path');
    const declared = collections.find((c) => c.collection === collection);
    if (!declared) {
      throw new NotFoundError(`No collection ${collection} here`, {
        collection,
        collections: collections.map((c) => c.collection),
      });
    }
    // The version `GET /read-models` serves (SERVED_PROJECTION_VERSIONS): one per name.
    const view = deps.readModels?.projections.find((p) => p.name === declared.view.name);
    if (!view) {
      throw new NotFoundError(`No read model ${declared.view.name} here`, {
        collection,
        readModel: declared.view.name,
      });
    }
    const owner: LogOwner = {
      aggregateType: declared.aggregate.type,
      label: declared.aggregate.type,
      handles: (e: StoredEvent) =>
        isOwnEvent(declared.aggregate.type, e) && view.eventTypes.includes(e.type),
    };
    return { ...declared, view, owner };
  };

  const getInCollection = async (event: HttpEvent, context?: Context): Promise<HttpResult> => {
    const principal = principalOf(event);
    const { view, owner, isDeleted } = collectionOf(event);
    const id = idOf(event);
    const { minVersion } = parseWith(getOneQuery, query(event), 'query');
    const row = await readAtLeast(
      owner,
      id,
      minVersion,
      async () => {
        const { view: row, versionOf } = await readProjectionRow(view, id, storageName(view));
        // Refused at the first read that shows a row, before any wait: as for a missing one.
        if (row !== undefined && !mayRead(view.canRead, principal, row)) {
          throw new NotFoundError(`${owner.label} ${id} not found`, { id });
        }
        return { row: row as unknown, version: versionOf(id) };
      },
      context,
    );
    if (row === undefined || isDeleted?.(row)) {
      throw new NotFoundError(`${owner.label} ${id} not found`, { id });
    }
    return json(200, row);
  };

  /**
   * A page of one of the collection's declared lists (`?<param>=<value>`, optionally filtered):
   * the list whose parameter is given and whose filters take every other parameter given.
   */
  const listInCollection = async (event: HttpEvent): Promise<HttpResult> => {
    const { collection, view, isDeleted } = collectionOf(event);
    const lists = view.lists ?? [];
    const rows = deps.readModels?.rows;
    if (lists.length === 0 || !rows?.listPage) {
      throw new NotFoundError(`Collection ${collection} declares no list`, { collection });
    }
    const principal = principalOf(event);
    const q = parseWith(listQueryOf(lists), query(event), 'query');
    const { list, filter } = listTaking(lists, q)!;
    const value = String(q[list.param]);
    if (!mayRead(list.mayList, principal, value)) {
      throw new ForbiddenError(
        'LIST_NOT_ALLOWED',
        `You may not list ${collection} by ${list.param}=${value}`,
        { collection, param: list.param },
      );
    }
    const page = await rows.listPage(view, list.param, value, {
      limit: (q.limit as number | undefined) ?? 20,
      cursor: q.cursor as string | undefined,
      maxRowsExamined: deps.maxRowsExamined,
      ...(filter !== undefined && { filter: { name: filter, value: String(q[filter]) } }),
    });
    return json(200, {
      ...page,
      items: page.items.filter((row) => !isDeleted?.(row) && mayRead(view.canRead, principal, row)),
    });
  };

  /**
   * 404 unless the caller may read the aggregate now: its view row's read rule, or (no row yet,
   * the projector behind) the aggregate's own rule on its state folded from the log.
   */
  const assertMayReadAggregate = async (
    declared: ReturnType<typeof collectionOf>,
    id: string,
    principal: Principal,
  ) => {
    if (isAdmin(principal)) return;
    const { view } = await readProjectionRow(declared.view, id, storageName(declared.view));
    const allowed =
      view !== undefined
        ? mayRead(declared.view.canRead, principal, view)
        : declared.aggregate.canRead(
            principal,
            foldOwnEvents(declared.aggregate, await deps.events.load(id)),
          );
    if (!allowed) throw new NotFoundError(`${declared.owner.label} ${id} not found`, { id });
  };

  const collectionEvents = async (event: HttpEvent) => {
    const declared = collectionOf(event);
    // The query first: a 400 must not depend on whether the caller may read the aggregate.
    const { cursor } = parseWith(eventsQuery, query(event), 'query');
    if (cursor !== undefined) decodeVersionCursor(cursor);
    await assertMayReadAggregate(declared, idOf(event), principalOf(event));
    return eventsOf(declared.owner, event);
  };

  /**
   * `{ version, at?, actor?, state }`: `state` is the aggregate's own reducer folded over the
   * prefix, `actor` who made its last event (absent for events from before users).
   */
  const collectionHistory = async (event: HttpEvent): Promise<HttpResult> => {
    const declared = collectionOf(event);
    const { aggregate, owner } = declared;
    // The query first: a 400 must not depend on whether the caller may read the aggregate.
    parseWith(historyQuery, query(event), 'query');
    await assertMayReadAggregate(declared, idOf(event), principalOf(event));
    const { events, ...at } = await historyOf(owner, event);
    const actor = events.at(-1)?.actor;
    return json(200, { ...at, ...(actor && { actor }), state: foldOwnEvents(aggregate, events) });
  };

  const routes: Record<
    Exclude<RouteKey, 'POST /commands'>,
    (event: HttpEvent, context?: Context) => Promise<HttpResult>
  > = {
    'GET /read-models/{name}/{key}': readModelRow,
    'GET /processes/{name}/{key}': processRecord,
    'GET /{collection}': listInCollection,
    'GET /{collection}/{id}': getInCollection,
    'GET /{collection}/{id}/events': collectionEvents,
    'GET /{collection}/{id}/history': collectionHistory,
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
