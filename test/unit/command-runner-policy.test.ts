/**
 * The command runner's decisions (lambdas/core/command/command-runner-policy.ts), each one given / when /
 * then sentence, with no store and no clock: what a run has read, idempotent replays, what a
 * failed append means, retry or deadline after a lost race, when a snapshot is due. The runner
 * that applies them is tested in command-runner*.test.ts.
 */
import {
  afterLostRace,
  appendFailure,
  assertSameCommand,
  DEFAULT_RETRY_POLICY,
  earlierRunRead,
  type Loaded,
  loadedFrom,
  readOn,
  recordedEventsRead,
  replayAnswer,
  snapshotDue,
} from '../../lambdas/core/command/command-runner-policy';
import {
  ItemTooLargeError,
  ThrottledError,
  TransactionConflictError,
  VersionConflictError,
} from '../../lambdas/core/shared/errors';
import type { StoredEvent } from '../../lambdas/core/events/events';
import { stamp } from '../../lambdas/core/given';
import { counter } from '../support/counter';

const by = (n: number) => ({ type: 'counter/incremented', payload: { by: n } });
/** Events 1..n of `c-1`, each adding its version; `commandId`s as `stamp` gives them. */
const history = (n: number, from = 0): StoredEvent[] =>
  stamp(
    'c-1',
    Array.from({ length: n }, (_, i) => by(from + i + 1)),
    from,
  );
const read = (events: readonly StoredEvent[], snapshot?: { state: number; version: number }) =>
  readOn(counter, loadedFrom(counter, snapshot), events);

describe('what a run has read', () => {
  test('nothing read is the initial state at version 0, of no known type', () =>
    expect(loadedFrom(counter)).toEqual({
      state: 0,
      version: 0,
      base: 0,
      baseState: 0,
      tail: [],
    }));
  test('a snapshot is the base, and names the partition as this aggregate', () =>
    expect(loadedFrom(counter, { state: 10, version: 4 })).toMatchObject({
      state: 10,
      version: 4,
      base: 4,
      owner: 'counter',
    }));
  test('events read are folded onto it and kept as the tail', () =>
    expect(read(history(3))).toMatchObject({ state: 6, version: 3, tail: history(3) }));
  test('the partition belongs to the type of its first event', () =>
    expect(read(stamp('c-1', [{ type: 'other/made', payload: {} }])).owner).toBe('other'));
  test('a retry reads on: newer events join the tail, the state folds on', () => {
    const first = read(history(2));
    expect(readOn(counter, first, history(2, 2))).toMatchObject({
      state: 10,
      version: 4,
      tail: history(4),
    });
  });
  test('no newer events leave what was read as it was', () => {
    const first = read(history(2));
    expect(readOn(counter, first, [])).toBe(first);
  });
});

describe('idempotency', () => {
  const marker = (firstVersion: number, lastVersion: number) => ({
    aggregateId: 'c-1',
    commandId: 'x',
    commandHash: 'hash',
    firstVersion,
    lastVersion,
  });
  test('the same commandId with the same body is the same command', () =>
    expect(() => assertSameCommand('x', 'h', 'h')).not.toThrow());
  test('the same commandId with another body: 409 IDEMPOTENCY_KEY_REUSED', () =>
    expect(() => assertSameCommand('x', 'h1', 'h2')).toThrow(
      expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', details: { commandId: 'x' } }),
    ));
  test("a marker's events all among the events read are taken from them", () =>
    expect(recordedEventsRead(marker(2, 3), read(history(4)))).toEqual(history(4).slice(1, 3)));
  test("a marker's events older than the snapshot read must be loaded", () =>
    expect(
      recordedEventsRead(marker(2, 3), read(history(2, 4), { state: 10, version: 4 })),
    ).toBeUndefined());
  test('an earlier run is found among the events read by its commandId', () =>
    expect(earlierRunRead(read(history(3)), 'command-2')).toEqual({
      hash: 'hash',
      version: 2,
      events: [history(3)[1]],
    }));
  test('a commandId not among the events read has not run (as far as they tell)', () =>
    expect(earlierRunRead(read(history(3)), 'command-9')).toBeUndefined());
  test("a replay answers the state at the earlier run's version, folded again", () =>
    expect(replayAnswer(counter, read(history(4)), 'c-1', 2, [history(4)[1]!], 1)).toEqual({
      aggregateId: 'c-1',
      version: 2,
      events: [history(4)[1]],
      state: 3,
      stateVersion: 2,
      // The state its events were decided on: the coupled answer folds the view from it.
      stateBefore: 1,
      replayed: true,
      retries: 1,
    }));
  test('a replay of the newest version answers the state read', () =>
    expect(replayAnswer(counter, read(history(4)), 'c-1', 4, [], 0)).toMatchObject({
      state: 10,
      stateVersion: 4,
    }));
  test('a replay older than the snapshot read answers the current state and says so', () =>
    expect(
      replayAnswer(counter, read(history(1, 4), { state: 10, version: 4 }), 'c-1', 2, [], 0),
    ).toMatchObject({ version: 2, state: 15, stateVersion: 5 }));
  test('a replay decided on a state older than the snapshot read has no stateBefore', () =>
    expect(
      replayAnswer(
        counter,
        read(history(2, 3), { state: 6, version: 3 }),
        'c-1',
        3,
        [history(4)[2]!],
        0,
      ),
    ).not.toHaveProperty('stateBefore'));
});

describe('what a failed append means', () => {
  test('a version conflict without expectedVersion is a lost race', () =>
    expect(appendFailure(new VersionConflictError('c-1', 3, 4))).toBe('raced'));
  test('a version conflict with expectedVersion is final (unless it is a replay)', () =>
    expect(appendFailure(new VersionConflictError('c-1', 3, 4), 3)).toBe('conflict'));
  test('a transaction clash is a lost race, even with expectedVersion', () => {
    expect(appendFailure(new TransactionConflictError())).toBe('raced');
    expect(appendFailure(new TransactionConflictError(), 3)).toBe('raced');
  });
  test('throttling is final here: the SDK already retried it, the answer is 503', () =>
    expect(appendFailure(new ThrottledError('slow down'))).toBe('final'));
  test('any other error is the answer', () => {
    expect(appendFailure(new ItemTooLargeError('event', 500_000, 409_600))).toBe('final');
    expect(appendFailure(new Error('boom'))).toBe('final');
  });
});

describe('after a lost race', () => {
  const policy = { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 100 };
  const lost = { attempts: 1, slowestAttemptMs: 0, now: 1000, policy, random: () => 0.5 };
  test('without a deadline it retries after a full-jitter wait', () =>
    expect(afterLostRace(lost)).toEqual({ kind: 'retry', delayMs: 5 }));
  test('the wait doubles per attempt up to the cap', () =>
    expect(
      [1, 2, 3, 4].map((attempts) =>
        afterLostRace({
          ...lost,
          attempts,
          policy: { ...policy, maxAttempts: 99 },
          random: () => 1,
        }),
      ),
    ).toEqual([10, 20, 40, 80].map((delayMs) => ({ kind: 'retry', delayMs }))));
  test('the last allowed attempt lost: the conflict is the answer', () =>
    expect(afterLostRace({ ...lost, attempts: 5 })).toEqual({ kind: 'give-up' }));
  test('a retry that can end by the deadline (wait + slowest attempt) is started', () =>
    expect(afterLostRace({ ...lost, slowestAttemptMs: 20, deadline: 1025 })).toEqual({
      kind: 'retry',
      delayMs: 5,
    }));
  test('a retry that cannot end by the deadline is not: COMMAND_DEADLINE', () =>
    expect(afterLostRace({ ...lost, slowestAttemptMs: 21, deadline: 1025 })).toEqual({
      kind: 'deadline',
    }));
  test('attempts run out before the deadline is judged', () =>
    expect(afterLostRace({ ...lost, attempts: 5, deadline: 0 })).toEqual({ kind: 'give-up' }));
  test('sized from attempts: the wait starts from the slowest attempt when that is longer', () =>
    expect(
      [
        { slowestAttemptMs: 40, attempts: 1 },
        { slowestAttemptMs: 40, attempts: 2 },
        { slowestAttemptMs: 4, attempts: 1 },
        { slowestAttemptMs: 400, attempts: 1 },
      ].map((tried) =>
        afterLostRace({
          ...lost,
          ...tried,
          policy: { ...policy, maxAttempts: 99, sizedFromAttempts: true },
          random: () => 1,
        }),
      ),
    ).toEqual([40, 80, 10, 100].map((delayMs) => ({ kind: 'retry', delayMs }))));
  test('by default the deadline is the real bound: 100 attempts, from the slowest attempt to 800 ms', () =>
    expect(DEFAULT_RETRY_POLICY).toEqual({
      maxAttempts: 100,
      baseDelayMs: 5,
      maxDelayMs: 800,
      sizedFromAttempts: true,
    }));
});

describe('when a snapshot is due', () => {
  const loaded = (base: number, owner?: string): Pick<Loaded, 'base' | 'owner'> => ({
    base,
    ...(owner && { owner }),
  });
  test('`every` events past the snapshot read: due', () =>
    expect(snapshotDue(counter, loaded(100), 200, 100)).toBe(true));
  test('fewer: not yet', () => expect(snapshotDue(counter, loaded(100), 199, 100)).toBe(false));
  test('counted from version 0 without a snapshot', () =>
    expect(snapshotDue(counter, loaded(0), 3, 3)).toBe(true));
  test("never of another type's partition", () =>
    expect(snapshotDue(counter, loaded(0, 'other'), 500, 100)).toBe(false));
});
