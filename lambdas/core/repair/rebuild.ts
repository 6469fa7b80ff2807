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
 * - **Resumable.** A page's whole aggregates are written in chunks of about CHECKPOINT_EVENTS
 *   events; after each chunk's rows are written, the segment's progress (./rebuild-state.ts)
 *   records the key of the last event of its last aggregate: a rerun resumes its Scan right
 *   after it (ExclusiveStartKey), so the rest of the page and the held-back aggregate are read
 *   again.
 * - **Exactly-once on rows**: the live projector's mechanism, per-row checkpoints (`applied`:
 *   aggregate -> last version applied) and a conditional write on `rev`. A page replayed after a
 *   crash, a rebuild racing the live projector on the same rows, or two rebuilds at once apply no
 *   event twice, and the rows equal `foldRows` of the log.
 */
import type { EventScan, ScannedEvent } from '../events/event-store';
import { CorruptEventError } from '../shared/errors';
import { isOwnEvent, type StoredEvent, toAction } from '../events/events';
import { applyPendingToRow, type Pending } from '../projections/row-projector';
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

/** The events of whole logs per stored row key, each aggregate's in version order. */
const route = (target: RebuildTarget, logs: readonly (readonly StoredEvent[])[]) => {
  const { projection } = target;
  const build = buildName(target);
  const byRow = new Map<string, Pending[]>();
  for (const log of logs) {
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
  }
  return byRow;
};

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Applies `pending` to one row exactly once, as the live projector does (row-projector.ts);
 * a reducer that throws is reported as a failure line, its aggregate stopped on this row.
 */
export const applyToRow = async (
  rows: ProjectionRowStore,
  key: string,
  projection: AnyRowProjection,
  pending: readonly Pending[],
  /** The build's storage (its rows' lists are partitioned by it). @default the served one */
  storage?: string,
  maxAttempts = 20,
): Promise<{ applied: number; failures: string[] }> => {
  // Per aggregate, the failure of the last attempt (an attempt redone after a race reports again).
  const failures = new Map<string, string>();
  const { applied } = await applyPendingToRow(rows, key, projection, pending, {
    maxAttempts,
    ...(storage !== undefined && { storage }),
    onReducerError: (p, error) =>
      failures.set(p.aggregateId, `${key}: ${p.aggregateId} v${p.version}: ${message(error)}`),
  });
  return { applied, failures: [...failures.values()] };
};

/** Runs `work` over `items`, at most `limit` at a time. */
const pool = async <T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) => {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
};

export interface RebuildDependencies {
  /** The event table's parallel scan (DynamoDbEventScan): items decoded one by one. */
  readonly scan: EventScan;
  readonly rows: ProjectionRowStore;
  readonly state: RebuildStateStore;
}

/**
 * Events between two checkpoints of a segment (default of `checkpointEvents`): about half a
 * second of row writes on DynamoDB Local, so a killed rebuild redoes at most that much per
 * segment and its progress moves that often. Each checkpoint is one PutItem.
 */
export const CHECKPOINT_EVENTS = 200;

/**
 * Consecutive whole aggregates grouped so that each group holds at most `maxEvents` events (an
 * aggregate with more is a group of its own): what is written between two checkpoints. Pure.
 */
export const chunkByEvents = <T>(
  aggregates: readonly (readonly T[])[],
  maxEvents = CHECKPOINT_EVENTS,
): (readonly T[])[][] => {
  const chunks: (readonly T[])[][] = [];
  let current: (readonly T[])[] = [];
  let events = 0;
  for (const aggregate of aggregates) {
    if (current.length > 0 && events + aggregate.length > maxEvents) {
      chunks.push(current);
      current = [];
      events = 0;
    }
    current.push(aggregate);
    events += aggregate.length;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
};

export interface SegmentOptions {
  /** Items per Scan page (default: DynamoDB's 1 MB pages). */
  readonly pageSize?: number;
  /** Events between checkpoints, at aggregate boundaries (default CHECKPOINT_EVENTS). */
  readonly checkpointEvents?: number;
  /**
   * Asked before each page and each checkpointed chunk after a page's first: true stops the
   * segment at its last checkpoint (Lambda's clock).
   */
  readonly shouldStop?: () => boolean;
  /** Called with the events of each checkpointed chunk once its rows are written. */
  readonly onEvents?: (events: number) => void;
  /** Rows written at once (default 16). */
  readonly concurrency?: number;
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
  let progress: SegmentProgress =
    (await deps.state.getSegment(build, segment)) ?? freshSegment(build, segment, segments);
  if (progress.done) return progress;
  let scanFrom: EventKey | undefined = progress.lastKey;
  // The aggregate the previous page ended in: completed by the next page.
  let held: ScannedEvent[] = [];
  for (;;) {
    if (options.shouldStop?.()) return progress;
    const page = await deps.scan.page({
      segment,
      segments,
      ...(scanFrom && { after: scanFrom }),
      ...(options.pageSize !== undefined && { limit: options.pageSize }),
    });
    scanFrom = page.next;
    const last = page.next === undefined;
    // Whole aggregates of this page (and the one held from the previous page).
    const whole: ScannedEvent[][] = [];
    for (const item of page.events) {
      if (held.length > 0 && held[0]!.key.aggregateId !== item.key.aggregateId) {
        whole.push(held);
        held = [];
      }
      held.push(item);
    }
    if (last && held.length > 0) {
      whole.push(held);
      held = [];
    }
    if (whole.length === 0 && !last) continue;

    // A checkpoint (and a progress report) every CHECKPOINT_EVENTS or so, not once a page: a
    // 1 MB page holds thousands of events, seconds of row writes.
    const chunks = whole.length > 0 ? chunkByEvents(whole, options.checkpointEvents) : [[]];
    for (const [index, chunk] of chunks.entries()) {
      if (index > 0 && options.shouldStop?.()) return progress;
      let failures = 0;
      let firstFailure: string | undefined;
      const fail = (reason: string) => {
        failures++;
        firstFailure ??= reason;
      };
      const logs = chunk.map((items) => {
        const { log, failure } = readableLog(items);
        const cut = logUntil(log, target.until);
        // A failure after the moment of an `--until` build is not part of it.
        if (failure && cut.length === log.length) fail(failure);
        return cut;
      });
      const byRow = route(target, logs);
      await pool([...byRow], options.concurrency ?? 16, async ([key, pending]) => {
        const outcome = await applyToRow(
          deps.rows,
          key,
          target.projection,
          pending,
          buildName(target),
        );
        for (const reason of outcome.failures) fail(reason);
      });
      const events = chunk.reduce((n, items) => n + items.length, 0);
      const lastWhole = chunk.at(-1);
      progress = {
        ...progress,
        ...(lastWhole && { lastKey: lastWhole.at(-1)!.key }),
        done: last && index === chunks.length - 1,
        events: progress.events + events,
        aggregates: progress.aggregates + chunk.length,
        failures: progress.failures + failures,
        ...(progress.firstFailure === undefined && firstFailure && { firstFailure }),
      };
      await deps.state.putSegment(progress);
      options.onEvents?.(events);
    }
    if (last) return progress;
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
