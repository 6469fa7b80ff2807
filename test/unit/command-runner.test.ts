/**
 * The runner with a second, tiny aggregate (a counter): nothing in core knows about orders.
 */
import { z } from 'zod';
import type { AggregateDefinition } from '../../lambdas/core/command/aggregate';
import {
  createCommandRunner,
  type CommandContext,
} from '../../lambdas/core/command/command-runner';
import { TransactionConflictError, VersionConflictError } from '../../lambdas/core/shared/errors';
import type { EventStore } from '../../lambdas/core/events/event-store';
import type { StoredEvent } from '../../lambdas/core/events/events';
import { MemoryEventStore } from '../../lambdas/core/events/memory-event-store';
import { counter } from '../support/counter';
import { TEST_ACTOR } from '../support/permissions';

let ids = 0;
const context: CommandContext = {
  correlationId: 'corr-1',
  actor: TEST_ACTOR,
  now: () => '2026-01-01T00:00:00.000Z',
  newId: () => `id-${ids++}`,
};
const noSleep = async () => undefined;
const increment = (by: number, extra: { commandId?: string; expectedVersion?: number } = {}) => ({
  type: 'counter/increment',
  aggregateId: 'c-1',
  payload: { by },
  commandId: extra.commandId ?? `cmd-${ids++}`,
  ...(extra.expectedVersion !== undefined && { expectedVersion: extra.expectedVersion }),
});

describe('command runner (generic core)', () => {
  let store: MemoryEventStore;
  let run: ReturnType<typeof createCommandRunner>;
  beforeEach(() => {
    store = new MemoryEventStore();
    run = createCommandRunner({ store, aggregates: [counter], sleep: noSleep });
  });

  test('loads, folds, decides and appends with system fields stamped by the edge', async () => {
    await run(increment(2), context);
    const result = await run(increment(3, { commandId: 'cmd-x' }), context);
    expect(result).toMatchObject({ aggregateId: 'c-1', version: 2, state: 5, replayed: false });
    expect(result.events[0]).toMatchObject({
      aggregateId: 'c-1',
      version: 2,
      aggregateType: 'counter',
      type: 'counter/incremented',
      payload: { by: 3 },
      occurredAt: '2026-01-01T00:00:00.000Z',
      commandId: 'cmd-x',
      causationId: 'cmd-x',
      correlationId: 'corr-1',
      actor: TEST_ACTOR.subject,
    });
    expect(await store.load('c-1')).toHaveLength(2);
  });

  test('a domain error writes nothing', async () => {
    await expect(run(increment(101), context)).rejects.toMatchObject({
      code: 'RULE_VIOLATED',
      status: 422,
    });
    expect(await store.load('c-1')).toEqual([]);
  });

  test('an unknown command type is a 400 naming the known ones', async () => {
    await expect(run({ ...increment(1), type: 'counter/explode' }, context)).rejects.toMatchObject({
      code: 'UNKNOWN_COMMAND_TYPE',
      status: 400,
      details: { known: ['counter/increment', 'counter/noop'] },
    });
  });

  test('a command that decides no events appends nothing and answers the current version', async () => {
    await run(increment(1), context);
    const result = await run(
      { type: 'counter/noop', aggregateId: 'c-1', payload: {}, commandId: 'n' },
      context,
    );
    expect(result).toMatchObject({ version: 1, events: [] });
  });

  test('expectedVersion that does not match: 409 at once, with expected and actual', async () => {
    await run(increment(1), context);
    await expect(run(increment(1, { expectedVersion: 0 }), context)).rejects.toMatchObject({
      code: 'VERSION_CONFLICT',
      details: { expectedVersion: 0, actualVersion: 1 },
    });
    expect(await store.currentVersion('c-1')).toBe(1);
  });

  test('the same commandId twice: appended once, the same answer twice', async () => {
    const first = await run(increment(4, { commandId: 'same' }), context);
    const second = await run(increment(4, { commandId: 'same' }), context);
    expect(second).toMatchObject({
      version: first.version,
      events: first.events,
      replayed: true,
      state: 4,
    });
    expect(await store.load('c-1')).toHaveLength(1);
  });

  test('the same commandId with another body: 409 IDEMPOTENCY_KEY_REUSED, nothing appended', async () => {
    await run(increment(4, { commandId: 'same' }), context);
    await expect(run(increment(5, { commandId: 'same' }), context)).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
      status: 409,
    });
    expect(await store.load('c-1')).toHaveLength(1);
  });

  test('the same commandId with a body its schema reads alike (a dropped key): 409, nothing appended', async () => {
    // A schema that strips unknown keys: both bodies parse to { by: 4 }, but they are two commands.
    const lenient: typeof counter = {
      ...counter,
      commandSchemas: {
        ...counter.commandSchemas,
        'counter/increment': z.object({ by: z.number() }),
      },
    };
    const runLenient = createCommandRunner({ store, aggregates: [lenient] });
    await runLenient(increment(4, { commandId: 'same' }), context);
    const resent = { ...increment(4, { commandId: 'same' }), payload: { by: 4, note: 'other' } };
    await expect(runLenient(resent, context)).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
      status: 409,
    });
    expect(await store.load('c-1')).toHaveLength(1);
  });

  test('decide returning an event type outside its namespace fails the command, nothing appended', async () => {
    // Readers would take it for a foreign event: it would change no view.
    const stray: typeof counter = {
      ...counter,
      decide: () => [{ type: 'incremented' as 'counter/incremented', payload: { by: 1 } }],
    };
    const runStray = createCommandRunner({ store, aggregates: [stray] });
    await expect(runStray(increment(1), context)).rejects.toThrow(/outside 'counter\/'/);
    expect(await store.load('c-1')).toHaveLength(0);
  });

  /** A store whose first N appends lose a race (another writer appended first). */
  const racingStore = (
    losses: number,
    error: () => Error = () => new TransactionConflictError(),
  ): EventStore & { attempts: number } => {
    const inner = new MemoryEventStore();
    const wrapper = {
      attempts: 0,
      load: inner.load.bind(inner),
      currentVersion: inner.currentVersion.bind(inner),
      async append(events: readonly StoredEvent[]) {
        wrapper.attempts++;
        if (wrapper.attempts <= losses) throw error();
        return inner.append(events);
      },
    };
    return wrapper;
  };

  test('without expectedVersion a lost race is retried, within bounds', async () => {
    const flaky = racingStore(3, () => new VersionConflictError('c-1', 0, 1));
    const runner = createCommandRunner({ store: flaky, aggregates: [counter], sleep: noSleep });
    const result = await runner(increment(1), context);
    expect(result).toMatchObject({ version: 1, retries: 3 });
    expect(flaky.attempts).toBe(4);
  });

  test('retries are bounded: the last conflict is answered', async () => {
    const flaky = racingStore(100, () => new VersionConflictError('c-1', 0, 1));
    const runner = createCommandRunner({
      store: flaky,
      aggregates: [counter],
      sleep: noSleep,
      retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 1 },
    });
    await expect(runner(increment(1), context)).rejects.toBeInstanceOf(VersionConflictError);
    expect(flaky.attempts).toBe(5);
  });

  test('a transaction conflict is retried even with expectedVersion, then answered 503', async () => {
    const flaky = racingStore(100);
    const runner = createCommandRunner({
      store: flaky,
      aggregates: [counter],
      sleep: noSleep,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
    });
    await expect(runner(increment(1, { expectedVersion: 0 }), context)).rejects.toMatchObject({
      code: 'TRANSACTION_CONFLICT',
      status: 503,
    });
    expect(flaky.attempts).toBe(3);
  });

  test('a retry keeps the loaded history and fetches only newer events', async () => {
    const inner = new MemoryEventStore();
    const loads: (number | undefined)[] = [];
    let rival = false;
    const store: EventStore = {
      load: (id, options) => {
        loads.push(options?.afterVersion);
        return inner.load(id, options);
      },
      currentVersion: (id) => inner.currentVersion(id),
      async append(events) {
        if (rival) {
          // another writer takes the version first, once
          rival = false;
          await inner.append([{ ...events[0]!, commandId: 'rival', eventId: 'rival' }]);
        }
        return inner.append(events);
      },
    };
    const runner = createCommandRunner({
      store,
      aggregates: [counter],
      sleep: noSleep,
      headsKept: 0,
    });
    await runner(increment(1), context);
    loads.length = 0;
    rival = true;
    const result = await runner(increment(2), context);
    expect(result).toMatchObject({ version: 3, state: 5, retries: 1 });
    expect(loads).toEqual([0, 1]); // the retry read only what came after version 1
  });

  test('at the deadline the runner stops retrying and answers COMMAND_DEADLINE', async () => {
    const flaky = racingStore(1_000, () => new VersionConflictError('c-1', 0, 1));
    let clock = 1_000;
    const now = jest.spyOn(Date, 'now').mockImplementation(() => clock);
    try {
      const runner = createCommandRunner({
        store: flaky,
        aggregates: [counter],
        sleep: async (ms) => {
          clock += Math.max(ms, 10);
        },
      });
      await expect(
        runner(increment(1), { ...context, deadline: 1_000 + 500 }),
      ).rejects.toMatchObject({
        code: 'COMMAND_DEADLINE',
        status: 503,
        details: { aggregateId: 'c-1', written: false, lastError: 'VERSION_CONFLICT' },
      });
      expect(clock).toBeLessThanOrEqual(1_500);
      expect(flaky.attempts).toBeGreaterThan(1);
      expect(flaky.attempts).toBeLessThan(100);
    } finally {
      now.mockRestore();
    }
  });

  test('an append still in flight at the deadline is answered with written: unknown', async () => {
    const inner = new MemoryEventStore();
    const stuck: EventStore = {
      load: (id, options) => inner.load(id, options),
      currentVersion: (id) => inner.currentVersion(id),
      append: () => new Promise<void>(() => undefined),
    };
    const runner = createCommandRunner({ store: stuck, aggregates: [counter], sleep: noSleep });
    await expect(
      runner(increment(1), { ...context, deadline: Date.now() + 20 }),
    ).rejects.toMatchObject({ code: 'COMMAND_DEADLINE', details: { written: 'unknown' } });
  });

  test('with expectedVersion a lost race is not retried', async () => {
    const flaky = racingStore(1, () => new VersionConflictError('c-1', 0, 1));
    const runner = createCommandRunner({ store: flaky, aggregates: [counter], sleep: noSleep });
    await expect(runner(increment(1, { expectedVersion: 0 }), context)).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    expect(flaky.attempts).toBe(1);
  });

  test('backoff waits grow and stay under the cap', async () => {
    const waits: number[] = [];
    const flaky = racingStore(6, () => new VersionConflictError('c-1', 0, 1));
    const runner = createCommandRunner({
      store: flaky,
      aggregates: [counter],
      sleep: async (ms) => void waits.push(ms),
      retry: { maxAttempts: 10, baseDelayMs: 5, maxDelayMs: 40 },
    });
    await runner(increment(1), context);
    expect(waits).toHaveLength(6);
    waits.forEach((ms, attempt) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(Math.min(40, 5 * 2 ** attempt));
    });
  });
});

describe('the runner and who sends the command', () => {
  type Note = { readonly owner: string; readonly text: string } | null;
  type NoteCommand =
    | { type: 'note/create'; payload: { text: string } }
    | { type: 'note/edit'; payload: { text: string } };
  type NoteEvent =
    | { type: 'note/created'; payload: { owner: string; text: string } }
    | { type: 'note/edited'; payload: { text: string } };

  const decided: string[] = [];
  /** A test aggregate with owner rules: its owner and support read it; only its owner edits it. */
  const note: AggregateDefinition<Note, NoteCommand, NoteEvent> = {
    type: 'note',
    initialState: null,
    reducer: (state = null, event) => {
      if (event.type === 'note/created') return event.payload;
      if (event.type === 'note/edited' && state) return { ...state, text: event.payload.text };
      return state;
    },
    decide: (_state, command, { actor }) => {
      decided.push(command.type);
      return command.type === 'note/create'
        ? [{ type: 'note/created', payload: { owner: actor.subject, text: command.payload.text } }]
        : [{ type: 'note/edited', payload: command.payload }];
    },
    canRead: (principal, state) =>
      state === null || state.owner === principal.subject || principal.roles.includes('support'),
    authorize: (principal, state, command) =>
      command.type === 'note/edit' && state !== null && state.owner !== principal.subject
        ? 'OWNER_ONLY'
        : undefined,
    permissions: { OWNER_ONLY: 'Only its owner edits a note.' },
    commandSchemas: {
      'note/create': z.strictObject({ text: z.string() }),
      'note/edit': z.strictObject({ text: z.string() }),
    },
  };
  const as = (subject: string, roles: CommandContext['actor']['roles'] = []): CommandContext => ({
    ...context,
    actor: { subject, roles },
  });
  const alice = as('alice');
  const bob = as('bob');
  const support = as('support', ['support']);
  const edit = (text: string, commandId = `cmd-${ids++}`) => ({
    type: 'note/edit',
    aggregateId: 'n-1',
    payload: { text },
    commandId,
  });

  let store: MemoryEventStore;
  let run: ReturnType<typeof createCommandRunner>;
  beforeEach(async () => {
    store = new MemoryEventStore();
    run = createCommandRunner({ store, aggregates: [note], sleep: noSleep });
    await run(
      { type: 'note/create', aggregateId: 'n-1', payload: { text: 'hi' }, commandId: 'c0' },
      alice,
    );
    decided.length = 0;
  });

  test('given no note, when alice creates one, then decide reads her as the actor and the event records her', async () => {
    const [created] = await store.load('n-1');
    expect(created).toMatchObject({ actor: 'alice', payload: { owner: 'alice', text: 'hi' } });
  });

  test("given alice's note, when alice edits it, then the event records her as its actor", async () => {
    const { events } = await run(edit('hello'), alice);
    expect(events).toEqual([expect.objectContaining({ type: 'note/edited', actor: 'alice' })]);
  });

  test("given alice's note, when support edits it, then 403 FORBIDDEN names the rule and its message, decide never runs and nothing is appended", async () => {
    await expect(run(edit('mine now'), support)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      status: 403,
      message: 'Only its owner edits a note.',
      details: { rule: 'OWNER_ONLY', aggregateId: 'n-1', type: 'note/edit' },
    });
    expect(decided).toEqual([]);
    expect(await store.load('n-1')).toHaveLength(1);
  });

  test("given alice's note, when bob edits it, then 404 NOT_FOUND as for a missing note (never the 403 that tells it exists)", async () => {
    await expect(run(edit('mine now'), bob)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
      details: { aggregateId: 'n-1' },
    });
    expect(decided).toEqual([]);
    expect(await store.load('n-1')).toHaveLength(1);
  });

  test("given alice's edit under commandId k, when support sends the same body under k, then 409 IDEMPOTENCY_KEY_REUSED with nothing of her answer", async () => {
    await run(edit('hello', 'k'), alice);
    const reuse = run(edit('hello', 'k'), support);
    await expect(reuse).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', status: 409 });
    const error = (await reuse.catch((e: unknown) => e)) as { details: unknown; message: string };
    expect(error.details).toEqual({ commandId: 'k' });
    expect(error.message).not.toContain('hello');
    expect(await store.load('n-1')).toHaveLength(2);
  });

  test("given alice's edit under commandId k, when bob sends the same body under k, then 404 NOT_FOUND: not even the reuse is told", async () => {
    await run(edit('hello', 'k'), alice);
    await expect(run(edit('hello', 'k'), bob)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await store.load('n-1')).toHaveLength(2);
  });

  test("given alice's edit under commandId k, when alice sends it again, then her first answer is replayed", async () => {
    const first = await run(edit('hello', 'k'), alice);
    expect(await run(edit('hello', 'k'), alice)).toMatchObject({
      replayed: true,
      version: first.version,
      events: first.events,
    });
  });
});
