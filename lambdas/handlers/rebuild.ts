/**
 * The rebuild function of the Step Functions state machine (lib/constructs/rebuild.ts): the
 * same rebuild as `npm run rebuild` (../core/repair/rebuild.ts), one step at a time.
 *
 * - `start`: checks the input against the deployment's projections, starts (or finds) the
 *   build's header (a `failed` build starts over), answers the segments for the Distributed Map;
 * - `segment`: rebuilds one Scan segment from its saved progress until done or until Lambda's
 *   clock says stop (2 minutes left): it answers `done: false` and the state machine invokes it
 *   again, so a segment may take any number of 15-minute invocations;
 * - `finish`: when every segment is done, marks the build `complete`, or `failed` when events
 *   could not be applied (then the state machine fails with `RebuildFailed`); answers the totals.
 */
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbEventScan } from '../core/events/dynamodb-event-store';
import { DynamoDbProjectionRows } from '../core/projections/dynamodb-projection-rows';
import type { Log } from '../core/shared/log';
import {
  canonicalTime,
  finishRebuild,
  rebuildSegment,
  RebuildError,
  type RebuildTarget,
  startRebuild,
  untilRefusal,
} from '../core/repair/rebuild';
import { DynamoDbRebuildState } from '../core/repair/dynamodb-rebuild-state';
import type { AnyRowProjection } from '../core/projections/row-projection';
import { describeVersions } from '../core/projections/served-versions';
import { documentClient } from './document-client';
import { ENV, type Environment, requireEnv } from './environment';

/** Stop a segment with this much of the invocation left: a chunk's writes end well within it. */
export const STOP_BEFORE_TIMEOUT_MS = 120_000;

const inputSchema = z.object({
  /** Absent: `start` (the state machine passes its execution input as it is). */
  action: z.enum(['start', 'segment', 'finish']).default('start'),
  projection: z.string().min(1),
  version: z.number().int().min(1),
  until: z.string().nullish(),
  segments: z.number().int().min(1).max(1000),
  segment: z.number().int().min(0).optional(),
  restart: z.boolean().optional(),
  pageSize: z.number().int().min(1).optional(),
});
export type RebuildInput = z.input<typeof inputSchema>;

export interface RebuildHandlerDependencies {
  readonly projections: readonly AnyRowProjection[];
  readonly client: DynamoDBClient;
  readonly doc: ReturnType<typeof documentClient>;
  readonly eventTable: string;
  readonly projectionsTable: string;
  readonly log: Log;
  readonly now?: () => number;
}

export const createRebuildHandler = (deps: RebuildHandlerDependencies) => {
  const state = new DynamoDbRebuildState(deps.doc, deps.projectionsTable);
  const rows = new DynamoDbProjectionRows(deps.doc, deps.projectionsTable);
  const now = deps.now ?? Date.now;

  const targetOf = (input: z.output<typeof inputSchema>): RebuildTarget => {
    const projection = deps.projections.find(
      (p) => p.name === input.projection && p.version === input.version,
    );
    if (!projection) {
      throw new RebuildError(
        `${input.projection} v${input.version} is not in this deployment (${describeVersions(deps.projections)})`,
      );
    }
    if (input.until === undefined || input.until === null) return { projection };
    const until = canonicalTime(input.until);
    if (!until) throw new RebuildError(`until must be an ISO-8601 date-time, got ${input.until}`);
    // Every action: a segment or finish later than the start is further from `until`.
    const refusal = untilRefusal(until, now());
    if (refusal) throw new RebuildError(refusal);
    return { projection, until };
  };

  return async (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
    const parsed = inputSchema.safeParse(event);
    if (!parsed.success) {
      throw new RebuildError(
        `invalid rebuild input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    const input = parsed.data;
    const target = targetOf(input);
    const common = {
      projection: target.projection.name,
      version: target.projection.version,
      until: target.until ?? null,
      segments: input.segments,
    };
    switch (input.action) {
      case 'start': {
        const { header, resumed, retried } = await startRebuild(state, target, input.segments, {
          restart: input.restart,
        });
        deps.log.info('Rebuild started', { build: header.build, resumed, retried });
        return {
          ...common,
          build: header.build,
          resumed,
          retried,
          items: Array.from({ length: input.segments }, (_, i) => i),
        };
      }
      case 'segment': {
        if (input.segment === undefined || input.segment >= input.segments) {
          throw new RebuildError(`segment must be 0..${input.segments - 1}`);
        }
        const progress = await rebuildSegment(
          { scan: new DynamoDbEventScan(deps.client, deps.eventTable), rows, state },
          target,
          input.segment,
          input.segments,
          {
            pageSize: input.pageSize,
            shouldStop: () =>
              context !== undefined && context.getRemainingTimeInMillis() < STOP_BEFORE_TIMEOUT_MS,
          },
        );
        deps.log.info('Rebuild segment', { ...progress });
        return {
          ...common,
          segment: input.segment,
          done: progress.done,
          events: progress.events,
          failures: progress.failures,
        };
      }
      case 'finish': {
        const totals = await finishRebuild(state, target);
        deps.log.info('Rebuild finished', { build: totals.header.build, ...totals });
        return {
          ...common,
          build: totals.header.build,
          status: totals.status,
          done: totals.done,
          events: totals.events,
          aggregates: totals.aggregates,
          failures: totals.failures,
          // Always present: the Fail state's cause reads it.
          firstFailure: totals.firstFailure ?? null,
          caughtUp: totals.status === 'complete',
        };
      }
    }
  };
};

/** The function's dependencies from its environment (cold start). */
export const rebuildHandlerFromEnv = (
  env: Environment,
  projections: readonly AnyRowProjection[],
  log: Log,
) => {
  const doc = documentClient(env);
  return createRebuildHandler({
    projections,
    // The document client passes low-level commands (the raw Scan) through untranslated.
    client: doc as unknown as DynamoDBClient,
    doc,
    eventTable: requireEnv(env, ENV.eventTable),
    projectionsTable: requireEnv(env, ENV.projectionsTable),
    log,
  });
};
