/**
 * The local stand-in of each stack's EventBridge bus and of the pipe that feeds it
 * (lib/constructs/event-bus.ts): one more stream poller per stack on the event table's stream
 * (the same poller the projector uses), with the pipe's settings (BUS_PIPE_SETTINGS), running
 * the very enrichment handler the pipe invokes, and publishing each envelope it returns as the
 * event EventBridge would deliver to a rule's target:
 *
 * - to in-process subscribers (`bus.subscribe(listener)`: the tests, a developer's script);
 * - to an append-only JSON-lines log, one delivered event per line, which `npm run events`
 *   prints (and follows). `npm start` writes it to `.local-data/events.jsonl` (git ignores
 *   `.local-data/`); the tests and the benchmark start the runtime without a log, so they
 *   leave no file behind.
 *
 * What differs from AWS: no rules or targets (subscribers receive every event of both stacks;
 * filter on `source` and `detail-type`), no retries towards a subscriber (one that throws is
 * logged and skipped), and the records that exhaust the pipe's retries go to a JSON-lines
 * on-failure file instead of an SQS queue.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBStreamEvent, EventBridgeEvent } from 'aws-lambda';
import { type BusEnvelope, busEntryOf, busSourceOf } from '../../lambdas/core/events/bus-envelope';
import {
  BUS_ENV,
  BUS_PIPE_SETTINGS,
  busEnrichmentHandlerFromEnv,
} from '../../lambdas/handlers/bus-wiring';
import type { Environment } from '../../lambdas/handlers/environment';
import {
  type PollerLog,
  startStreamPoller,
  type StreamPoller,
  type StreamPollerOptions,
} from './stream-poller';

/** One event as a rule's target receives it from EventBridge: the envelope is its `detail`. */
export type BusEvent = EventBridgeEvent<string, BusEnvelope>;

export type BusListener = (event: BusEvent) => void;

export interface LocalEventBus {
  /** The JSON-lines log, when the bus keeps one. */
  readonly logFile?: string;
  /** Calls `listener` with every event published from now on; returns the unsubscribe. */
  subscribe(listener: BusListener): () => void;
  /** Delivers envelopes of `source` to the subscribers and the log, in order. */
  publish(source: string, envelopes: readonly BusEnvelope[]): Promise<void>;
  /** Waits for the log lines still being written. */
  flush(): Promise<void>;
}

/** The account and Region a local event names (EventBridge's fields; nothing checks them). */
const LOCAL_ACCOUNT = '000000000000';
const LOCAL_REGION = 'local';

/**
 * The event EventBridge delivers for a PutEvents entry. The envelope goes through the entry's
 * JSON text, as in AWS, so a subscriber sees exactly what a consumer would parse.
 */
export const deliveredEvent = (source: string, envelope: BusEnvelope): BusEvent => {
  const entry = busEntryOf(envelope, source);
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': entry.DetailType,
    source: entry.Source,
    account: LOCAL_ACCOUNT,
    time: entry.Time,
    region: LOCAL_REGION,
    resources: [],
    detail: JSON.parse(entry.Detail) as BusEnvelope,
  };
};

/**
 * A bus with no publisher yet. With `logFile`, the file is started empty: the log of this run
 * (with an in-memory DynamoDB Local, earlier runs' events are gone anyway; with a data
 * directory, the pollers publish again what the streams still hold, as a new pipe would).
 */
export const createLocalEventBus = async (
  options: { readonly logFile?: string; readonly log?: PollerLog } = {},
): Promise<LocalEventBus> => {
  const { logFile } = options;
  const listeners = new Set<BusListener>();
  // One write after another: the file's lines stay in publishing order.
  let writes: Promise<void> = Promise.resolve();
  if (logFile) {
    await mkdir(dirname(logFile), { recursive: true });
    await writeFile(logFile, '');
  }
  return {
    ...(logFile && { logFile }),
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async publish(source, envelopes) {
      const delivered = envelopes.map((envelope) => deliveredEvent(source, envelope));
      for (const event of delivered) {
        for (const listener of [...listeners]) {
          try {
            listener(event);
          } catch (error) {
            options.log?.error('An event bus subscriber failed', {
              eventId: event.detail.eventId,
              error: error instanceof Error ? error.message : String(error),
            });
          }
        }
      }
      if (logFile && delivered.length > 0) {
        const lines = delivered.map((event) => `${JSON.stringify(event)}\n`).join('');
        writes = writes.then(() => appendFile(logFile, lines));
        await writes;
      }
    },
    flush: () => writes,
  };
};

export interface BusPublisherConfig {
  readonly bus: LocalEventBus;
  readonly stack: string;
  /** The stack's function environment (its tables, DynamoDB Local). */
  readonly env: Environment;
  /** DynamoDB Local's endpoint (the Streams API is served on the same port). */
  readonly endpoint: string;
  /** The stack's event table stream. */
  readonly streamArn: string;
  /** The runtime's poller options: only the poll interval is taken (the rest is the pipe's). */
  readonly poller?: StreamPollerOptions;
  /** JSON lines for the batches that exhausted the pipe's retries (its dead-letter queue). */
  readonly onFailureFile?: string;
  readonly logger: Logger;
  readonly log?: PollerLog;
}

/**
 * The pipe of one stack: its stream -> the enrichment handler -> the bus. Stop the returned
 * poller to stop it; undelivered records stay in the stream.
 */
export const startBusPublisher = (config: BusPublisherConfig): Promise<StreamPoller> => {
  const source = busSourceOf(config.stack);
  const enrich = busEnrichmentHandlerFromEnv(
    { ...config.env, [BUS_ENV.source]: source },
    { logger: config.logger },
  );
  return startStreamPoller({
    endpoint: config.endpoint,
    streamArn: config.streamArn,
    functionName: `${config.stack}-bus-enrichment`,
    log: config.log,
    pollIntervalMs: config.poller?.pollIntervalMs,
    batchSize: BUS_PIPE_SETTINGS.batchSize,
    startingPosition: BUS_PIPE_SETTINGS.startingPosition,
    maxRetries: BUS_PIPE_SETTINGS.maxRetries,
    maxRecordAgeSeconds: BUS_PIPE_SETTINGS.maxRecordAgeSeconds,
    bisectOnError: BUS_PIPE_SETTINGS.bisectOnError,
    onFailureFile: config.onFailureFile,
    // Lambda's event carries the records in `Records`; the pipe hands the enrichment the array.
    handler: async (event: DynamoDBStreamEvent, context) => {
      const envelopes = await enrich(event.Records, context);
      await config.bus.publish(source, envelopes);
    },
  });
};
