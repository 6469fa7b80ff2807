/**
 * The history sweep measures an order of a given length as a lived one: seeded, its first
 * command sent unrecorded, and, where that command takes a snapshot, that snapshot stored before
 * any command is measured (a stack answers before its snapshot write ends; bench/sweeps.ts).
 */
import type { Outcome, Runner } from '../../bench/runners';
import { DEFAULT_SETTINGS } from '../../bench/settings';
import { runHistoryLength, type SweepContext } from '../../bench/sweeps';

/** A runner that logs what it is asked, in order, into `log`. */
const loggingRunner = (name: string, log: string[], snapshots = true): Runner => ({
  name,
  tag: name,
  kind: 'coupled',
  execute: (aggregateId) => {
    log.push(`${name} execute ${aggregateId.replace(/^.*-o/, 'o')}`);
    return Promise.resolve<Outcome>({ ok: true, status: 200, version: 1, ackMs: 1, retries: 0 });
  },
  prepare: (aggregateId, length) => {
    log.push(`${name} prepare ${aggregateId.replace(/^.*-o/, 'o')} ${length}`);
    return Promise.resolve();
  },
  ...(snapshots && {
    snapshotStored: (aggregateId: string, version: number) => {
      log.push(`${name} snapshot ${aggregateId.replace(/^.*-o/, 'o')} ${version}`);
      return Promise.resolve();
    },
  }),
});

const context = (phases: string[]): SweepContext => ({
  runId: 'r',
  settings: {
    ...DEFAULT_SETTINGS,
    history: { lengths: [], ordersPerLength: 2, commandsPerOrder: 1, maxSeededEvents: 100_000 },
  },
  progress: { phase: (name) => phases.push(name), tick: () => {}, log: () => {}, stop: () => {} },
  phaseJitterMs: 0,
});

test('given a history long enough for a snapshot, when swept, then every order’s snapshot is stored before a command is measured', async () => {
  const log: string[] = [];
  const phases: string[] = [];
  await runHistoryLength([loggingRunner('a', log)], 1000, 0, context(phases));
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

test('given a history too short for a snapshot, or runners that cannot read theirs, when swept, then nothing is waited for', async () => {
  const log: string[] = [];
  const phases: string[] = [];
  await runHistoryLength([loggingRunner('a', log)], 10, 0, context(phases));
  await runHistoryLength([loggingRunner('b', log, false)], 1000, 0, context(phases));
  expect(log.filter((line) => line.includes('snapshot'))).toEqual([]);
  expect(phases.filter((phase) => phase.includes('snapshots'))).toEqual([]);
});
