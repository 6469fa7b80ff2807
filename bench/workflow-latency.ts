/**
 * The fulfilment workflow's latency (issue 22): how long after `order/submit` a client sees the
 * order confirmed. Between the two lie the stack's event stream (its workflows function polls
 * it), the process manager's `inventory/reserve` per SKU and its `order/confirm`, and, in the
 * decoupled stacks, the projector's stream poll that writes the confirmed row.
 *
 * Per profile, one order at a time: stock for the run's own SKUs is received first (not timed);
 * then, per round, an order of `linesPerOrder` lines (one per SKU) is built (not timed), a random
 * pause puts the submit at a random point of the pollers' cycle, and the clock runs from
 * `order/submit` sent until `GET /orders/{id}?minVersion=<submitted + 1>` answers 200 with
 * `status: confirmed`. The profiles take turns, the first rotating, like every other sweep.
 */
import type { ApiResponse } from './http';
import type { HttpRunner } from './runners';
import type { BenchSettings } from './settings';
import { type Summary, summarize } from './stats';

export type WorkflowSettings = BenchSettings['workflow'];

export interface WorkflowFigures {
  /** Orders measured to the end (confirmed and seen). */
  readonly samples: number;
  readonly errors: number;
  /** Why the others failed: an error code, `REJECTED`, `NOT_CONFIRMED` (gave up), `HTTP_<status>`. */
  readonly errorCodes: Record<string, number>;
  /** `order/submit` sent -> a GET shows the order confirmed. */
  readonly confirmed: Summary | null;
  /** `order/submit` sent -> its own answer (the single command inside the workflow's figure). */
  readonly submitAck: Summary | null;
  /** GETs per measured order (each 404 while the confirmation is not in the log is one more). */
  readonly readsPerOrder: number | null;
  /** How often the stack's event-stream consumers (workflows, projector) poll (local mode). */
  readonly streamPollMs?: number;
  /** Why the profile was not measured (its stock could not be received). */
  readonly setupError?: string;
}

export const WORKFLOW_METHOD =
  'per profile, one order at a time, one line per SKU of the run’s own (their stock received first, not timed; the order built, not timed; then an unmeasured random 0-250 ms pause): performance.now() just before POST /commands order/submit -> GET /orders/{id}?minVersion=<submitted version + 1> answers 200 with status confirmed. Between them: the event stream poll of the stack’s workflows function, the process manager’s inventory/reserve per SKU (side by side) and its order/confirm, and in a decoupled stack the projector’s poll that writes the confirmed row (the query then answers within its own 10 ms wait). While the confirmation is not yet in the event log the query answers 404 at once and the bench asks again after 10 ms, so the figure can overstate by one such cycle. Profiles take turns, the first rotating. The single-command ack and visible p50s beside it are the 1-client sweep’s.';

/** Pause between two GETs while the confirmation is not yet in the order's log. */
export const WORKFLOW_READ_PAUSE_MS = 10;

/** Longest wait for an order to be seen confirmed before it counts as an error. */
const CONFIRM_GIVE_UP_MS = 60_000;

/** Units of each SKU one order takes. */
const UNITS_PER_LINE = 1;

/** What one GET of the order says about the wait for its confirmation. */
export type ReadVerdict =
  | { readonly kind: 'confirmed' }
  /** Not yet: ask again (`pause`: after WORKFLOW_READ_PAUSE_MS; else at once). */
  | { readonly kind: 'wait'; readonly pause: boolean }
  | { readonly kind: 'failed'; readonly code: string };

const errorOf = (body: unknown) =>
  (body as { error?: { code?: unknown; details?: { latestVersion?: unknown } } } | undefined)
    ?.error;

/**
 * The verdict on `GET /orders/{id}?minVersion=<minVersion>`: 200 is the row at that version or
 * later (confirmed, or rejected: the workflow refused it); 404 with the log's `latestVersion`
 * below `minVersion` means the confirmation is not written yet; 503 NOT_YET_CONSISTENT means
 * the query's own wait ran out before the projector wrote the row.
 */
export const readVerdict = (status: number, body: unknown, minVersion: number): ReadVerdict => {
  if (status === 200) {
    const row = body as { status?: unknown } | undefined;
    if (row?.status === 'confirmed') return { kind: 'confirmed' };
    if (row?.status === 'rejected') return { kind: 'failed', code: 'REJECTED' };
    return { kind: 'failed', code: `STATUS_${String(row?.status ?? 'NONE').toUpperCase()}` };
  }
  const error = errorOf(body);
  if (status === 404) {
    const latest = error?.details?.latestVersion;
    return typeof latest === 'number' && latest < minVersion
      ? { kind: 'wait', pause: true }
      : { kind: 'failed', code: 'NOT_FOUND' };
  }
  if (status === 503 && error?.code === 'NOT_YET_CONSISTENT') return { kind: 'wait', pause: false };
  return {
    kind: 'failed',
    code: typeof error?.code === 'string' ? error.code : `HTTP_${status}`,
  };
};

/** Units of each SKU a profile's run needs: every order, warm-up included, confirmed. */
export const stockPerSku = (settings: WorkflowSettings): number =>
  (settings.warmup + settings.orders) * UNITS_PER_LINE;

/** The samples of one profile. */
export interface WorkflowSamples {
  readonly confirmed: number[];
  readonly submitAck: number[];
  readonly reads: number[];
  readonly errors: Record<string, number>;
}

export const newWorkflowSamples = (): WorkflowSamples => ({
  confirmed: [],
  submitAck: [],
  reads: [],
  errors: {},
});

export const workflowFiguresOf = (
  samples: WorkflowSamples,
  extra: { streamPollMs?: number; setupError?: string } = {},
): WorkflowFigures => {
  const reads = samples.reads.reduce((sum, n) => sum + n, 0);
  return {
    samples: samples.confirmed.length,
    errors: Object.values(samples.errors).reduce((sum, n) => sum + n, 0),
    errorCodes: { ...samples.errors },
    confirmed: summarize(samples.confirmed),
    submitAck: summarize(samples.submitAck),
    readsPerOrder:
      samples.reads.length > 0 ? Math.round((reads / samples.reads.length) * 100) / 100 : null,
    ...(extra.streamPollMs !== undefined && { streamPollMs: extra.streamPollMs }),
    ...(extra.setupError !== undefined && { setupError: extra.setupError }),
  };
};

type Outcome =
  | { ok: true; confirmedMs: number; submitAckMs: number; reads: number }
  | { ok: false; code: string };

/** Thrown by a step that must succeed for the measurement to mean anything. */
class StepFailed extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

const post = async (profile: HttpRunner, command: Record<string, unknown>) => {
  const response = await profile.client.request('POST', '/commands', command);
  if (response.status >= 300) {
    const code = errorOf(response.body)?.code;
    throw new StepFailed(
      `${String(command.type)}: ${typeof code === 'string' ? code : `HTTP_${response.status}`}`,
    );
  }
  return response;
};

const versionOf = (response: ApiResponse) => {
  const version = (response.body as { version?: unknown } | undefined)?.version;
  if (typeof version !== 'number') throw new StepFailed('BAD_RESPONSE');
  return version;
};

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Builds a draft order with one unit of each SKU (not timed). */
const buildOrder = async (profile: HttpRunner, orderId: string, skus: readonly string[]) => {
  await post(profile, {
    type: 'order/create',
    aggregateId: orderId,
    payload: { customerId: 'bench-workflow', currency: 'EUR' },
  });
  for (const [index, sku] of skus.entries()) {
    await post(profile, {
      type: 'order/addLine',
      aggregateId: orderId,
      payload: { lineId: `line-${index + 1}`, sku, quantity: UNITS_PER_LINE, unitPrice: 1250 },
    });
  }
};

/** Submits the order and asks for it until it is seen confirmed: the measured part. */
const submitUntilConfirmed = async (profile: HttpRunner, orderId: string): Promise<Outcome> => {
  const submit = await post(profile, {
    type: 'order/submit',
    aggregateId: orderId,
    payload: {},
  });
  const minVersion = versionOf(submit) + 1;
  const path = `/orders/${encodeURIComponent(orderId)}?minVersion=${minVersion}`;
  for (let reads = 1; ; reads++) {
    const read = await profile.client.request('GET', path);
    const verdict = readVerdict(read.status, read.body, minVersion);
    if (verdict.kind === 'confirmed') {
      return {
        ok: true,
        confirmedMs: read.receivedAt - submit.sentAt,
        submitAckMs: submit.receivedAt - submit.sentAt,
        reads,
      };
    }
    if (verdict.kind === 'failed') return { ok: false, code: verdict.code };
    if (read.receivedAt - submit.sentAt > CONFIRM_GIVE_UP_MS) {
      return { ok: false, code: 'NOT_CONFIRMED' };
    }
    if (verdict.pause) await pause(WORKFLOW_READ_PAUSE_MS);
  }
};

const oneOrder = async (
  profile: HttpRunner,
  orderId: string,
  skus: readonly string[],
  phaseJitterMs: number,
): Promise<Outcome> => {
  try {
    await buildOrder(profile, orderId, skus);
    if (phaseJitterMs > 0) await pause(Math.random() * phaseJitterMs);
    return await submitUntilConfirmed(profile, orderId);
  } catch (error) {
    if (error instanceof StepFailed) return { ok: false, code: error.code };
    return { ok: false, code: (error as Error).name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK' };
  }
};

export interface WorkflowRunOptions {
  /** Unmeasured random pause (0..this, ms) before each submit: a random phase of the pollers. */
  readonly phaseJitterMs: number;
  /** Each profile's event-stream poll interval, where known (local mode). */
  readonly streamPollMs?: Readonly<Record<string, number>>;
  /** Called after each measured order. */
  readonly onOrder?: () => void;
}

/** Runs the sweep over the profiles; figures by profile name (none when `orders` is 0). */
export const runWorkflowLatency = async (
  profiles: readonly HttpRunner[],
  settings: WorkflowSettings,
  runId: string,
  options: WorkflowRunOptions,
): Promise<Record<string, WorkflowFigures>> => {
  if (settings.orders <= 0) return {};
  const paths = await Promise.all(
    profiles.map(async (profile) => {
      // The run's own SKUs (inventory ids), so every run starts from the stock it received.
      const skus = Array.from(
        { length: settings.linesPerOrder },
        (_, i) => `${runId}-wf-${profile.tag}-sku${i + 1}`,
      );
      let setupError: string | undefined;
      try {
        for (const sku of skus) {
          await post(profile, {
            type: 'inventory/receive',
            aggregateId: sku,
            payload: { quantity: stockPerSku(settings) },
          });
        }
      } catch (error) {
        setupError = `receiving stock failed: ${(error as Error).message}`;
      }
      return { profile, skus, setupError, samples: newWorkflowSamples() };
    }),
  );
  const ready = paths.filter((p) => p.setupError === undefined);
  const total = settings.warmup + settings.orders;
  for (let round = 0; round < total; round++) {
    const measured = round >= settings.warmup;
    for (let i = 0; i < ready.length; i++) {
      const path = ready[(i + round) % ready.length]!;
      const outcome = await oneOrder(
        path.profile,
        `${runId}-wf-${path.profile.tag}-o${round}`,
        path.skus,
        options.phaseJitterMs,
      );
      if (!measured) continue;
      if (outcome.ok) {
        path.samples.confirmed.push(outcome.confirmedMs);
        path.samples.submitAck.push(outcome.submitAckMs);
        path.samples.reads.push(outcome.reads);
      } else {
        path.samples.errors[outcome.code] = (path.samples.errors[outcome.code] ?? 0) + 1;
      }
      options.onOrder?.();
    }
  }
  return Object.fromEntries(
    paths.map((path) => [
      path.profile.name,
      workflowFiguresOf(path.samples, {
        streamPollMs: options.streamPollMs?.[path.profile.name],
        setupError: path.setupError,
      }),
    ]),
  );
};
