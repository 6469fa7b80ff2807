/**
 * What is measured: the local stacks (one DynamoDB Local, four runtimes) or the deployed ones;
 * with the floor runners on tables of the same DynamoDB. Every profile is signed in
 * (./identity.ts): locally with tokens of its own runtime's identity provider, remotely with the
 * token given.
 */
import { RowObserver } from './observer';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { foldRows, storageName, storedKey } from '../lambdas/core/projections/row-projection';
import { listAttributes } from '../lambdas/core/projections/row-lists';
import { toAction } from '../lambdas/core/events/events';
import { orderViewProjection } from '../lambdas/domain/order/projections';
import { startDynamoDbLocal } from '../local/emulators/dynamodb-local';
import {
  ensurePushTables,
  ensureTables,
  ensureViewStream,
  type StackTables,
} from '../local/emulators/tables';
import type { RemoteTarget } from './args';
import { ApiClient } from './http';
import {
  BENCH_USER,
  type BenchTokens,
  type Followers,
  fixedToken,
  localFollowers,
  minutesLeft,
  refreshingTokens,
  requestDevToken,
} from './identity';
import {
  processUsage,
  type RuntimeProcess,
  startRuntimeProcess,
  waitForProjectors,
} from './runtime-process';
import { startRunnerProcess } from './runner-process';
import { CapacityMeter, meterConsumedCapacity } from '../lambdas/core/shared/consumed-capacity';
import { DYNAMODB_TIMEOUTS } from '../lambdas/core/shared/dynamodb-limits';
import { tableRoles, type UsageProbe } from './cost';
import type { EventItem } from './orders';
import type { ProfileSetting, RunnerInfo } from './results';
import { decodeStoredEvent } from '../lambdas/core/events/event-codec';
import { principalOfToken } from '../client/identity';
import {
  FLOOR_VIEW,
  FLOOR_VIEW_DEPLOYED,
  FloorRunner,
  HttpRunner,
  type Runner,
  seedThroughApi,
  seedThroughTables,
  snapshotVersionIn,
} from './runners';

export interface Target {
  readonly mode: 'local' | 'remote';
  readonly profiles: readonly HttpRunner[];
  readonly floors: readonly FloorRunner[];
  readonly profileSettings: readonly ProfileSetting[];
  readonly floor: { available: boolean; tables?: object; note: string };
  readonly dynamoDbEndpoint?: string;
  /** Each profile's WebSocket URL (local mode, or deployed stacks whose outputs name them). */
  readonly websockets?: Readonly<Record<string, string>>;
  /** Who follows the push sweeps' orders on each profile (with `websockets`). */
  readonly followers?: Readonly<Record<string, Followers>>;
  /** Who the bench is signed in as, and where its tokens come from (for the results). */
  readonly identity: { readonly user: string; readonly tokens: string };
  /**
   * How often each profile's event-stream consumers (projector, workflows function) poll, ms
   * (local mode: the local poller's interval; deployed, Lambda's event source mapping: unknown).
   */
  readonly streamPollMs?: Readonly<Record<string, number>>;
  /** Counters of the local stream pollers (local mode). */
  eventSources(): Promise<Record<string, unknown> | undefined>;
  /**
   * Runners measured in the cost block only (./cost.ts): locally, `coupled-function`, the
   * coupled function and its gateway in a process with no stream function, as a Lambda
   * function instance runs. None remotely.
   */
  readonly costOnly: readonly HttpRunner[];
  /**
   * Locally, `floor-coupled-alone`: the coupled floor's calls in a process of their own
   * (./runner-process.ts), the floor of the CPU target's reading (./cost.ts, CpuInTurns), warmed
   * up with the cost-only runners and measured only there. None remotely.
   */
  readonly floorAlone?: Runner;
  /**
   * Locally, `coupled-function-invoked`: the coupled function as a Lambda instance runs it, its
   * handler in a process of its own handed each command's event (./runners.ts
   * InvokedFunctionRunner), the subject of the CPU target's reading; warmed up and measured
   * with `floorAlone`. None remotely.
   */
  readonly functionInvoked?: Runner;
  /**
   * Where each runner's CPU time and DynamoDB units are read (./cost.ts), by runner name: a local
   * stack's runtime process, or this process for a floor (its own metered client).
   */
  readonly usage: Readonly<Record<string, UsageProbe>>;
  /**
   * Waits until the stacks' projectors have caught up with their streams (local mode; remote:
   * at once). Answers the time waited (ms).
   */
  settle(): Promise<number>;
}

export const runnersOf = (target: Target): Runner[] => [...target.profiles, ...target.floors];

export const runnerInfo = (target: Target): RunnerInfo[] =>
  runnersOf(target).map((r) => ({ name: r.name, kind: r.kind }));

/** Stops what was started, newest first; safe to call more than once. */
export class Cleanup {
  private readonly steps: (() => Promise<unknown>)[] = [];

  push(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      await step().catch((error: unknown) =>
        console.error(`warning: cleanup step failed: ${(error as Error).message}`),
      );
    }
  }
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * The floors' own document client, metered into its own meter (the seeding client is not), and
 * the usage probe of each floor: this process's CPU time and that meter. Its SDK settings are
 * the functions' (lambdas/handlers/document-client.ts): the same timeouts, the same metering.
 */
const meteredFloorClient = (config: DynamoDBClientConfig, dynamoDbLocal: boolean) => {
  const client = new DynamoDBClient({ requestHandler: DYNAMODB_TIMEOUTS, ...config });
  const meter = new CapacityMeter();
  meterConsumedCapacity(client, { meter, dynamoDbLocal });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const probe = (tables: object): UsageProbe => ({
    process: 'bench process (floor)',
    tables: tableRoles(tables),
    usage: () => Promise.resolve(processUsage(meter)),
  });
  return { doc, probe };
};

/** A metered document client on DynamoDB Local at `endpoint`, and its process's usage probe. */
export const localMeteredFloorClient = (endpoint: string) =>
  meteredFloorClient({ endpoint, region: 'local', credentials: LOCAL_CREDENTIALS }, true);

/** A metered document client on DynamoDB Local at `endpoint`, as the floors' (and probes'). */
export const localFloorDoc = (endpoint: string) => localMeteredFloorClient(endpoint).doc;

/** A runtime process's usage probe: its CPU time and meter, its stack's tables named. */
const runtimeProbe = (runtime: RuntimeProcess, tables: object): UsageProbe => ({
  process: `runtime process ${runtime.pid}`,
  tables: tableRoles(tables),
  usage: () => runtime.usage(),
});

export const FLOOR_TABLES = {
  decoupled: {
    eventTable: 'bench-floor-decoupled-events',
    projectionsTable: 'bench-floor-decoupled-projections',
    snapshotsTable: 'bench-floor-decoupled-snapshots',
    commandsTable: 'bench-floor-decoupled-commands',
  },
  coupled: {
    eventTable: 'bench-floor-coupled-events',
    projectionsTable: 'bench-floor-coupled-projections',
    snapshotsTable: 'bench-floor-coupled-snapshots',
    commandsTable: 'bench-floor-coupled-commands',
    subscriptionsTable: 'bench-floor-coupled-subscriptions',
  },
} as const;

/**
 * The coupled stack's view item for a seeded history, folded by the order view itself: what its
 * commands would have written with the events (view, checkpoint, list slots).
 */
const orderItem = (events: readonly EventItem[]) => {
  const last = events.at(-1);
  if (!last) return undefined;
  // Seeded items are stored shapes (schema version 1): through the codec, as every reader.
  const actions = events.map((event) => toAction(decodeStoredEvent(event)));
  const view = foldRows(orderViewProjection, [actions]).get(last.aggregateId);
  if (view === undefined) return undefined;
  return {
    key: storedKey(orderViewProjection, last.aggregateId),
    view,
    applied: { [last.aggregateId]: last.version },
    rev: 1,
    ...listAttributes(orderViewProjection, storageName(orderViewProjection), view),
  };
};

/** The tables of the coupled function invoked as Lambda runs it (Target.functionInvoked). */
export const INVOKED_FUNCTION_TABLES = {
  eventTable: 'bench-invoked-events',
  projectionsTable: 'bench-invoked-projections',
  snapshotsTable: 'bench-invoked-snapshots',
  commandsTable: 'bench-invoked-commands',
  subscriptionsTable: 'bench-invoked-subscriptions',
} as const;

/**
 * One DynamoDB Local and one runtime process per measured stack (./runtime-process.ts): the
 * coupled stack, a decoupled stack whose stream is polled every 250 ms (like Lambda's event source
 * mapping) and a second decoupled stack polled every 10 ms; and, for the cost block only, the
 * coupled function alone (`coupled-function`: a process with no stream function) and the coupled
 * floor alone (`floor-coupled-alone`: its calls in a process of their own). The bench's clients,
 * floors and observers run in this process.
 */
export interface LocalTargetOptions {
  /**
   * Start the decoupled stack that polls every 10 ms. Default true; a run that does not measure
   * it leaves it out: idle, its pollers still keep DynamoDB Local busy (~200 GetRecords a second)
   * and take CPU from the stacks measured.
   */
  readonly fastPoller?: boolean;
}

export const startLocalTarget = async (
  cleanup: Cleanup,
  options: LocalTargetOptions = {},
): Promise<Target> => {
  const withFast = options.fastPoller ?? true;
  const dynamo = await startDynamoDbLocal();
  // Last resort if the process dies without running the cleanup (an uncaught error): no
  // DynamoDB Local is left behind (the runtime processes stop when this one goes away).
  const killOnExit = () => {
    if (dynamo.pid === undefined) return;
    try {
      process.kill(dynamo.pid, 'SIGKILL');
    } catch {
      // already stopped
    }
  };
  process.once('exit', killOnExit);
  cleanup.push(() => Promise.resolve(process.off('exit', killOnExit)));
  cleanup.push(() => dynamo.stop());
  const endpoint = dynamo.endpoint;
  const common = { dynamoDbEndpoint: endpoint, quiet: true, handlerLogLevel: 'ERROR' as const };
  const started = await Promise.allSettled([
    startRuntimeProcess({ ...common, stacks: ['coupled'], coupledPort: 0, tablePrefix: 'bench' }),
    startRuntimeProcess({
      ...common,
      stacks: ['decoupled'],
      decoupledPort: 0,
      tablePrefix: 'bench',
      poller: { pollIntervalMs: 250 },
    }),
    // The coupled function alone: no projector, workflows, bus or notifier in its process, so
    // its CPU per command is the function instance's (the cost block only).
    startRuntimeProcess({
      ...common,
      stacks: ['coupled'],
      coupledPort: 0,
      tablePrefix: 'bench-alone',
      streamFunctions: false,
    }),
    ...(withFast
      ? [
          startRuntimeProcess({
            ...common,
            stacks: ['decoupled'],
            decoupledPort: 0,
            tablePrefix: 'bench-fast',
            poller: { pollIntervalMs: 10 },
          }),
        ]
      : []),
  ]);
  for (const result of started) {
    if (result.status === 'fulfilled') cleanup.push(() => result.value.stop());
  }
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  const [coupledStack, slow, alone, fast] = started.map(
    (r) => (r as PromiseFulfilledResult<RuntimeProcess>).value,
  ) as [RuntimeProcess, RuntimeProcess, RuntimeProcess, RuntimeProcess | undefined];
  /** `make(fast)` as the one entry of a list, or none without the fast stack. */
  const ifFast = <T>(make: (runtime: RuntimeProcess) => T): T[] => (fast ? [make(fast)] : []);

  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: LOCAL_CREDENTIALS });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  cleanup.push(() => Promise.resolve(doc.destroy()));
  // The floor tables are defined like each stack's: in both stacks the event table has a stream
  // (the projector's) and the projections table one (push's). DynamoDB Local writes stream
  // records within the write, so a floor without them was ~1 ms cheaper per command than the
  // same calls on the stacks' tables (docs/benchmark.md, "Framework overhead").
  // So are those of the coupled function as a Lambda instance runs it, the subject of the CPU
  // target's reading (./runner-process.ts).
  for (const tables of [FLOOR_TABLES.decoupled, FLOOR_TABLES.coupled, INVOKED_FUNCTION_TABLES]) {
    await ensureTables(client, tables, { stream: true });
    await ensureViewStream(client, tables.projectionsTable);
  }
  for (const tables of [FLOOR_TABLES.coupled, INVOKED_FUNCTION_TABLES]) {
    await ensurePushTables(client, tables);
  }
  // It and the coupled floor alone, each in a process of its own: the CPU target's pair.
  const functionInvoked = await startRunnerProcess({
    dynamoDbEndpoint: endpoint,
    name: 'coupled-function-invoked',
    tag: 'cfi',
    kind: 'coupled',
    tables: INVOKED_FUNCTION_TABLES,
  });
  cleanup.push(() => functionInvoked.stop());
  const floorAlone = await startRunnerProcess({
    dynamoDbEndpoint: endpoint,
    name: 'floor-coupled-alone',
    tag: 'fca',
    kind: 'floor-coupled',
    tables: FLOOR_TABLES.coupled,
  });
  cleanup.push(() => floorAlone.stop());

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the local runtime did not provide ${what}`);
    return value;
  };
  // One token per runtime (each has its own identity provider and keys), asked for now so a
  // refusal fails the start, not the first sweep; renewed when it has under 5 minutes left.
  const tokensOf = async (runtime: RuntimeProcess): Promise<BenchTokens> => {
    const tokens = refreshingTokens(() => requestDevToken(runtime.identityUrl, BENCH_USER));
    await tokens.current();
    return tokens;
  };
  const [coupledTokens, slowTokens, aloneTokens, fastTokens] = await Promise.all([
    tokensOf(coupledStack),
    tokensOf(slow),
    tokensOf(alone),
    fast && tokensOf(fast),
  ]);
  const coupledTables = need(coupledStack.tables.coupled, 'the coupled tables');
  const decoupledTables = need(slow.tables.decoupled, 'the decoupled tables');
  const fastTables = fast && need(fast.tables.decoupled, 'the fast decoupled tables');
  /** Each stack's snapshots, read for the history sweep (./runners.ts, snapshotStored). */
  const snapshotsOf = (tables: StackTables) =>
    tables.snapshotsTable ? snapshotVersionIn(doc, tables.snapshotsTable) : undefined;
  // The independent visibility observers: their own clients on the decoupled view items.
  const observers = [decoupledTables, ...(fastTables ? [fastTables] : [])].map(
    (t) => new RowObserver(endpoint, t.projectionsTable),
  );
  cleanup.push(() => Promise.resolve(observers.forEach((o) => o.destroy())));
  const profiles = [
    new HttpRunner(
      'coupled',
      'cp',
      'coupled',
      new ApiClient(need(coupledStack.coupledUrl, 'a coupled URL'), { tokens: coupledTokens }),
      seedThroughTables(doc, coupledTables, orderItem),
      undefined,
      snapshotsOf(coupledTables),
    ),
    new HttpRunner(
      'decoupled-250ms',
      'd250',
      'decoupled',
      new ApiClient(need(slow.decoupledUrl, 'a decoupled URL'), { tokens: slowTokens }),
      seedThroughTables(doc, decoupledTables),
      observers[0],
      snapshotsOf(decoupledTables),
    ),
    ...ifFast(
      (runtime) =>
        new HttpRunner(
          'decoupled-10ms',
          'd10',
          'decoupled',
          new ApiClient(need(runtime.decoupledUrl, 'a decoupled URL'), { tokens: fastTokens! }),
          seedThroughTables(doc, fastTables!),
          observers[1],
          snapshotsOf(fastTables!),
        ),
    ),
  ];
  const costOnly = [
    new HttpRunner(
      'coupled-function',
      'cf',
      'coupled',
      new ApiClient(need(alone.coupledUrl, 'a coupled URL'), { tokens: aloneTokens }),
    ),
  ];
  cleanup.push(async () => [...profiles, ...costOnly].forEach((p) => p.client.close()));
  const floorClient = localMeteredFloorClient(endpoint);
  cleanup.push(() => Promise.resolve(floorClient.doc.destroy()));
  const floors = [
    new FloorRunner(
      'floor-decoupled',
      'fd',
      'floor-decoupled',
      floorClient.doc,
      FLOOR_TABLES.decoupled,
      FLOOR_VIEW,
    ),
    new FloorRunner(
      'floor-coupled',
      'fc',
      'floor-coupled',
      floorClient.doc,
      FLOOR_TABLES.coupled,
      FLOOR_VIEW,
    ),
  ];
  const eventSource = (
    settings: { pollIntervalMs: number; batchSize: number; batchingWindowMs: number } | undefined,
  ) => ({
    kind: 'local stream poller' as const,
    pollIntervalMs: settings?.pollIntervalMs,
    batchSize: settings?.batchSize,
    batchingWindowMs: settings?.batchingWindowMs,
  });
  return {
    mode: 'local',
    profiles,
    floors,
    profileSettings: [
      { name: 'coupled', kind: 'coupled', url: coupledStack.coupledUrl! },
      {
        name: 'decoupled-250ms',
        kind: 'decoupled',
        url: slow.decoupledUrl!,
        eventSource: eventSource(slow.pollerSettings),
      },
      ...ifFast((runtime) => ({
        name: 'decoupled-10ms',
        kind: 'decoupled' as const,
        url: runtime.decoupledUrl!,
        eventSource: eventSource(runtime.pollerSettings),
      })),
    ],
    floor: {
      available: true,
      tables: FLOOR_TABLES,
      note: 'separate floor tables on the same DynamoDB Local, defined like the stacks’ tables',
    },
    dynamoDbEndpoint: endpoint,
    streamPollMs: Object.fromEntries(
      (
        [
          ['coupled', coupledStack],
          ['decoupled-250ms', slow],
          ...ifFast((runtime) => ['decoupled-10ms', runtime] as const),
        ] as const
      ).flatMap(([name, runtime]) =>
        runtime.pollerSettings ? [[name, runtime.pollerSettings.pollIntervalMs]] : [],
      ),
    ),
    websockets: {
      coupled: need(coupledStack.websocketUrls.coupled, 'a coupled WebSocket URL'),
      'decoupled-250ms': need(slow.websocketUrls.decoupled, 'a decoupled WebSocket URL'),
      ...Object.fromEntries(
        ifFast((runtime) => [
          'decoupled-10ms',
          need(runtime.websocketUrls.decoupled, 'a decoupled WebSocket URL'),
        ]),
      ),
    },
    followers: {
      coupled: localFollowers(coupledStack.identityUrl, coupledTokens),
      'decoupled-250ms': localFollowers(slow.identityUrl, slowTokens),
      ...Object.fromEntries(
        ifFast((runtime) => ['decoupled-10ms', localFollowers(runtime.identityUrl, fastTokens!)]),
      ),
    },
    identity: {
      user: BENCH_USER,
      tokens:
        'an ID token from the identity provider of the runtime each profile talks to (POST /token), renewed when under 5 minutes from expiry; every gateway checks it on every request, and the $connect authorizer on every WebSocket connect (its signature once: the local runtime remembers a token it accepted until it expires)',
    },
    eventSources: async () => ({
      'decoupled-250ms': (await slow.stats()).decoupled,
      ...(fast && { 'decoupled-10ms': (await fast.stats()).decoupled }),
    }),
    costOnly,
    floorAlone: floorAlone.runner,
    functionInvoked: functionInvoked.runner,
    settle: () => waitForProjectors([coupledStack, slow, ...ifFast((runtime) => runtime)]),
    usage: {
      coupled: runtimeProbe(coupledStack, coupledTables),
      'coupled-function': runtimeProbe(
        alone,
        need(alone.tables.coupled, 'the coupled-function tables'),
      ),
      'decoupled-250ms': runtimeProbe(slow, decoupledTables),
      ...(fast && fastTables && { 'decoupled-10ms': runtimeProbe(fast, fastTables) }),
      'floor-decoupled': floorClient.probe(FLOOR_TABLES.decoupled),
      'floor-coupled': floorClient.probe(FLOOR_TABLES.coupled),
      'floor-coupled-alone': floorAlone.probe,
      'coupled-function-invoked': functionInvoked.probe,
    },
  };
};

/** How long a run with a given token lasts at most before the token expires (a warning). */
const TOKEN_WARNING_MINUTES = 15;

/** The deployed stacks; the floor on their tables when the outputs name them. */
export const connectRemoteTarget = async (
  target: RemoteTarget,
  cleanup: Cleanup,
): Promise<Target> => {
  // The HTTP routes take the token (API Gateway's JWT authorizer); the floor's DynamoDB calls
  // still need AWS credentials (the SDK signs them).
  const credentials = defaultProvider();
  const tokens = fixedToken(target.token);
  const left = minutesLeft(target.token);
  if (left < TOKEN_WARNING_MINUTES) {
    console.log(
      `warning: the token expires in ${Math.floor(left)} min and cannot be renewed; a default run takes about 6 (commands after it fail with 401)`,
    );
  }
  const profiles = [
    new HttpRunner(
      'coupled',
      'cp',
      'coupled',
      new ApiClient(target.coupled.url, { tokens }),
      seedThroughApi,
    ),
    new HttpRunner(
      'decoupled',
      'dc',
      'decoupled',
      new ApiClient(target.decoupled.url, { tokens }),
      seedThroughApi,
    ),
  ];
  cleanup.push(async () => profiles.forEach((p) => p.client.close()));
  // A refused token fails here, once, not as every command of the run.
  for (const profile of profiles) {
    const answer = await profile.client.request('GET', `/orders/bench-sign-in-${Date.now()}`);
    if (answer.status === 401) {
      throw new Error(
        `the ${profile.name} stack refused the token (401): is it an ID token of this deployment's user pool (its aud is UserPoolClientId), still valid?`,
      );
    }
  }
  const floors: FloorRunner[] = [];
  const usage: Record<string, UsageProbe> = {};
  const notes: string[] = [];
  const hasCredentials = await credentials().then(
    () => true,
    () => false,
  );
  if (target.region === undefined) {
    notes.push('no region (give --region) for the floor’s DynamoDB client');
  } else if (!hasCredentials) {
    notes.push('no AWS credentials for the floor’s DynamoDB calls');
  } else {
    // The deployed functions' meters are out of reach; the floors' units are measured here.
    const floorClient = meteredFloorClient({ region: target.region, credentials }, false);
    const doc = floorClient.doc;
    cleanup.push(() => Promise.resolve(doc.destroy()));
    for (const kind of ['decoupled', 'coupled'] as const) {
      const { eventTable, projectionsTable } = target[kind];
      if (eventTable && projectionsTable) {
        floors.push(
          new FloorRunner(
            `floor-${kind}`,
            `f${kind[0]}`,
            `floor-${kind}`,
            doc,
            { eventTable, projectionsTable },
            FLOOR_VIEW_DEPLOYED,
          ),
        );
        usage[`floor-${kind}`] = floorClient.probe({ eventTable, projectionsTable });
      } else {
        notes.push(`no EventTableName/ProjectionsTableName for the ${kind} stack (use --outputs)`);
      }
    }
  }
  return {
    mode: 'remote',
    profiles,
    floors,
    profileSettings: [
      { name: 'coupled', kind: 'coupled', url: target.coupled.url },
      {
        name: 'decoupled',
        kind: 'decoupled',
        url: target.decoupled.url,
        eventSource: { kind: 'Lambda event source mapping' },
      },
    ],
    floor: {
      available: floors.length > 0,
      note:
        notes.length > 0
          ? `floor ${floors.length > 0 ? 'partly ' : ''}skipped: ${notes.join('; ')}`
          : 'floor items (aggregate type bench-floor, view items bench-floor@v1#<id>, ids with this run’s prefix) in the deployed tables, measured from this machine, so it includes the network to DynamoDB',
    },
    ...(target.coupled.websocketUrl &&
      target.decoupled.websocketUrl && {
        websockets: {
          coupled: target.coupled.websocketUrl,
          decoupled: target.decoupled.websocketUrl,
        },
        // One token, one user: a fan-out of at most MAX_CONNECTIONS_PER_USER subscribers.
        followers: {
          coupled: { customerId: 'bench-push', users: [tokens] },
          decoupled: { customerId: 'bench-push', users: [tokens] },
        },
      }),
    identity: {
      user: principalOfToken(target.token)?.subject ?? 'unknown',
      tokens:
        'the ID token given (--token or BENCH_TOKEN), not renewed; API Gateway’s JWT authorizer verifies it on every request',
    },
    eventSources: () => Promise.resolve(undefined),
    costOnly: [],
    settle: () => Promise.resolve(0),
    usage,
  };
};
