/**
 * given(events) / when(command) / then(events | error), for pure aggregates: no store, no AWS.
 * The public test kit of a domain: your domain's tests import it (the scaffold's generated test
 * does), with any test runner. Documented in docs/reference/testing.md.
 *
 *   const { given } = scenario(giftCardAggregate, 'card-1'); // aggregate id, default 'agg-1'
 *   given(created).when('giftCard/rename', { name: 'B' }).then(renamed);
 *   given(created, deleted).when('giftCard/delete').thenThrows({ code: 'RULE_VIOLATED' });
 *   given(created, renamed).state; // the reducer's fold of the given events
 *   given(created).as({ subject: 'bob', roles: [] }).when('giftCard/rename', { name: 'B' })
 *     .thenThrows({ code: 'FORBIDDEN', details: { rule: 'OWNER_ONLY' } });
 *
 * `given` takes new events (`{ type, payload }`) and stamps them with versions 1..n, the fixed
 * clock `AT` and ids, as the runner would. `when` validates the payload with the aggregate's
 * schema first (a bad one throws VALIDATION_FAILED, as the API answers 400), then the
 * aggregate's rules for the actor as the runner runs them (`canRead` refusing: NOT_FOUND;
 * `authorize` refusing: FORBIDDEN), then `decide`. The actor is SCENARIO_ACTOR (an admin, whom
 * no rule refuses) unless `as(principal)` names another.
 * `then` compares the events exactly; `thenThrows` matches the error partially (code, status,
 * message, details: only the keys given, nested objects likewise).
 * A mismatch throws node's `AssertionError` (with `actual` and `expected`, which Jest, Vitest,
 * Mocha and `node:test` all print as a diff): no test runner is imported here. An expected value
 * with an `asymmetricMatch` method (Jest's `expect.any(String)`, `expect.arrayContaining(...)`)
 * is asked whether it matches. `stamp` alone turns events into stored events, e.g. for
 * projection tests.
 *
 * No handler imports it: it is in no Lambda bundle
 * (test/unit/only-the-deployment-names-domains.test.ts checks).
 */
import { AssertionError, deepStrictEqual } from 'node:assert';
import { type AnyAggregate, foldEvents } from './command/aggregate';
import { parseCommandPayload } from './command/command-runner';
import { ForbiddenError } from './identity/authorization';
import type { Principal } from './identity/principal';
import { NotFoundError } from './shared/errors';
import { currentSchemaVersion } from './events/event-codec';
import type { NewEvent, StoredEvent } from './events/events';
import { toAction } from './events/events';

/** Who runs a scenario's commands unless `as` says otherwise: an admin, whom no rule refuses. */
export const SCENARIO_ACTOR: Principal = { subject: 'scenario-admin', roles: ['admin'] };

/** The clock of every scenario: each given event occurred at it, `decide` runs at it. */
export const AT = '2026-01-02T03:04:05.000Z';

/** New events as the store would hold them: versions `from + 1`..., time `AT`, fixed ids. */
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

interface AsymmetricMatcher {
  asymmetricMatch(actual: unknown): boolean;
}

const isMatcher = (value: unknown): value is AsymmetricMatcher =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Partial<AsymmetricMatcher>).asymmetricMatch === 'function';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);

/**
 * Whether `actual` has what `expected` names: an object's listed keys (recursively; an error's
 * own and inherited fields count), an array's every element in turn (same length), a matcher's
 * answer, or else the same value.
 */
export const matchesPartially = (actual: unknown, expected: unknown): boolean => {
  if (isMatcher(expected)) return expected.asymmetricMatch(actual);
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, i) => matchesPartially(actual[i], item))
    );
  }
  if (isPlainObject(expected)) {
    if (typeof actual !== 'object' || actual === null) return false;
    const fields = actual as Record<string, unknown>;
    return Object.keys(expected).every((key) => matchesPartially(fields[key], expected[key]));
  }
  if (typeof expected === 'object' && expected !== null) {
    try {
      deepStrictEqual(actual, expected);
      return true;
    } catch {
      return false;
    }
  }
  return Object.is(actual, expected);
};

/** Only the parts of `actual` that `expected` names, for a readable diff of a partial match. */
const pickNamed = (actual: unknown, expected: unknown): unknown => {
  if (Array.isArray(expected) && Array.isArray(actual)) {
    return actual.map((item, i) => (i < expected.length ? pickNamed(item, expected[i]) : item));
  }
  if (isPlainObject(expected) && typeof actual === 'object' && actual !== null) {
    const fields = actual as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(expected).map((key) => [key, pickNamed(fields[key], expected[key])]),
    );
  }
  return actual;
};

/** What `then` and `thenThrows` check, after `when(type, payload)`. */
export interface WhenResult {
  /** `decide` returned exactly these events (no more, in this order). */
  then(...expected: NewEvent[]): void;
  /** `decide` (or the payload's validation) threw an error with these fields. */
  thenThrows(expected: Record<string, unknown>): void;
}

export interface Given {
  /** The aggregate's reducer folded over the given events. */
  readonly state: unknown;
  /** Runs a command (payload default `{}`) on that state, at version n and time `AT`. */
  when(type: string, payload?: unknown): WhenResult;
  /** The same events, with the commands of `when` run by `actor`. */
  as(actor: Principal): Given;
}

/** Scenarios of one aggregate, all on the aggregate id `aggregateId`. */

const scenarioOf = (aggregate: AnyAggregate, aggregateId: string) => {
  const givenAs = (actor: Principal, history: readonly NewEvent[]): Given => {
    const stored = stamp(aggregateId, history);
    const state: unknown = foldEvents(aggregate, stored.map(toAction));
    const when = (type: string, payload: unknown = {}): WhenResult => {
      // Validate and authorize as the runner does, so schema and permission rules are part of
      // the scenario.
      const decide = () => {
        const command = { type, payload: parseCommandPayload(aggregate, type, payload) };
        if (stored.length > 0 && !aggregate.canRead(actor, state)) {
          throw new NotFoundError(`${aggregateId} does not exist`, { aggregateId });
        }
        const refused = aggregate.authorize(actor, state, command) as string | undefined;
        if (refused !== undefined) {
          throw new ForbiddenError(refused, aggregate.permissions[refused] ?? refused, {
            aggregateId,
            type,
          });
        }
        return aggregate.decide(state, command, {
          aggregateId,
          version: stored.length,
          now: AT,
          actor,
        }) as NewEvent[];
      };
      return {
        then: (...expected) => {
          deepStrictEqual(decide(), expected, `${type} decided other events than expected`);
        },
        thenThrows: (expected) => {
          let events: NewEvent[];
          try {
            events = decide();
          } catch (error) {
            if (matchesPartially(error, expected)) return;
            throw new AssertionError({
              message: `${type} threw an error other than expected: ${String(error)}`,
              actual: pickNamed(error, expected),
              expected,
              operator: 'matchesPartially',
            });
          }
          throw new AssertionError({
            message: `${type} threw nothing: it decided ${JSON.stringify(events)}`,
            actual: events,
            expected,
            operator: 'matchesPartially',
          });
        },
      };
    };
    return { state, when, as: (other) => givenAs(other, history) };
  };
  return givenAs;
};

/** Scenarios of one aggregate, all on the aggregate id `aggregateId`. */
export const scenario = (aggregate: AnyAggregate, aggregateId = 'agg-1') => {
  const givenAs = scenarioOf(aggregate, aggregateId);
  return { given: (...history: NewEvent[]): Given => givenAs(SCENARIO_ACTOR, history) };
};
