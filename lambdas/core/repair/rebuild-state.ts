/**
 * A rebuild's progress, kept in the projections table beside the rows it builds, so a rerun (or
 * the next Lambda invocation of the Step Functions loop) continues where the last one stopped:
 *
 * - `rebuild#<build>`: the header (projection, version, until, segments, status: `running`,
 *   then `complete`, or `failed` when events could not be applied);
 * - `rebuild#<build>#<segment>`: per Scan segment, the key of the last event of the last
 *   aggregate whose rows are written (a Scan's ExclusiveStartKey at an aggregate boundary), the
 *   counts so far and whether the segment is done.
 *
 * `<build>` is the storage the rebuild writes: `<name>@v<version>` or, as of a past moment,
 * `<name>@v<version>@<until>`. Row keys start with a projection name (`[a-z0-9-]` then `@v`),
 * so `rebuild#` never names a row.
 */
export const REBUILD_STATE_PREFIX = 'rebuild#';

/**
 * `running` until every segment is done; then `complete` (every event applied) or `failed` (some
 * could not be: unreadable, a hole before them, or their reducer threw). Only a `complete` build
 * is served (`?asOf=`) or reported caught up; a `failed` one starts over when run again.
 */
export type RebuildStatus = 'running' | 'complete' | 'failed';

export interface RebuildHeader {
  readonly key: string;
  readonly build: string;
  readonly projection: string;
  readonly version: number;
  /** ISO time of a build as of a past moment (time travel); absent for a live version. */
  readonly until?: string;
  readonly segments: number;
  readonly status: RebuildStatus;
  readonly startedAt: string;
  /** When every segment was done (the build ended `complete` or `failed`). */
  readonly completedAt?: string;
  /** Totals once ended. */
  readonly events?: number;
  readonly failures?: number;
  /** The first event not applied, when `failed`. */
  readonly firstFailure?: string;
}

/**
 * A build's status as served: a header marked `complete` with failures (written before `failed`
 * existed) is `failed`.
 */
export const statusOf = (header: RebuildHeader): RebuildStatus =>
  header.status === 'complete' && (header.failures ?? 0) > 0 ? 'failed' : header.status;

/** The status of a build, `none` when it has no header. */
export const buildStatus = (header: RebuildHeader | undefined): RebuildStatus | 'none' =>
  header ? statusOf(header) : 'none';

/** An event-table key: where a segment's Scan resumes (after this item). */
export interface EventKey {
  readonly aggregateId: string;
  readonly version: number;
}

export interface SegmentProgress {
  readonly key: string;
  readonly build: string;
  readonly segment: number;
  readonly segments: number;
  /** The last event of the last aggregate whose rows are written; absent: from the start. */
  readonly lastKey?: EventKey;
  readonly done: boolean;
  readonly events: number;
  readonly aggregates: number;
  /** Events not applied (unreadable, a hole before them, or their reducer threw). */
  readonly failures: number;
  readonly firstFailure?: string;
}

export const headerKey = (build: string) => `${REBUILD_STATE_PREFIX}${build}`;
export const segmentKey = (build: string, segment: number) =>
  `${REBUILD_STATE_PREFIX}${build}#${segment}`;

/** The port of a rebuild's progress (adapter: ./dynamodb-rebuild-state.ts). */
export interface RebuildStateStore {
  getHeader(build: string): Promise<RebuildHeader | undefined>;
  putHeader(header: RebuildHeader): Promise<void>;
  getSegment(build: string, segment: number): Promise<SegmentProgress | undefined>;
  putSegment(progress: SegmentProgress): Promise<void>;
}
