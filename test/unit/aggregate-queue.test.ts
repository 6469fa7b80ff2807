/**
 * Commands to one aggregate take turns within a process (lambdas/core/command/aggregate-queue.ts):
 * one after another per aggregate, side by side across aggregates, a waiter past its deadline
 * answered COMMAND_DEADLINE without running; and the command runner behind it never races its
 * own siblings. No wall clock: the queue's clock is injected, works are released by hand.
 */
import {
  createAggregateQueue,
  inTurnPerAggregate,
} from '../../lambdas/core/command/aggregate-queue';
import {
  type CommandContext,
  createCommandRunner,
} from '../../lambdas/core/command/command-runner';
import { MemoryEventStore } from '../../lambdas/core/events/memory-event-store';
import { CommandDeadlineError } from '../../lambdas/core/shared/errors';
import { counter } from '../support/counter';
import { TEST_ACTOR } from '../support/permissions';

/** A promise released by hand, so a test decides when a work ends. */
const deferred = <T = void>() => {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
/** Lets every queued promise callback run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('commands to one aggregate take turns', () => {
  test('given a work running on an aggregate, when another is queued for it, then it starts only once the first has settled', async () => {
    const queue = createAggregateQueue();
    const log: string[] = [];
    const first = deferred();
    const a = queue.run('order-1', async () => {
      log.push('first started');
      await first.promise;
      log.push('first ended');
    });
    const b = queue.run('order-1', async () => {
      log.push('second started');
    });
    await settle();
    expect(log).toEqual(['first started']);
    first.resolve();
    await Promise.all([a, b]);
    expect(log).toEqual(['first started', 'first ended', 'second started']);
  });

  test('given a work running on one aggregate, when a work is queued for another, then it runs at once', async () => {
    const queue = createAggregateQueue();
    const first = deferred();
    const a = queue.run('order-1', () => first.promise);
    let otherRan = false;
    await queue.run('order-2', async () => {
      otherRan = true;
    });
    expect(otherRan).toBe(true);
    first.resolve();
    await a;
  });

  test('given a failing work, when the next one is queued behind it, then the error reaches its own caller and the next one still runs', async () => {
    const queue = createAggregateQueue();
    const failing = queue.run('order-1', () => Promise.reject(new Error('boom')));
    const next = queue.run('order-1', () => Promise.resolve('next'));
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });

  test('given works that all settled, then nothing is pending', async () => {
    const queue = createAggregateQueue();
    await Promise.all([1, 2, 3].map((n) => queue.run(`order-${n % 2}`, () => Promise.resolve(n))));
    await settle();
    expect(queue.pending).toBe(0);
  });
});

describe('a queued command and its deadline', () => {
  test('given a work still waiting when its deadline comes, then it is answered COMMAND_DEADLINE, written false, and never runs', async () => {
    const clock = 1_000;
    const queue = createAggregateQueue({ now: () => clock });
    const first = deferred();
    const running = queue.run('order-1', () => first.promise);
    let ran = false;
    // Due now: the timer fires on the next turn of the event loop, while the first still runs.
    const late = queue.run(
      'order-1',
      async () => {
        ran = true;
      },
      clock,
    );
    await expect(late).rejects.toBeInstanceOf(CommandDeadlineError);
    await expect(late).rejects.toMatchObject({
      code: 'COMMAND_DEADLINE',
      details: { aggregateId: 'order-1', attempts: 0, written: false },
    });
    first.resolve();
    await running;
    await settle();
    expect(ran).toBe(false);
  });

  test('given runs that took 100 ms, when a turn comes with less than that left, then it is refused at once without running', async () => {
    let clock = 0;
    const queue = createAggregateQueue({ now: () => clock });
    const first = deferred();
    const running = queue.run('order-1', async () => {
      await first.promise;
      clock += 100; // the first run took 100 ms
    });
    let ran = false;
    // 150 ms left when queued; when its turn comes (t = 100) only 50 remain.
    const tooLate = queue.run(
      'order-1',
      async () => {
        ran = true;
      },
      150,
    );
    first.resolve();
    await running;
    await expect(tooLate).rejects.toBeInstanceOf(CommandDeadlineError);
    expect(ran).toBe(false);
    // With room for a run, the next one starts.
    await expect(queue.run('order-1', () => Promise.resolve('ran'), clock + 500)).resolves.toBe(
      'ran',
    );
  });
});

describe('the command runner behind the queue', () => {
  const context: CommandContext = {
    correlationId: 'corr',
    actor: TEST_ACTOR,
    now: () => '2026-01-01T00:00:00.000Z',
    newId: (() => {
      let n = 0;
      return () => `id-${n++}`;
    })(),
  };
  const writers = 20;
  const sendAll = (run: ReturnType<typeof createCommandRunner>) =>
    Promise.all(
      Array.from({ length: writers }, (_, n) =>
        run(
          {
            type: 'counter/increment',
            aggregateId: 'c-1',
            payload: { by: 1 },
            commandId: `w-${n}`,
          },
          context,
        ),
      ),
    );
  const noSleep = async () => undefined;

  test('given a very slow run elsewhere, when a command has nobody ahead of it, then it runs at once', async () => {
    let clock = 0;
    const queue = createAggregateQueue({ now: () => clock });
    await queue.run('order-1', async () => {
      clock += 10_000; // a run far longer than any deadline
    });
    let ran = false;
    await queue.run(
      'order-2',
      async () => {
        ran = true;
      },
      clock + 5_000,
    );
    expect(ran).toBe(true);
  });

  test('given 20 writers on one aggregate at once, when each runs in turn, then every command applies with no lost race', async () => {
    const store = new MemoryEventStore();
    const run = inTurnPerAggregate(
      createCommandRunner({ store, aggregates: [counter], sleep: noSleep }),
    );
    const results = await sendAll(run);
    expect(results.map((r) => r.retries)).toEqual(Array(writers).fill(0));
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: writers }, (_, n) => n + 1),
    );
  });

  test('given the same 20 writers without the queue, then they race (the queue is what removes the retries)', async () => {
    const store = new MemoryEventStore();
    const run = createCommandRunner({ store, aggregates: [counter], sleep: noSleep });
    const results = await sendAll(run);
    expect(results.reduce((sum, r) => sum + r.retries, 0)).toBeGreaterThan(0);
  });
});
