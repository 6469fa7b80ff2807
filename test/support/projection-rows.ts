/** The rows a projections table holds, as the query route serves them (tests compare to folds). */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type EventAction, type NewEvent, toAction } from '../../lambdas/core/events/events';
import {
  type AnyRowProjection,
  mergeItems,
  shardsOf,
} from '../../lambdas/core/projections/row-projection';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import { stamp } from '../../lambdas/core/given';

/**
 * Every domain's example histories (`lambdas/domain/<name>/examples.ts`), by aggregate type,
 * stamped as stored events of aggregates `<folder>-1`, `<folder>-2`...
 */
export const exampleLogsBySource = (): Record<string, EventAction[][]> => {
  const domains = join(__dirname, '../../lambdas/domain');
  const logs: Record<string, EventAction[][]> = {};
  for (const folder of readdirSync(domains)) {
    const file = join(domains, folder, 'examples.ts');
    if (!existsSync(file)) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { EXAMPLES } = require(file) as {
      EXAMPLES: { aggregateType: string; histories: NewEvent[][] };
    };
    logs[EXAMPLES.aggregateType] = EXAMPLES.histories.map((history, i) =>
      stamp(`${folder}-${i + 1}`, history).map(toAction),
    );
  }
  return logs;
};

/**
 * The deployment's declared projections fed by `aggregateType`: a test folds each read model
 * from its own source's logs (an order log feeds no shopping-list row).
 */
export const projectionsFedBy = (aggregateType: string): AnyRowProjection[] =>
  PROJECTIONS.filter((projection) => projection.source.type === aggregateType);

/**
 * Every row stored under `storage` (e.g. `removed-lines@v2`, or a build as of a moment) whose
 * key starts with `prefix`, as row key -> view; a sharded projection's items merged.
 */
export const storedRows = async (
  doc: DynamoDBDocumentClient,
  table: string,
  storage: string,
  projection?: AnyRowProjection,
  prefix = '',
): Promise<Map<string, unknown>> => {
  const sharded = projection !== undefined && shardsOf(projection) > 1;
  const items = new Map<string, unknown[]>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) {
      const key = String(item.key);
      if (!key.startsWith(`${storage}#${prefix}`)) continue;
      const rest = key.slice(storage.length + 1);
      const rowKey = sharded ? rest.replace(/#\d+$/, '') : rest;
      items.set(rowKey, [...(items.get(rowKey) ?? []), item.view]);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return new Map(
    [...items].map(([key, views]) => [key, projection ? mergeItems(projection, views) : views[0]]),
  );
};
