/** The shape of latest.json, and the figures derived from the raw samples. */
import type { IndexCostFigures } from './probes/index-cost';
import type { BenchSettings } from './settings';
import type { ContentionCounts, ContentionMode, Samples } from './sweeps';
import { ratio, type Summary, summarize, throughput } from './stats';
import type { RunnerKind } from './runners';
import type { ClientLatencyFigures } from './client-latency';
import type { PushFigures } from './push-latency';
import type { TokenVerificationFigures } from './probes/token-cost';
import type { WorkflowFigures } from './workflow-latency';
import type { CostResult } from './cost';

export interface Machine {
  readonly cpuModel: string;
  readonly cpus: number;
  readonly totalMemoryBytes: number;
  readonly platform: string;
  readonly release: string;
  readonly arch: string;
  readonly node: string;
  /** Load average (1, 5, 15 min) when the run started: the machine may be shared. */
  readonly loadAverage: readonly number[];
  readonly date: string;
  readonly gitCommit: string | null;
  readonly gitDirty: boolean | null;
}

export interface RunnerFigures {
  /** Successful commands (ack samples). */
  readonly samples: number;
  readonly errors: number;
  readonly errorCodes: Record<string, number>;
  /** Wall time of this runner's turns. */
  readonly durationMs: number;
  /** Successful commands per second over this runner's turns. */
  readonly throughput: number;
  readonly ack: Summary | null;
  readonly visible: Summary | null;
  /** The independent observer (decoupled, one client): request sent -> the row has the version. */
  readonly observed?: Summary | null;
}

/** p50 ratios: profile over its floor (framework overhead), decoupled over coupled. */
export interface ProfileRatios {
  readonly ackToFloor: number | null;
  readonly visibleToFloor: number | null;
  readonly ackToCoupled: number | null;
  readonly visibleToCoupled: number | null;
}

export interface ContentionFigures {
  readonly attempts: number;
  readonly successes: number;
  readonly conflicts: number;
  readonly transactionConflicts: number;
  readonly otherErrors: number;
  /** What the other errors were (error code, else HTTP_<status>), when there were any. */
  readonly otherErrorCodes?: Record<string, number>;
  readonly retries: number;
  readonly durationMs: number;
  /** Successful commands per second. */
  readonly throughput: number;
  /** Latency of the successful commands. */
  readonly ack: Summary | null;
}

export interface ProfileSetting {
  readonly name: string;
  readonly kind: 'coupled' | 'decoupled';
  readonly url: string;
  /** How the decoupled read model is fed. */
  readonly eventSource?: {
    readonly kind: 'local stream poller' | 'Lambda event source mapping';
    readonly pollIntervalMs?: number;
    readonly batchSize?: number;
    readonly batchingWindowMs?: number;
  };
}

export interface RunnerInfo {
  readonly name: string;
  readonly kind: RunnerKind;
}

export interface BenchResult {
  readonly schemaVersion: 1;
  readonly mode: 'local' | 'remote';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly machine: Machine;
  readonly settings: BenchSettings & {
    readonly profiles: readonly ProfileSetting[];
    readonly runners: readonly RunnerInfo[];
    readonly floor: {
      readonly available: boolean;
      readonly tables?: object;
      readonly note: string;
    };
    readonly method: {
      readonly ack: string;
      readonly visible: string;
      readonly floor: string;
      readonly client: string;
      readonly push?: string;
      readonly observer?: string;
      readonly tokenVerification?: string;
      readonly workflow?: string;
      readonly interleaving: string;
    };
    /** Who the bench signed in as and where its tokens came from (runs before users: absent). */
    readonly identity?: { readonly user: string; readonly tokens: string };
    readonly dynamoDbEndpoint?: string;
    /** Unmeasured random pause (0..this, ms) before each round of the sequential sweeps. */
    readonly phaseJitterMs: number;
  };
  /** One client, sequential commands: the cleanest comparison. */
  readonly headline: {
    readonly clients: number;
    readonly runners: Record<string, RunnerFigures>;
    readonly ratios: Record<string, ProfileRatios>;
  };
  /** Client-visible latency per profile (one client, sequential), beside a bare fetch. */
  readonly client?: Record<string, ClientLatencyFigures>;
  /** Push latency and fan-out per profile (local mode). */
  readonly push?: Record<string, PushFigures>;
  /**
   * The fulfilment workflow per profile: order submitted -> seen confirmed (runs before issue 22,
   * or with `--workflow-orders 0`: absent).
   */
  readonly workflow?: Record<string, WorkflowFigures>;
  /** What one token check costs on this machine (runs before users: absent). */
  readonly tokenVerification?: TokenVerificationFigures;
  /** Write units per event of the order view's items, status list of rows against keys (local mode). */
  readonly indexCost?: readonly IndexCostFigures[];
  /**
   * Read and write units, dollars and CPU time per command, per runner (./cost.ts; runs before
   * issue 23: absent).
   */
  readonly cost?: CostResult;
  readonly concurrency: readonly {
    readonly clients: number;
    readonly commandsPerClient: number;
    readonly rounds: number;
    readonly runners: Record<string, RunnerFigures>;
    readonly ratios: Record<string, ProfileRatios>;
  }[];
  readonly contention: {
    readonly clients: number;
    readonly attemptsPerClient: number;
    readonly rounds: number;
    readonly modes: readonly {
      readonly mode: ContentionMode;
      readonly description: string;
      readonly profiles: Record<string, ContentionFigures>;
    }[];
  };
  readonly history: readonly {
    readonly length: number;
    readonly runners: Record<string, RunnerFigures>;
    readonly ratios: Record<string, ProfileRatios>;
  }[];
  /** Stream poller counters of the local decoupled stacks at the end of the run. */
  readonly eventSources?: Record<string, unknown>;
  /** Every sample (ms, rounded to 0.01), for other analyses. */
  readonly raw: {
    readonly concurrency: readonly {
      readonly clients: number;
      readonly runners: Record<string, { ack: number[]; visible: number[] }>;
    }[];
    readonly history: readonly {
      readonly length: number;
      readonly runners: Record<string, { ack: number[]; visible: number[] }>;
    }[];
  };
}

export const figuresOf = (samples: Samples): RunnerFigures => {
  const errors = Object.values(samples.errors).reduce((sum, n) => sum + n, 0);
  return {
    samples: samples.ack.length,
    errors,
    errorCodes: { ...samples.errors },
    durationMs: Math.round(samples.durationMs),
    throughput: throughput(samples.ack.length, samples.durationMs),
    ack: summarize(samples.ack),
    visible: summarize(samples.visible),
    ...(samples.observed.length > 0 && { observed: summarize(samples.observed) }),
  };
};

/** The codes a contention sweep expects (counted on their own); anything else is "other". */
const CONTENTION_CODES = new Set(['VERSION_CONFLICT', 'TRANSACTION_CONFLICT']);

export const contentionFiguresOf = (counts: ContentionCounts): ContentionFigures => ({
  attempts: counts.attempts,
  successes: counts.successes,
  conflicts: counts.conflicts,
  transactionConflicts: counts.transactionConflicts,
  otherErrors: counts.otherErrors,
  ...(counts.otherErrors > 0 && {
    otherErrorCodes: Object.fromEntries(
      Object.entries(counts.samples.errors).filter(([code]) => !CONTENTION_CODES.has(code)),
    ),
  }),
  retries: counts.retries,
  durationMs: Math.round(counts.samples.durationMs),
  throughput: throughput(counts.successes, counts.samples.durationMs),
  ack: summarize(counts.samples.ack),
});

/** Ratios of each profile's p50s: to its floor, and (decoupled) to the coupled profile. */
export const ratiosOf = (
  runners: readonly RunnerInfo[],
  figures: Record<string, RunnerFigures>,
): Record<string, ProfileRatios> => {
  const byKind = (kind: RunnerKind) => {
    const runner = runners.find((r) => r.kind === kind);
    return runner ? figures[runner.name] : undefined;
  };
  const coupled = byKind('coupled');
  const out: Record<string, ProfileRatios> = {};
  for (const runner of runners) {
    if (runner.kind !== 'coupled' && runner.kind !== 'decoupled') continue;
    const own = figures[runner.name];
    const floor = byKind(runner.kind === 'coupled' ? 'floor-coupled' : 'floor-decoupled');
    out[runner.name] = {
      ackToFloor: ratio(own?.ack?.p50, floor?.ack?.p50),
      visibleToFloor: ratio(own?.visible?.p50, floor?.visible?.p50),
      ackToCoupled: runner.kind === 'coupled' ? null : ratio(own?.ack?.p50, coupled?.ack?.p50),
      visibleToCoupled:
        runner.kind === 'coupled' ? null : ratio(own?.visible?.p50, coupled?.visible?.p50),
    };
  }
  return out;
};

const rounded = (values: readonly number[]) => values.map((v) => Math.round(v * 100) / 100);

export const rawOf = (samples: Map<string, Samples>) =>
  Object.fromEntries(
    [...samples].map(([name, s]) => [name, { ack: rounded(s.ack), visible: rounded(s.visible) }]),
  );

export const figuresByRunner = (samples: Map<string, Samples>): Record<string, RunnerFigures> =>
  Object.fromEntries([...samples].map(([name, s]) => [name, figuresOf(s)]));
