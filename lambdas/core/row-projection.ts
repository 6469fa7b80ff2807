/**
 * Declared projections whose rows may be fed by many aggregates (e.g. one row per customer, fed
 * by every order of that customer). A projection names itself and its version, the source
 * aggregate whose events it reads, the event types it handles, the key of the row each event
 * updates and a pure reducer. Nothing here knows about any domain: a domain folder declares its
 * projections, and one list per deployment (lambdas/handlers/deployment.ts) names them.
 *
 * Exactly-once (docs/decisions.md, "Rows fed by many aggregates"): every stored row carries a
 * checkpoint per source aggregate (`applied`: aggregateId -> last version applied to this row)
 * and a revision (`rev`) for a conditional write, so a duplicate, a retried or bisected batch or
 * a concurrent batch never applies an event twice, and none is skipped.
 */
import type { EventAction } from './events';

export interface RowProjection<Row = unknown, SourceState = unknown> {
  /** URL-safe public name, e.g. `customer-summary`; the `{name}` of its query route. */
  readonly name: string;
  /** Bumped when the row's shape or meaning changes: a new version is new storage (a rebuild). */
  readonly version: number;
  /** The aggregate whose events feed the rows; its reducer gives the state before each event. */
  readonly source: {
    readonly type: string;
    readonly initialState: SourceState;
    /** The aggregate's own reducer (typed on its own events, hence `never` here). */
    readonly reducer: (state: SourceState, event: never) => SourceState;
  };
  /** The event types that change a row; others only advance the source state. */
  readonly eventTypes: readonly string[];
  /** The key of the row an event updates, from the event and its aggregate's state before it. */
  readonly rowKey: (event: EventAction, before: SourceState) => string | undefined;
  /**
   * Pure. Applied per source aggregate in version order; across aggregates in any order, so it
   * must commute across aggregates (counts, sums, maxima), which keeps every row equal to the
   * fold of the whole log whatever order the stream delivers aggregates in.
   */
  readonly reducer: (row: Row | undefined, event: EventAction, before: SourceState) => Row;
  /** What a row key may look like in the query route (checked before any read). */
  readonly keyPattern: RegExp;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRowProjection = RowProjection<any, any>;

/** The source state after `event` (the source reducer, called on a stored event). */
export const advanceSource = (projection: AnyRowProjection, state: unknown, event: EventAction) =>
  (projection.source.reducer as (state: unknown, event: EventAction) => unknown)(state, event);

/** A projection's storage: its name with its version, so two versions can live side by side. */
export const storageName = (projection: Pick<RowProjection, 'name' | 'version'>) =>
  `${projection.name}@v${projection.version}`;

/** The stored item's partition key: `<name>@v<version>#<rowKey>`. */
export const storedKey = (projection: Pick<RowProjection, 'name' | 'version'>, rowKey: string) =>
  `${storageName(projection)}#${rowKey}`;

/** One stored row: the view plus what makes its updates exactly-once. */
export interface StoredRow<Row = unknown> {
  readonly key: string;
  readonly view: Row;
  /** Source aggregateId -> the last of its versions applied to this row. */
  readonly applied: Readonly<Record<string, number>>;
  /** Incremented by every write: the condition of the next one. */
  readonly rev: number;
}

/** The folds of a whole log, from scratch: the rows a projector must converge to (tests, rebuild). */
export const foldRows = <Row>(
  projection: RowProjection<Row, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  logs: readonly (readonly EventAction[])[],
): Map<string, Row> => {
  const rows = new Map<string, Row>();
  for (const log of logs) {
    let state: unknown = projection.source.initialState;
    for (const event of log) {
      if (projection.eventTypes.includes(event.type)) {
        const key = projection.rowKey(event, state);
        if (key !== undefined) rows.set(key, projection.reducer(rows.get(key), event, state));
      }
      state = advanceSource(projection, state, event);
    }
  }
  return rows;
};
