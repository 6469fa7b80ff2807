/**
 * given(events) / when(command) / then(events | error), for pure aggregates: no store, no AWS.
 * A public helper: your domain's tests import it (the scaffold's generated test does).
 *
 *   const { given } = scenario(giftCardAggregate, 'card-1'); // aggregate id, default 'agg-1'
 *   given(created).when('giftCard/rename', { name: 'B' }).then(renamed);
 *   given(created, deleted).when('giftCard/delete').thenThrows({ code: 'RULE_VIOLATED' });
 *   given(created, renamed).state; // the reducer's fold of the given events
 *
 * `given` takes new events (`{ type, payload }`) and stamps them with versions 1..n, the fixed
 * clock `AT` and ids, as the runner would. `when` validates the payload with the aggregate's
 * schema first (a bad one throws VALIDATION_FAILED, as the API answers 400), then runs `decide`.
 * `then` compares the events exactly; `thenThrows` matches the error partially (code, status,
 * message, details). `stamp` alone turns events into stored events, e.g. for projection tests.
 */
import { type AnyAggregate, foldEvents } from '../../lambdas/core/aggregate';
import { parseCommandPayload } from '../../lambdas/core/command-runner';
import { currentSchemaVersion } from '../../lambdas/core/event-codec';
import type { NewEvent, StoredEvent } from '../../lambdas/core/events';
import { toAction } from '../../lambdas/core/events';

export const AT = '2026-01-02T03:04:05.000Z';

export const stamp = (aggregateId: string, events: readonly NewEvent[], from = 0): StoredEvent[] =>
  events.map((e, i) => ({
    aggregateId,
    version: from + i + 1,
    aggregateType: e.type.split('/')[0]!,
    type: e.type,
    payload: e.payload,
    eventId: `event-${from + i + 1}`,
    occurredAt: AT,
    commandId: `command-${from + i + 1}`,
    commandHash: 'hash',
    correlationId: 'correlation',
    causationId: `command-${from + i + 1}`,
    schemaVersion: currentSchemaVersion(e.type),
  }));

export const scenario = (aggregate: AnyAggregate, aggregateId = 'agg-1') => ({
  given: (...history: NewEvent[]) => {
    const stored = stamp(aggregateId, history);
    const state: unknown = foldEvents(aggregate, stored.map(toAction));
    const when = (type: string, payload: unknown = {}) => {
      // Validate as the runner does, so schema rules are part of the scenario.
      const decide = () =>
        aggregate.decide(
          state,
          { type, payload: parseCommandPayload(aggregate, type, payload) },
          {
            aggregateId,
            version: stored.length,
            now: AT,
          },
        ) as NewEvent[];
      return {
        then: (...expected: NewEvent[]) => expect(decide()).toEqual(expected),
        thenThrows: (expected: Record<string, unknown>) => {
          let thrown: unknown;
          try {
            decide();
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toMatchObject(expected);
        },
      };
    };
    return { state, when };
  },
});
