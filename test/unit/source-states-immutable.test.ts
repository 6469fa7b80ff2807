/**
 * The row projector caches source states across batches and hands the same object to every
 * projection as `before` (docs/decisions/projector-source-state-cache.md): a reducer that
 * changed its input would corrupt the cache. Every state, `before` and row is frozen here
 * (a write throws in strict mode), and the folds must still equal the unfrozen ones.
 */
import {
  advanceSource,
  type AnyRowProjection,
  foldRows,
} from '../../lambdas/core/projections/row-projection';
import { customerSummaryV2Projection } from '../../lambdas/domain/order/projections';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import { exampleLogsBySource } from '../support/projection-rows';

const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
};

/** Each projection is folded over its own source's examples; a source without any fails below. */
const logsBySource = exampleLogsBySource();

const projections: AnyRowProjection[] = [...PROJECTIONS, customerSummaryV2Projection];

test.each(projections.map((p) => [p.name, p.version, p] as const))(
  '%s v%s: neither the source reducer nor the projection changes its inputs',
  (_name, _version, projection) => {
    const logs = logsBySource[projection.source.type];
    if (!logs) {
      throw new Error(
        `No example histories of ${projection.source.type}: add lambdas/domain/<its folder>/examples.ts`,
      );
    }
    const rows = new Map<string, unknown>();
    for (const log of logs) {
      let state = deepFreeze(projection.source.initialState as unknown);
      for (const event of log) {
        deepFreeze(event);
        if (projection.eventTypes.includes(event.type)) {
          const key = projection.rowKey(event, state);
          if (key !== undefined) {
            rows.set(key, deepFreeze(projection.reducer(rows.get(key), event, state)));
          }
        }
        state = deepFreeze(advanceSource(projection, state, event));
      }
    }
    expect(rows.size).toBeGreaterThan(0);
    expect(rows).toEqual(foldRows(projection, structuredClone(logs)));
  },
);
