/** The local stand-in for EventBridge Scheduler's one-time schedules (local/emulators/scheduler.ts). */
import type { ProcessTimer } from '../../lambdas/core/workflows/process-runner';
import { createLocalScheduler } from '../../local/emulators/scheduler';

const timer = (id: string, dueInMs = 0): ProcessTimer => ({
  id,
  manager: 'order-fulfilment@v1',
  processKey: 'o-1',
  name: 'reservation-timeout',
  dueAt: new Date(Date.now() + dueInMs).toISOString(),
  correlationId: 'c-1',
});

const until = async (check: () => boolean) => {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('given a due timer, when it is set, then the target is invoked with it once, even if set twice', async () => {
  const scheduler = createLocalScheduler();
  const fired: unknown[] = [];
  scheduler.target(async (event) => void fired.push(event));
  await scheduler.schedule(timer('t1'));
  await scheduler.schedule(timer('t1'));
  await until(() => fired.length === 1);
  await new Promise((r) => setTimeout(r, 50));
  expect(fired).toEqual([
    { processTimer: expect.objectContaining({ id: 't1', processKey: 'o-1' }) },
  ]);
  expect(scheduler.pending()).toEqual([]);
  scheduler.stop();
});

test('given a target that fails, when the timer fires, then it is retried up to maxAttempts and then dropped with a log line', async () => {
  const errors: string[] = [];
  const scheduler = createLocalScheduler({
    maxAttempts: 3,
    retryDelayMs: 5,
    log: { error: (message) => void errors.push(message) },
  });
  let attempts = 0;
  scheduler.target(async () => {
    attempts += 1;
    throw new Error('down');
  });
  await scheduler.schedule(timer('t2'));
  await until(() => errors.length === 1);
  expect(attempts).toBe(3);
  expect(scheduler.pending()).toEqual([]);
  scheduler.stop();
});

test('given a timer due later, when delayMs is configured, then it fires after delayMs instead', async () => {
  const scheduler = createLocalScheduler({ delayMs: 10 });
  const fired: string[] = [];
  scheduler.target(async ({ processTimer }) => void fired.push(processTimer.id));
  await scheduler.schedule(timer('t3', 15 * 60 * 1000));
  await until(() => fired.length === 1);
  expect(fired).toEqual(['t3']);
  scheduler.stop();
});

test('given a stopped scheduler, when its timers come due, then nothing is invoked', async () => {
  const scheduler = createLocalScheduler({ delayMs: 20 });
  const fired: string[] = [];
  scheduler.target(async ({ processTimer }) => void fired.push(processTimer.id));
  await scheduler.schedule(timer('t4'));
  expect(scheduler.pending()).toHaveLength(1);
  scheduler.stop();
  await new Promise((r) => setTimeout(r, 60));
  expect(fired).toEqual([]);
});
