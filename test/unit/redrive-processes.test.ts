/**
 * The workflows' redrive, without AWS: what a failure names of versions and timers
 * (lambdas/core/repair/redrive.ts), the process re-runner that hands an aggregate's events from
 * the first failed one to the process runner (lambdas/core/repair/rerun-processes.ts), the
 * handler's answers for each kind of queue (lambdas/handlers/redrive.ts), and the local tool's
 * files and flags (local/tools/redrive.ts).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import type { EventStore } from '../../lambdas/core/events/event-store';
import type { StoredEvent } from '../../lambdas/core/events/events';
import type { IncomingRecord } from '../../lambdas/core/projections/projector';
import {
  firstVersionsOf,
  mergeFirstVersions,
  parseFailureMessage,
} from '../../lambdas/core/repair/redrive';
import type { Rerunner } from '../../lambdas/core/repair/rerun';
import { createProcessRerunner } from '../../lambdas/core/repair/rerun-processes';
import { silentLog } from '../../lambdas/core/shared/log';
import type { ProcessTimer } from '../../lambdas/core/workflows/process-runner';
import { createRedriveHandler } from '../../lambdas/handlers/redrive';
import { failureSourcesFor, parseRedriveCli, redriveFile } from '../../local/tools/redrive';
import { testLogger } from '../support/logs';

const record = (aggregateId: string, version: number) => ({
  dynamodb: { Keys: { aggregateId: { S: aggregateId }, version: { N: String(version) } } },
});

const timer: ProcessTimer = {
  id: 'order-fulfilment@v1#o-1#o-1@3#0',
  manager: 'order-fulfilment@v1',
  processKey: 'o-1',
  name: 'reservation-timeout',
  dueAt: '2026-01-01T00:15:00.000Z',
  correlationId: 'click-1',
};

describe('what a failure names for a process re-run', () => {
  it('given stream records, then each aggregate starts at its lowest version', () => {
    expect(
      firstVersionsOf([record('a', 4), record('b', 2), record('a', 3), record('a', 5)]),
    ).toEqual({ a: 3, b: 2 });
    expect(mergeFirstVersions({ a: 3, b: 2 }, { a: 1, c: 7 })).toEqual({ a: 1, b: 2, c: 7 });
  });

  it("given an operator's events message, then it names the ids and their first versions", () => {
    expect(
      parseFailureMessage(
        '{"events":[{"aggregateId":"o-1","version":4},{"aggregateId":"o-1","version":3}]}',
      ),
    ).toEqual({ kind: 'aggregates', aggregateIds: ['o-1'], firstVersions: { 'o-1': 3 } });
    expect(parseFailureMessage('{"events":[]}').kind).toBe('unreadable');
    expect(parseFailureMessage('{"events":[{"aggregateId":"o-1","version":0}]}').kind).toBe(
      'unreadable',
    );
  });

  it('given a timer the function failed on, then it is read back whole; a partial one is unreadable', () => {
    expect(parseFailureMessage(JSON.stringify({ processTimer: timer }))).toEqual({
      kind: 'timer',
      timer,
    });
    expect(
      parseFailureMessage(JSON.stringify({ processTimer: { ...timer, processKey: 3 } })),
    ).toMatchObject({ kind: 'unreadable', reason: expect.stringContaining('processKey') });
  });
});

/** An event of `aggregateId`, enough for the re-runner (it reads versions and types). */
const event = (aggregateId: string, version: number, aggregateType = 'order'): StoredEvent =>
  ({
    aggregateId,
    version,
    aggregateType,
    type: `${aggregateType}/changed`,
    payload: {},
    eventId: `${aggregateId}-${version}`,
    occurredAt: '2026-01-01T00:00:00.000Z',
    commandId: 'c',
    commandHash: 'h',
    correlationId: 'click',
    causationId: 'click',
  }) as StoredEvent;

/** Reads of a log per aggregate, as the event store answers them. */
const storeOf = (logs: Record<string, StoredEvent[]>): EventStore =>
  ({
    load: async (id: string, options: { afterVersion?: number; toVersion?: number } = {}) =>
      (logs[id] ?? []).filter(
        (e) =>
          e.version > (options.afterVersion ?? 0) && e.version <= (options.toVersion ?? Infinity),
      ),
    currentVersion: async (id: string) => logs[id]?.length ?? 0,
  }) as unknown as EventStore;

describe('createProcessRerunner', () => {
  const logs = { 'o-1': [1, 2, 3, 4].map((v) => event('o-1', v)), 'o-2': [event('o-2', 1)] };

  /** A process runner that records what it is handed, failing the aggregates in `failing`. */
  const runnerFor = (failing: readonly string[] = []) => {
    const handed: IncomingRecord[][] = [];
    return {
      handed,
      runner: {
        handleRecords: async (records: readonly IncomingRecord[]) => {
          handed.push([...records]);
          const failed = records.flatMap((r) =>
            'event' in r && failing.includes(r.event.aggregateId) ? [r.id] : [],
          );
          return { failed, sent: failed.length > 0 ? 0 : 2 };
        },
        fireTimer: async () => ({ steps: 0, sent: 0 }),
      },
    };
  };

  it('given a first version, when re-run, then the events from it to the latest are handed over', async () => {
    const { runner, handed } = runnerFor();
    const { rerun } = createProcessRerunner({
      events: storeOf(logs),
      runner,
      aggregateTypes: ['order'],
      log: silentLog,
    });
    const results = await rerun(['o-1'], undefined, { 'o-1': 3 });
    expect(results).toEqual([{ aggregateId: 'o-1', status: 'rerun', version: 4, sent: 2 }]);
    expect(handed.flat().map((r) => ('event' in r ? r.event.version : r.id))).toEqual([3, 4]);
  });

  it('given no first version, then the whole log is handed over (checkpoints skip what ran)', async () => {
    const { runner, handed } = runnerFor();
    const { rerun } = createProcessRerunner({
      events: storeOf(logs),
      runner,
      aggregateTypes: ['order'],
      log: silentLog,
    });
    await rerun(['o-1']);
    expect(handed.flat()).toHaveLength(4);
  });

  it('given an aggregate without events, a version past its log, or a step that fails again, then each says so', async () => {
    const { runner } = runnerFor(['o-2']);
    const { rerun } = createProcessRerunner({
      events: storeOf(logs),
      runner,
      aggregateTypes: ['order'],
      log: silentLog,
    });
    const results = await rerun(['nobody', 'o-1', 'o-2'], undefined, { 'o-1': 9 });
    const byId = Object.fromEntries(results.map((r) => [r.aggregateId, r]));
    expect(byId.nobody).toEqual({ aggregateId: 'nobody', status: 'no-events' });
    expect(byId['o-1']).toEqual({
      aggregateId: 'o-1',
      status: 'failed',
      error: 'the log has no version 9',
    });
    expect(byId['o-2']).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/Process failed/),
    });
  });
});

const sqsEvent = (...bodies: unknown[]): SQSEvent =>
  ({
    Records: bodies.map((body, i) => ({
      messageId: `message-${i}`,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })),
  }) as SQSEvent;

describe('the redrive handler, per queue', () => {
  const never = { recordsOf: () => Promise.reject(new Error('no stream here')) };

  it('given a timer message, when the workflows redrive gets it, then it fires the timer and deletes the message', async () => {
    const fired: ProcessTimer[] = [];
    const handler = createRedriveHandler({
      logger: testLogger('redrive'),
      stream: never,
      processes: {
        rerun: async () => [],
        fireTimer: async (t) => void fired.push(t),
      },
    });
    expect(await handler(sqsEvent({ processTimer: timer }))).toEqual({ batchItemFailures: [] });
    expect(fired).toEqual([timer]);
  });

  it('given a timer that fails again, or a timer in the projections queue, then the message stays', async () => {
    const failing = createRedriveHandler({
      logger: testLogger('redrive'),
      stream: never,
      processes: {
        rerun: async () => [],
        fireTimer: () => Promise.reject(new Error('throttled')),
      },
    });
    expect(await failing(sqsEvent({ processTimer: timer }))).toEqual({
      batchItemFailures: [{ itemIdentifier: 'message-0' }],
    });
    const projections = createRedriveHandler({
      logger: testLogger('redrive'),
      stream: never,
      reproject: async () => [],
    });
    expect(await projections(sqsEvent({ processTimer: timer }))).toEqual({
      batchItemFailures: [{ itemIdentifier: 'message-0' }],
    });
  });

  it("given an operator's events message, then the re-runner gets the ids and the first versions", async () => {
    const asked: unknown[] = [];
    const rerun: Rerunner = async (ids, _onResult, firstVersions) => {
      asked.push([[...ids], firstVersions]);
      return [...ids].map((aggregateId) => ({
        aggregateId,
        status: 'rerun' as const,
        version: 5,
        sent: 0,
      }));
    };
    const handler = createRedriveHandler({
      logger: testLogger('redrive'),
      stream: never,
      processes: { rerun, fireTimer: async () => undefined },
    });
    expect(await handler(sqsEvent({ events: [{ aggregateId: 'o-1', version: 3 }] }))).toEqual({
      batchItemFailures: [],
    });
    expect(asked).toEqual([[['o-1'], { 'o-1': 3 }]]);
  });
});

describe('the local tool', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'redrive-processes-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('given a file of records, when redriven, then the re-runner gets the lowest version of each aggregate across entries', async () => {
    const file = join(dir, 'failed.decoupled-workflows.jsonl');
    const info = { shardId: 's', startSequenceNumber: '1', endSequenceNumber: '2', streamArn: 'a' };
    writeFileSync(
      file,
      [
        JSON.stringify({ DDBStreamBatchInfo: info, records: [record('o-1', 4), record('o-2', 2)] }),
        JSON.stringify({ DDBStreamBatchInfo: info, records: [record('o-1', 3)] }),
        '',
      ].join('\n'),
    );
    const asked: unknown[] = [];
    const rerun: Rerunner = async (ids, onResult, firstVersions) => {
      asked.push(firstVersions);
      return [...ids].map((aggregateId) => ({
        aggregateId,
        status: 'rerun' as const,
        version: 4,
        sent: 1,
      }));
    };
    const summary = await redriveFile(file, rerun);
    expect(summary).toMatchObject({ entries: 2, repaired: 2, keptBack: 0 });
    expect(asked).toEqual([{ 'o-1': 3, 'o-2': 2 }]);
    // Every entry was repaired: the claimed file is gone, nothing was put back.
    expect(existsSync(file)).toBe(false);
  });

  it('reads the files npm start writes for each stack, and the flags for explicit command tables', () => {
    expect(failureSourcesFor('.local-data/failed-records.jsonl', ['decoupled', 'coupled'])).toEqual(
      [
        { file: '.local-data/failed-records.jsonl', stack: 'decoupled', consumer: 'projector' },
        {
          file: '.local-data/failed-records.decoupled-workflows.jsonl',
          stack: 'decoupled',
          consumer: 'workflows',
        },
        {
          file: '.local-data/failed-records.coupled.jsonl',
          stack: 'coupled',
          consumer: 'projector',
        },
        {
          file: '.local-data/failed-records.coupled-workflows.jsonl',
          stack: 'coupled',
          consumer: 'workflows',
        },
      ],
    );
    expect(
      parseRedriveCli([
        'redrive',
        '--event-table',
        'e',
        '--projections-table',
        'p',
        '--commands-table',
        'c',
        '--stack',
        'coupled',
      ]),
    ).toMatchObject({
      options: {
        stack: 'coupled',
        tables: { eventTable: 'e', projectionsTable: 'p', commandsTable: 'c' },
      },
    });
    expect(() => parseRedriveCli(['redrive', '--commands-table', 'c'])).toThrow(/--event-table/);
    expect(() => parseRedriveCli(['redrive', '--stack', 'both'])).toThrow(/decoupled or coupled/);
  });
});
