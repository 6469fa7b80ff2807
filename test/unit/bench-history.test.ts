/**
 * The history sweep measures an order of a given length as a lived one: seeded, its first
 * command sent unrecorded, and, where that command takes a snapshot, that snapshot stored before
 * any command is measured (a stack answers before its snapshot write ends; bench/sweeps.ts). A
 * snapshot that does not come is nudged by one more unrecorded command, a few times at most.
 */
import type { Outcome, Runner } from '../../bench/runners';
import { DEFAULT_SETTINGS } from '../../bench/settings';
import { runHistoryLength, SNAPSHOT_NUDGES, type SweepContext } from '../../bench/sweeps';

const short = (aggregateId: string) => aggregateId.replace(/^.*-o/, 'o');

/**
 * A runner that logs what it is asked, in order, into `log`; its snapshot of an order is
 * stored once `storedAfter(order)` waits have looked for it (Infinity: never). None: a runner
 * that cannot read its snapshots.
 */
const loggingRunner = (
  name: string,
  log: string[],
  storedAfter?: (order: string) => number,
): Runner => {
  const looks = new Map<string, number>();
  return {
    name,
    tag: name,
    kind: 'coupled',
    execute: (aggregateId) => {
      log.push(`${name} execute ${short(aggregateId)}`);
      return Promise.resolve<Outcome>({ ok: true, status: 200, version: 1, ackMs: 1, retries: 0 });
    },
    prepare: (aggregateId, length) => {
      log.push(`${name} prepare ${short(aggregateId)} ${length}`);
      return Promise.resolve();
    },
    ...(storedAfter && {
      snapshotStored: (aggregateId: string, version: number) => {
        const order = short(aggregateId);
        const looked = (looks.get(order) ?? 0) + 1;
        looks.set(order, looked);
        const stored = looked >= storedAfter(order);
        log.push(`${name} snapshot ${order} ${version}${stored ? '' : ' missing'}`);
        return Promise.resolve(stored);
      },
    }),
  };
};

const context = (phases: string[], warnings: string[] = []): SweepContext => ({
  runId: 'r',
  settings: {
    ...DEFAULT_SETTINGS,
    history: { lengths: [], ordersPerLength: 2, commandsPerOrder: 1, maxSeededEvents: 100_000 },
  },
  progress: {
    phase: (name) => phases.push(name),
    tick: () => {},
    log: (line) => warnings.push(line),
    stop: () => {},
  },
  phaseJitterMs: 0,
});

test('given a history long enough for a snapshot, when swept, then every order’s snapshot is stored before a command is measured', async () => {
  const log: string[] = [];
  const phases: string[] = [];
  await runHistoryLength([loggingRunner('a', log, () => 1)], 1000, 0, context(phases));
  expect(log).toEqual([
    'a prepare o0 1000',
    'a prepare o1 1000',
    // unrecorded: it reads the seeded history whole and takes the snapshot
    'a execute o0',
    'a execute o1',
    'a snapshot o0 1001',
    'a snapshot o1 1001',
    // measured
    'a execute o0',
    'a execute o1',
  ]);
  expect(phases).toContain('history 1000: waiting for the snapshots to be stored');
});

test('given a snapshot still missing after a wait, when swept, then its order alone gets one more unrecorded command and is waited for again', async () => {
  const log: string[] = [];
  await runHistoryLength(
    [loggingRunner('a', log, (order) => (order === 'o1' ? 2 : 1))],
    1000,
    0,
    context([]),
  );
  expect(log.slice(4)).toEqual([
    'a snapshot o0 1001',
    'a snapshot o1 1001 missing',
    'a execute o1',
    'a snapshot o1 1001',
    'a execute o0',
    'a execute o1',
  ]);
});

test('given a snapshot that never comes, when swept, then after a few more commands the order is measured as it is, with a warning naming it', async () => {
  const log: string[] = [];
  const warnings: string[] = [];
  await runHistoryLength(
    [loggingRunner('a', log, (order) => (order === 'o1' ? Infinity : 1))],
    1000,
    0,
    context([], warnings),
  );
  const nudges = log.filter((line) => line === 'a execute o1').length - 2; // first, measured
  expect(nudges).toBe(SNAPSHOT_NUDGES);
  expect(log.at(-2)).toBe('a execute o0');
  expect(warnings).toEqual([
    `warning: history 1000: no snapshot stored for r-a-h1000-o1 (a) after ${SNAPSHOT_NUDGES} more commands; measured as it is`,
  ]);
});

test('given a history too short for a snapshot, or runners that cannot read theirs, when swept, then nothing is waited for', async () => {
  const log: string[] = [];
  const phases: string[] = [];
  await runHistoryLength([loggingRunner('a', log, () => 1)], 10, 0, context(phases));
  await runHistoryLength([loggingRunner('b', log)], 1000, 0, context(phases));
  expect(log.filter((line) => line.includes('snapshot'))).toEqual([]);
  expect(phases.filter((phase) => phase.includes('snapshots'))).toEqual([]);
});
