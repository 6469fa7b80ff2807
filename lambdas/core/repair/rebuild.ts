/**
 * Rebuild of a declared projection (../projections/row-projection.ts) from the event table, never the stream:
 * one parallel-Scan segment at a time, into the storage of one version (`<name>@v<N>`) or of a
 * build as of a past moment (`<name>@v<N>@<until>`), while the served version keeps serving and
 * the live projector keeps updating every listed version.
 *
 * - **Aggregates split across Scan pages.** A Scan returns an aggregate's items together and in
 *   version order (one partition key, sorted by the sort key), but a page may end inside one.
 *   The last aggregate of a page is held back and completed from the next page; only whole
 *   aggregates are folded.
 * - **Resumable.** Whole aggregates are folded in memory, across pages, into chunks of at most
 *   CHECKPOINT_ROWS rows or CHECKPOINT_EVENTS events; after each chunk's rows are written, the
 *   segment's progress (./rebuild-state.ts) records the key of the last event of its last
 *   aggregate: a rerun resumes its Scan right after it (ExclusiveStartKey), so the held-back
 *   aggregate is read again.
 * - **A row written once per chunk** (docs/decisions/rebuild-rows-batched.md): all its events of
 *   the chunk in one conditional write; rows read with consistent BatchGetItems just before they
 *   are written, or not read at all when the writer wrote them last; one writer for the segments
 *   of one process, so a row they all touch is written once between them.
 * - **Exactly-once on rows**: the live projector's mechanism, per-row checkpoints (`applied`:
 *   aggregate -> last version applied) and a conditional write on `rev`. A page replayed after a
 *   crash, a rebuild racing the live projector on the same rows, or two rebuilds at once apply no
 *   event twice, and the rows equal `foldRows` of the log.
 */
import type { EventScan, ScannedEvent } from '../events/event-store';
import { CorruptEventError } from '../shared/errors';
import { isOwnEvent, type StoredEvent, toAction } from '../events/events';
import {
  applyPendingToRow,
  knownRows,
  type Pending,
  primedRows,
} from '../projections/row-projector';
import {
  type EventKey,
  type RebuildHeader,
  type RebuildStateStore,
  headerKey,
  type SegmentProgress,
  segmentKey,
  statusOf,
} from './rebuild-state';
import {
  advanceSource,
  type AnyRowProjection,
  itemKey,
  type ProjectionRowStore,
  storageName,
} from '../projections/row-projection';

export interface RebuildTarget {
  readonly projection: AnyRowProjection;
  /** Canonical ISO time (`toISOString()`): build the rows as of this moment. */
  readonly until?: string;
}

/** The storage a rebuild writes: `<name>@v<N>`, or `<name>@v<N>@<until>` for a past moment. */
export const buildName = (target: RebuildTarget) =>
  target.until === undefined
    ? storageName(target.projection)
    : `${storageName(target.projection)}@${target.until}`;

/** An ISO time in the one spelling build names use, or undefined when it is not one. */
export const canonicalTime = (iso: string): string | undefined => {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(iso)) {
    return undefined;
  }
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
};

/**
 * How far in the past a build's `until` must be when the build starts. A command stamps its
 * events (`occurredAt`, the function's clock) before it writes them, so an event stamped at or
 * before `until` can land after the Scan passed its aggregate, and a build as of a moment is
 * never updated afterwards: it would miss that event for good. The write is bounded by the life
 * of the function that appends (command and coupled functions: 10 s timeout, AppFunction's
 * default; the command deadline, 5 s, abandons a write that may still land until then). The rest
 * of the minute is slack for the clock of the machine that runs the rebuild against the
 * functions' clocks (a workstation with `--aws`) and for requests in flight in DynamoDB.
 * test/infra/rebuild.test.ts checks every function that may append times out well within it.
 */
export const UNTIL_SAFETY_MARGIN_MS = 60_000;

/** Why a build as of `until` cannot start at `nowMs` (pure), or undefined when it can. */
export const untilRefusal = (until: string, nowMs: number): string | undefined => {
  if (Date.parse(until) <= nowMs - UNTIL_SAFETY_MARGIN_MS) return undefined;
  const seconds = UNTIL_SAFETY_MARGIN_MS / 1000;
  return `until ${until} is not at least ${seconds} s in the past (now ${new Date(nowMs).toISOString()}): events stamped before it may still be being written, and a build as of a moment is never updated; pick a moment at least ${seconds} s ago`;
};

/**
 * The part of an aggregate's log a build as of `until` folds: versions 1..k, k the last one
 * stamped at or before `until` (a prefix by version, as `/history?at=` takes).
 */
export const logUntil = (log: readonly StoredEvent[], until: string | undefined) => {
  if (until === undefined) return log;
  const at = Date.parse(until);
  let k = log.length;
  while (k > 0 && Date.parse(log[k - 1]!.occurredAt) > at) k--;
  return log.slice(0, k);
};

/**
 * Routes one whole log's events into `byRow` (stored row key -> pending events, each aggregate's
 * in version order).
 */
const routeLog = (
  target: RebuildTarget,
  log: readonly StoredEvent[],
  byRow: Map<string, Pending[]>,
) => {
  const { projection } = target;
  const build = buildName(target);
  let state: unknown = projection.source.initialState;
  for (const event of log) {
    // Foreign events (not the source's own) count as versions only.
    if (!isOwnEvent(projection.source.type, event)) continue;
    const action = toAction(event);
    if (projection.eventTypes.includes(event.type)) {
      const rowKey = projection.rowKey(action, state);
      if (rowKey !== undefined) {
        const key = itemKey(projection, rowKey, event.aggregateId, build);
        const pending = byRow.get(key) ?? [];
        pending.push({
          aggregateId: event.aggregateId,
          version: event.version,
          action,
          before: state,
        });
        byRow.set(key, pending);
      }
    }
    state = advanceSource(projection, state, action);
  }
};

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export interface RebuildDependencies {
  /** The event table's parallel scan (DynamoDbEventScan): items decoded one by one. */
  readonly scan: EventScan;
  readonly rows: ProjectionRowStore;
  readonly state: RebuildStateStore;
}

/**
 * Distinct rows written between two checkpoints, at most (default of `checkpointRows`): the
 * writes a killed rebuild redoes per segment and how often its progress moves (well under a
 * second of conditional writes per segment on DynamoDB Local). A row gets one write per chunk
 * whatever the number of its events in it, so the bound is on rows, not events
 * (docs/decisions/rebuild-rows-batched.md).
 */
export const CHECKPOINT_ROWS = 250;

/**
 * Events between two checkpoints, at most (default of `checkpointEvents`), for chunks of few hot
 * rows: the Scan a killed rebuild reads again, and progress at least this often (each
 * checkpoint is one PutItem).
 */
export const CHECKPOINT_EVENTS = 5000;

/**
 * How long to wait before reading on so that `events` read `elapsedMs` after the start stay at
 * or under `perSecond` (pure): a rebuild sharing its table with live traffic paces its Scan.
 */
export const paceDelay = (events: number, perSecond: number, elapsedMs: number): number =>
  Math.max(0, (events / perSecond) * 1000 - elapsedMs);

/**
 * A read pace shared by a process's segments (`SegmentOptions.pace`): each call adds a page's
 * events and resolves once the total is back under `perSecond` since the first call.
 */
export const createReadPace = (
  perSecond: number,
  clock: () => number = () => performance.now(),
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
) => {
  let started: number | undefined;
  let events = 0;
  return async (pageEvents: number): Promise<void> => {
    started ??= clock();
    events += pageEvents;
    const wait = paceDelay(events, perSecond, clock() - started);
    if (wait > 0) await sleep(wait);
  };
};

/**
 * Rows a writer remembers as it last wrote or read them, so a later chunk writes them unread:
 * the hot rows of the segments' chunks (a few checkpoints' worth).
 */
const KNOWN_ROWS = 10 * CHECKPOINT_ROWS;

/**
 * Whether a whole aggregate of `events` events, adding `newRows` rows, closes the chunk before
 * it (pure): it would take the chunk past either bound. An empty chunk takes any aggregate, so
 * one larger than the bounds is a chunk of its own, never split.
 */
export const closesChunk = (
  chunk: { readonly rows: number; readonly events: number },
  aggregate: { readonly newRows: number; readonly events: number },
  limits: { readonly rows: number; readonly events: number } = {
    rows: CHECKPOINT_ROWS,
    events: CHECKPOINT_EVENTS,
  },
): boolean =>
  chunk.events > 0 &&
  (chunk.rows + aggregate.newRows > limits.rows || chunk.events + aggregate.events > limits.events);

export interface SegmentOptions {
  /** Items per Scan page (default: DynamoDB's 1 MB pages). */
  readonly pageSize?: number;
  /** Distinct rows written between checkpoints, at aggregate boundaries (default CHECKPOINT_ROWS). */
  readonly checkpointRows?: number;
  /** Events between checkpoints, at aggregate boundaries (default CHECKPOINT_EVENTS). */
  readonly checkpointEvents?: number;
  /**
   * Asked before each page: true writes what is folded so far, checkpoints it and stops the
   * segment there (Lambda's clock).
   */
  readonly shouldStop?: () => boolean;
  /** Called with the events of each checkpointed chunk once its rows are written. */
  readonly onEvents?: (events: number) => void;
  /** Rows written at once (default 16). */
  readonly concurrency?: number;
  /** Called with each page's events before the next page is read: a read rate cap. */
  readonly pace?: (pageEvents: number) => Promise<void>;
}

/** One aggregate's items as scanned, decoded up to the first unreadable one or hole. */
const readableLog = (items: readonly ScannedEvent[]) => {
  const log: StoredEvent[] = [];
  for (const item of items) {
    const { aggregateId, version } = item.key;
    if (version !== log.length + 1) {
      return { log, failure: `${aggregateId}: version ${log.length + 1} is missing` };
    }
    try {
      log.push(item.decode());
    } catch (error) {
      if (!(error instanceof CorruptEventError)) throw error;
      return { log, failure: `${aggregateId} v${version}: unreadable (${error.message})` };
    }
  }
  return { log, failure: undefined };
};

/** A segment's progress before its first page: what a start or a restart stores. */
const freshSegment = (build: string, segment: number, segments: number): SegmentProgress => ({
  key: segmentKey(build, segment),
  build,
  segment,
  segments,
  done: false,
  events: 0,
  aggregates: 0,
  failures: 0,
});

/** Whole aggregates folded since the last checkpoint: their rows' pending events. */
interface Chunk {
  readonly byRow: Map<string, Pending[]>;
  events: number;
  aggregates: number;
  lastKey?: EventKey;
  failures: number;
  firstFailure?: string;
}

const emptyChunk = (): Chunk => ({ byRow: new Map(), events: 0, aggregates: 0, failures: 0 });

/** Rows written at once by one lane of a RowWriter (default of `concurrency`). */
export const ROWS_AT_ONCE = 16;

/** What a segment asked a RowWriter to write to one row; settled once the row is written. */
interface RowRequest {
  readonly pending: readonly Pending[];
  readonly resolve: (failures: string[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Writes rows for the segments of one build, exactly once per event as the live projector does
 * (`applyPendingToRow`: per-aggregate checkpoints, a write conditional on the row's revision).
 * Shared by the segments one process runs (`npm run rebuild`), it turns their writes of one row
 * into one: a row asked for by a segment while another segment's write of it is still waiting
 * takes both segments' events in one write, and a row is never written by two of them at once
 * (no lost race between them). Rows are written in groups of `concurrency`, a group at a time
 * per segment waiting for its rows: the first segment to ask writes as it would alone, and rows
 * it has not reached yet take the events of the segments that ask next. A group's rows this writer does not know are read together (one consistent
 * BatchGetItem) just before they are written, so another writer has little time to change them
 * in between. Rows it wrote or read last are written unread next time: a guess the conditional
 * write checks (knownRows).
 */
export const createRowWriter = (
  rows: ProjectionRowStore,
  target: RebuildTarget,
  options: {
    /** Rows a group. @default ROWS_AT_ONCE */
    readonly concurrency?: number;
    readonly maxAttempts?: number;
  } = {},
) => {
  const { projection } = target;
  const build = buildName(target);
  // Segments waiting for their rows: as many groups are written at once.
  let waiting = 0;
  const groupSize = Math.max(1, options.concurrency ?? ROWS_AT_ONCE);
  const known = knownRows(KNOWN_ROWS);
  // Rows asked for and not started yet, in the order first asked for; rows being written.
  const queued = new Map<string, RowRequest[]>();
  const writing = new Set<string>();
  let running = 0;

  const take = () => {
    const group: [string, RowRequest[]][] = [];
    for (const [key, requests] of queued) {
      if (writing.has(key)) continue;
      queued.delete(key);
      writing.add(key);
      group.push([key, requests]);
      if (group.length === groupSize) break;
    }
    return group;
  };

  const writeGroup = async (group: readonly [string, RowRequest[]][]) => {
    const { first, unread } = known.takeAll(group.map(([key]) => key));
    try {
      if (rows.getMany && unread.length > 0) {
        const found = new Map((await rows.getMany(unread)).map((row) => [row.key, row]));
        for (const key of unread) first.set(key, found.get(key) ?? null);
      }
    } catch (error) {
      for (const [, requests] of group) for (const r of requests) r.reject(error);
      return;
    }
    const primed = primedRows(rows, first, known);
    await Promise.all(
      group.map(async ([key, requests]) => {
        // Per aggregate, the failure of the last attempt (an attempt redone after a race
        // reports again). An aggregate is in one segment, so in one request.
        const failures = new Map<string, string>();
        try {
          await applyPendingToRow(
            primed,
            key,
            projection,
            requests.flatMap((r) => r.pending),
            {
              maxAttempts: options.maxAttempts ?? 20,
              storage: build,
              onReducerError: (p, error) =>
                failures.set(
                  p.aggregateId,
                  `${key}: ${p.aggregateId} v${p.version}: ${message(error)}`,
                ),
            },
          );
        } catch (error) {
          for (const r of requests) r.reject(error);
          return;
        }
        for (const r of requests) {
          const mine = new Set(r.pending.map((p) => p.aggregateId));
          r.resolve([...failures].filter(([id]) => mine.has(id)).map(([, reason]) => reason));
        }
      }),
    );
  };

  const pump = () => {
    while (running < Math.max(1, waiting)) {
      const group = take();
      if (group.length === 0) return;
      running++;
      void writeGroup(group).finally(() => {
        for (const [key] of group) writing.delete(key);
        running--;
        pump();
      });
    }
  };

  return {
    /**
     * Writes each row's pending events (each aggregate's in version order, every aggregate from
     * the caller alone); answers the events its reducer refused, one line per aggregate stopped.
     */
    async write(byRow: ReadonlyMap<string, readonly Pending[]>): Promise<string[]> {
      const settled = [...byRow].map(
        ([key, pending]) =>
          new Promise<string[]>((resolve, reject) => {
            const requests = queued.get(key) ?? [];
            requests.push({ pending, resolve, reject });
            queued.set(key, requests);
          }),
      );
      waiting++;
      pump();
      try {
        return (await Promise.all(settled)).flat();
      } finally {
        waiting--;
      }
    },
  };
};

export type RowWriter = ReturnType<typeof createRowWriter>;

/**
 * The writer of each build per row store: the segments one process runs with one store share it,
 * so `npm run rebuild`'s segments write a row they all touch once, not once each.
 * Dropped when its last segment ends.
 */
const sharedWriters = new WeakMap<
  ProjectionRowStore,
  Map<string, { writer: RowWriter; segments: number }>
>();

/** The shared writer of `target` on `rows` for one more segment, and how to leave it. */
const joinWriter = (rows: ProjectionRowStore, target: RebuildTarget, concurrency?: number) => {
  const build = buildName(target);
  const byBuild =
    sharedWriters.get(rows) ?? new Map<string, { writer: RowWriter; segments: number }>();
  sharedWriters.set(rows, byBuild);
  let entry = byBuild.get(build);
  if (!entry) {
    const created: { writer?: RowWriter; segments: number } = { segments: 0 };
    created.writer = createRowWriter(rows, target, {
      ...(concurrency !== undefined && { concurrency }),
    });
    entry = created as { writer: RowWriter; segments: number };
    byBuild.set(build, entry);
  }
  const joined = entry;
  joined.segments++;
  return {
    writer: joined.writer,
    leave: () => {
      if (--joined.segments === 0 && byBuild.get(build) === joined) byBuild.delete(build);
    },
  };
};

/**
 * Rebuilds one segment of a parallel Scan of the event table, from its saved progress, until it
 * is done or `shouldStop` says so. Returns the segment's progress (`done` or not).
 */
export const rebuildSegment = async (
  deps: RebuildDependencies,
  target: RebuildTarget,
  segment: number,
  segments: number,
  options: SegmentOptions = {},
): Promise<SegmentProgress> => {
  const build = buildName(target);
  const progress: SegmentProgress =
    (await deps.state.getSegment(build, segment)) ?? freshSegment(build, segment, segments);
  if (progress.done) return progress;
  const { writer, leave } = joinWriter(deps.rows, target, options.concurrency);
  try {
    return await scanSegment(deps, target, { segment, segments, progress, writer }, options);
  } finally {
    leave();
  }
};

/** The segment's Scan from `progress` on: whole aggregates folded into chunks, each written. */
const scanSegment = async (
  deps: RebuildDependencies,
  target: RebuildTarget,
  from: {
    readonly segment: number;
    readonly segments: number;
    readonly progress: SegmentProgress;
    readonly writer: RowWriter;
  },
  options: SegmentOptions,
): Promise<SegmentProgress> => {
  const { segment, segments, writer } = from;
  let { progress } = from;
  const limits = {
    rows: options.checkpointRows ?? CHECKPOINT_ROWS,
    events: options.checkpointEvents ?? CHECKPOINT_EVENTS,
  };

  /** Writes a chunk's rows (RowWriter), then its checkpoint. */
  const flush = async (chunk: Chunk, done: boolean) => {
    // Segments with writers of their own (Lambda) meet on hot rows (a busy customer's): in key
    // order, each from its own place in it, so at any moment they mostly write different rows.
    const keys = [...chunk.byRow.keys()].sort();
    const start = Math.floor((keys.length * segment) / segments);
    const ordered = [...keys.slice(start), ...keys.slice(0, start)];
    for (const reason of await writer.write(
      new Map(ordered.map((key) => [key, chunk.byRow.get(key)!])),
    )) {
      chunk.failures++;
      chunk.firstFailure ??= reason;
    }
    progress = {
      ...progress,
      ...(chunk.lastKey && { lastKey: chunk.lastKey }),
      done,
      events: progress.events + chunk.events,
      aggregates: progress.aggregates + chunk.aggregates,
      failures: progress.failures + chunk.failures,
      ...(progress.firstFailure === undefined &&
        chunk.firstFailure && { firstFailure: chunk.firstFailure }),
    };
    await deps.state.putSegment(progress);
    options.onEvents?.(chunk.events);
  };

  let chunk = emptyChunk();
  /** Folds one whole aggregate into the chunk, writing the chunk first when it is full. */
  const add = async (items: readonly ScannedEvent[]) => {
    const { log, failure } = readableLog(items);
    const cut = logUntil(log, target.until);
    const byRow = new Map<string, Pending[]>();
    routeLog(target, cut, byRow);
    let newRows = 0;
    for (const key of byRow.keys()) if (!chunk.byRow.has(key)) newRows++;
    if (
      closesChunk(
        { rows: chunk.byRow.size, events: chunk.events },
        { newRows, events: items.length },
        limits,
      )
    ) {
      await flush(chunk, false);
      chunk = emptyChunk();
    }
    // A failure after the moment of an `--until` build is not part of it.
    if (failure && cut.length === log.length) {
      chunk.failures++;
      chunk.firstFailure ??= failure;
    }
    for (const [key, pending] of byRow) {
      const into = chunk.byRow.get(key);
      if (into) into.push(...pending);
      else chunk.byRow.set(key, pending);
    }
    chunk.events += items.length;
    chunk.aggregates++;
    chunk.lastKey = items.at(-1)!.key;
  };

  const read = (after: EventKey | undefined) => {
    const page = deps.scan.page({
      segment,
      segments,
      ...(after && { after }),
      ...(options.pageSize !== undefined && { limit: options.pageSize }),
    });
    // Read ahead while the previous page's rows are written; a page never used is only a read.
    page.catch(() => undefined);
    return page;
  };
  let nextPage = read(progress.lastKey);
  // The aggregate the previous page ended in: completed by the next page.
  let held: ScannedEvent[] = [];
  for (;;) {
    if (options.shouldStop?.()) {
      if (chunk.aggregates > 0) await flush(chunk, false);
      return progress;
    }
    const page = await nextPage;
    const last = page.next === undefined;
    if (options.pace && !last) await options.pace(page.events.length);
    if (!last) nextPage = read(page.next);
    for (const item of page.events) {
      if (held.length > 0 && held[0]!.key.aggregateId !== item.key.aggregateId) {
        await add(held);
        held = [];
      }
      held.push(item);
    }
    if (last) {
      if (held.length > 0) await add(held);
      await flush(chunk, true);
      return progress;
    }
  }
};

/**
 * Starts (or finds) a build's header; refuses another segment count than the one it started with.
 * A build that ended `failed` has nothing left to resume: it starts over (`retried`), and the
 * rows' checkpoints make the replay a no-op for every event already applied.
 */
export const startRebuild = async (
  state: RebuildStateStore,
  target: RebuildTarget,
  segments: number,
  options: { restart?: boolean; now?: () => string } = {},
): Promise<{ header: RebuildHeader; resumed: boolean; retried: boolean }> => {
  const build = buildName(target);
  const now = options.now ?? (() => new Date().toISOString());
  const existing = options.restart ? undefined : await state.getHeader(build);
  const retried = existing !== undefined && statusOf(existing) === 'failed';
  // A new build (or one started over) must be safely in the past; a resumed one was when it began.
  const refusal =
    target.until !== undefined && (!existing || retried)
      ? untilRefusal(target.until, Date.parse(now()))
      : undefined;
  if (refusal) throw new RebuildError(refusal);
  if (existing && !retried) {
    if (existing.segments !== segments) {
      throw new RebuildError(
        `${build} was started with ${existing.segments} segments: resume it with --segments ${existing.segments} (its progress is per segment)`,
      );
    }
    return { header: existing, resumed: true, retried: false };
  }
  const header: RebuildHeader = {
    key: headerKey(build),
    build,
    projection: target.projection.name,
    version: target.projection.version,
    ...(target.until !== undefined && { until: target.until }),
    segments,
    status: 'running',
    startedAt: now(),
  };
  // A restart forgets the progress, not the rows: their checkpoints make the replay a no-op
  // for every event already applied. The header is written last: until then a failed build
  // stays failed (never served), and a crash in between leaves a header that starts over again.
  for (let segment = 0; segment < segments; segment++) {
    await state.putSegment(freshSegment(build, segment, segments));
  }
  await state.putHeader(header);
  return { header, resumed: false, retried };
};

/**
 * Ends a build when every segment is done: `complete` when every event was applied, `failed`
 * otherwise (never served, never caught up). Answers the totals either way.
 */
export const finishRebuild = async (
  state: RebuildStateStore,
  target: RebuildTarget,
  now: () => string = () => new Date().toISOString(),
) => {
  const build = buildName(target);
  const header = await state.getHeader(build);
  if (!header) throw new RebuildError(`${build} was never started`);
  const progress = await Promise.all(
    Array.from({ length: header.segments }, (_, i) => state.getSegment(build, i)),
  );
  const done = progress.every((p) => p?.done);
  const events = progress.reduce((n, p) => n + (p?.events ?? 0), 0);
  const aggregates = progress.reduce((n, p) => n + (p?.aggregates ?? 0), 0);
  const failures = progress.reduce((n, p) => n + (p?.failures ?? 0), 0);
  const firstFailure = progress.find((p) => p?.firstFailure)?.firstFailure;
  const finished: RebuildHeader =
    done && header.status === 'running'
      ? {
          ...header,
          status: failures > 0 ? 'failed' : 'complete',
          completedAt: now(),
          events,
          failures,
          ...(firstFailure !== undefined && { firstFailure }),
        }
      : header;
  if (finished !== header) await state.putHeader(finished);
  return {
    header: finished,
    status: statusOf(finished),
    done,
    events,
    aggregates,
    failures,
    firstFailure,
  };
};

/** A request the rebuild refuses before writing anything (unknown projection, bad time...). */
export class RebuildError extends Error {
  override readonly name = 'RebuildError';
}
