/**
 * The event bus on DynamoDB Local, through both stacks over real HTTP: each stack's pipe (a
 * stream poller running the enrichment handler the AWS pipe invokes) publishes every domain
 * event of a command once, in the envelope docs/reference/event-bus.md documents (validated by
 * the exported schema), to in-process subscribers and to the JSON-lines log; old payloads
 * arrive upcast. The sample consumer handles a redelivered event once. And, without the runtime:
 * an oversized event is published without its payload; foreign and unreadable records.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DeleteTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import {
  BUS_ENVELOPE_VERSION,
  type BusEnvelope,
  busEntryBytes,
  busEntryOf,
  busEnvelopeSchema,
  busSourceOf,
  MAX_BUS_ENTRY_BYTES,
  toBusEntry,
  toBusEnvelope,
} from '../../lambdas/core/events/bus-envelope';
import { currentSchemaVersion } from '../../lambdas/core/events/event-codec';
import { UnreadableStreamRecordError } from '../../lambdas/handlers/bus-enrichment';
import {
  BUS_ENV,
  busEnrichmentHandlerFromEnv,
  sampleConsumerHandlerFromEnv,
} from '../../lambdas/handlers/bus-wiring';
import { ENV } from '../../lambdas/handlers/environment';
import { SAMPLE_CONSUMER_TABLE } from '../../lambdas/handlers/sample-consumer';
import type { BusEvent } from '../../local/emulators/event-bus';
import { lambdaContext } from '../../local/emulators/lambda-context';
import { localClient, testEndpoint } from '../support/dynamo';
import { testLogger } from '../support/logs';
import { streamRecord } from '../support/stream-events';
import { authHeaders, useLocalRuntime } from '../support/runtime';

const dir = mkdtempSync(join(tmpdir(), 'event-bus-'));
const eventLogFile = join(dir, 'events.jsonl');
const runtime = useLocalRuntime(`bus${process.pid}`, { eventLogFile });

const received: BusEvent[] = [];
let unsubscribe: () => void = () => undefined;
beforeAll(() => {
  unsubscribe = runtime.current.bus.subscribe((event) => received.push(event));
});
afterAll(() => {
  unsubscribe();
  rmSync(dir, { recursive: true, force: true });
});

const STACKS = ['decoupled', 'coupled'] as const;
const urlOf = (stack: (typeof STACKS)[number]) =>
  stack === 'decoupled' ? runtime.current.decoupledUrl! : runtime.current.coupledUrl!;

/** A command as `alice` (her own order: no admin rights involved), with a correlation id. */
const send = async (
  stack: (typeof STACKS)[number],
  body: unknown,
  correlationId: string,
): Promise<number> => {
  const response = await fetch(`${urlOf(stack)}/commands`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-correlation-id': correlationId,
      ...authHeaders(runtime.current, 'alice'),
    },
    body: JSON.stringify(body),
  });
  await response.body?.cancel();
  return response.status;
};

/** The stored events of an order, as `GET /orders/{id}/events` serves them. */
const storedEvents = async (stack: (typeof STACKS)[number], id: string) => {
  const response = await fetch(`${urlOf(stack)}/orders/${id}/events`, {
    headers: authHeaders(runtime.current),
  });
  const body = (await response.json()) as { events: Record<string, unknown>[] };
  return body.events;
};

/** The received events of one aggregate, in order of arrival. */
const eventsOf = (aggregateId: string) =>
  received.filter((event) => event.detail.aggregateId === aggregateId);

/** Waits until the bus delivered `count` events of the aggregate (or fails after 20 s). */
const waitForEvents = async (aggregateId: string, count: number): Promise<BusEvent[]> => {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (eventsOf(aggregateId).length >= count) return eventsOf(aggregateId);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `${aggregateId}: ${eventsOf(aggregateId).length} of ${count} events on the bus after 20 s`,
  );
};

describe.each(STACKS)('the %s stack', (stack) => {
  const id = `bus-${stack}-${randomUUID().slice(0, 8)}`;
  const correlationId = `corr-${stack}-${randomUUID().slice(0, 8)}`;

  test('given commands that make three events, when the pipe publishes them, then a subscriber receives each once, in the documented envelope', async () => {
    expect(
      await send(
        stack,
        { type: 'order/create', aggregateId: id, payload: { currency: 'EUR' } },
        correlationId,
      ),
    ).toBeLessThan(300);
    expect(
      await send(
        stack,
        {
          type: 'order/addLine',
          aggregateId: id,
          payload: { lineId: 'a', sku: 'SKU-1', quantity: 2, unitPrice: 1250 },
        },
        correlationId,
      ),
    ).toBeLessThan(300);
    // A third event behind them on the same shard: any redelivery of the first two would have
    // reached the bus before it.
    expect(
      await send(
        stack,
        { type: 'order/changeQuantity', aggregateId: id, payload: { lineId: 'a', quantity: 3 } },
        `${correlationId}-sentinel`,
      ),
    ).toBeLessThan(300);
    const events = await waitForEvents(id, 3);

    expect(events.map((event) => event.detail.version)).toEqual([1, 2, 3]);
    const stored = await storedEvents(stack, id);
    expect(events.map((event) => event.detail.eventId)).toEqual(stored.map((e) => e.eventId));
    for (const [index, event] of events.entries()) {
      // The envelope parses with the published schema, and nothing is left out of it.
      const envelope = busEnvelopeSchema.parse(event.detail);
      expect(envelope).toEqual(event.detail);
      const original = stored[index]!;
      expect(envelope).toEqual({
        envelopeVersion: BUS_ENVELOPE_VERSION,
        eventId: original.eventId,
        type: original.type,
        aggregateType: 'order',
        aggregateId: id,
        version: index + 1,
        occurredAt: original.occurredAt,
        correlationId: index < 2 ? correlationId : `${correlationId}-sentinel`,
        causationId: original.commandId,
        commandId: original.commandId,
        actor: 'alice',
        schemaVersion: currentSchemaVersion(original.type as string),
        payload: original.payload,
      });
      // EventBridge's fields: the stack's source, the type as detail-type, occurredAt as time.
      expect(event).toMatchObject({
        version: '0',
        source: busSourceOf(stack),
        'detail-type': original.type,
        time: original.occurredAt,
        resources: [],
      });
    }
    expect(events.map((e) => e.detail.payload)).toEqual([
      { customerId: 'alice', currency: 'EUR' },
      { lineId: 'a', sku: 'SKU-1', quantity: 2, unitPriceMinor: 1250 },
      { lineId: 'a', quantity: 3 },
    ]);
  });

  test('given events stored before the payload changed shape, when published, then they arrive upcast with the current schema version', async () => {
    const oldId = `bus-old-${stack}-${randomUUID().slice(0, 8)}`;
    const client = localClient();
    const item = (version: number, type: string, payload: object) => ({
      aggregateId: oldId,
      version,
      aggregateType: 'order',
      type,
      payload,
      eventId: `${oldId}-e${version}`,
      occurredAt: `2025-06-01T00:00:0${version}.000Z`,
      commandId: `${oldId}-c${version}`,
      commandHash: 'h',
      correlationId: 'old',
      causationId: `${oldId}-c${version}`,
    });
    try {
      // As code before schema versions and users wrote them: no schemaVersion, no actor.
      for (const stored of [
        item(1, 'order/created', { customerId: 'c-old', currency: 'EUR' }),
        item(2, 'order/lineAdded', { lineId: 'a', sku: 'A', quantity: 2, unitPrice: 1250 }),
      ]) {
        await client.send(
          new PutItemCommand({
            TableName: runtime.current.tables[stack]!.eventTable,
            Item: marshall(stored),
          }),
        );
      }
    } finally {
      client.destroy();
    }
    const [, lineAdded] = await waitForEvents(oldId, 2);
    expect(lineAdded!.detail).toMatchObject({
      type: 'order/lineAdded',
      actor: null,
      schemaVersion: 2,
      payload: { lineId: 'a', sku: 'A', quantity: 2, unitPriceMinor: 1250 },
    });
    expect(lineAdded!.detail.payload).not.toHaveProperty('unitPrice');
  });
});

test('given both stacks published, when the JSON-lines log is read, then it holds every delivered event once, in order', async () => {
  await runtime.current.bus.flush();
  const logged = readFileSync(eventLogFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as BusEvent);
  expect(logged.map((event) => event.detail.eventId)).toEqual(
    received.map((event) => event.detail.eventId),
  );
  expect(new Set(logged.map((event) => event.detail.eventId)).size).toBe(logged.length);
  expect(new Set(logged.map((event) => event.source))).toEqual(
    new Set(STACKS.map((stack) => busSourceOf(stack))),
  );
});

describe('the sample consumer', () => {
  const table = `sample-consumer-${randomUUID().slice(0, 8)}`;
  const client = localClient();
  beforeAll(() =>
    client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: SAMPLE_CONSUMER_TABLE.partitionKey, AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: SAMPLE_CONSUMER_TABLE.partitionKey, KeyType: 'HASH' }],
      }),
    ),
  );
  afterAll(async () => {
    await client.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    client.destroy();
  });

  test('given the same domain event delivered twice (two EventBridge ids), when consumed, then it is handled once and both answers agree', async () => {
    const handled: BusEnvelope[] = [];
    const consume = sampleConsumerHandlerFromEnv(
      {
        [BUS_ENV.idempotencyTable]: table,
        [ENV.dynamoDbEndpoint]: testEndpoint(),
        AWS_REGION: 'local',
      },
      { logger: testLogger(), onEvent: async (envelope) => void handled.push(envelope) },
    );
    const event = received[0];
    const first = await consume(event!, lambdaContext('sample-consumer'));
    const again = await consume({ ...event!, id: randomUUID() }, lambdaContext('sample-consumer'));
    expect(first).toEqual({ outcome: 'handled', eventId: event!.detail.eventId });
    expect(again).toEqual(first);
    expect(handled.map((envelope) => envelope.eventId)).toEqual([event!.detail.eventId]);
  });

  test('given an event that is no version 1 envelope, when consumed, then it is skipped with the reason and nothing is handled', async () => {
    const handled: BusEnvelope[] = [];
    const consume = sampleConsumerHandlerFromEnv(
      {
        [BUS_ENV.idempotencyTable]: table,
        [ENV.dynamoDbEndpoint]: testEndpoint(),
        AWS_REGION: 'local',
      },
      { logger: testLogger(), onEvent: async (envelope) => void handled.push(envelope) },
    );
    const [event] = received;
    const detail = { ...event!.detail, eventId: randomUUID(), envelopeVersion: 2 };
    const result = await consume(
      { ...event!, id: randomUUID(), detail: detail as unknown as BusEnvelope },
      lambdaContext('sample-consumer'),
    );
    expect(result).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringContaining('envelopeVersion'),
    });
    expect(handled).toEqual([]);
  });
});

describe('the envelope and the enrichment, without the runtime', () => {
  const source = busSourceOf('decoupled');
  const stored = (payload: Record<string, unknown>, overrides: Record<string, unknown> = {}) => ({
    aggregateId: 'order-big',
    version: 1,
    aggregateType: 'order',
    type: 'order/created',
    payload,
    eventId: 'e-big',
    occurredAt: '2026-12-06T10:00:00.000Z',
    commandId: 'c-big',
    commandHash: 'h',
    correlationId: 'corr-big',
    causationId: 'c-big',
    actor: 'alice',
    schemaVersion: 1,
    ...overrides,
  });
  const enrich = busEnrichmentHandlerFromEnv(
    { [BUS_ENV.source]: source },
    { logger: testLogger() },
  );

  test('given an event whose entry would exceed 256 KB, when enveloped, then the payload is left out and flagged, and the entry fits', () => {
    const payload = { customerId: 'x'.repeat(MAX_BUS_ENTRY_BYTES), currency: 'EUR' };
    const envelope = toBusEnvelope(stored(payload), source);
    expect(envelope.payload).toBeUndefined();
    expect(envelope.payloadOmitted).toEqual({
      reason: 'too-large',
      payloadBytes: JSON.stringify(payload).length,
    });
    expect(busEnvelopeSchema.parse(envelope)).toEqual(envelope);
    expect(busEntryBytes(busEntryOf(envelope, source))).toBeLessThanOrEqual(MAX_BUS_ENTRY_BYTES);
  });

  test('given an event whose entry is exactly at the limit, when enveloped, then it keeps its payload', () => {
    const base = busEntryBytes(toBusEntry(stored({ customerId: '', currency: 'EUR' }), source));
    const fits = { customerId: 'x'.repeat(MAX_BUS_ENTRY_BYTES - base), currency: 'EUR' };
    const entry = toBusEntry(stored(fits), source);
    expect(busEntryBytes(entry)).toBe(MAX_BUS_ENTRY_BYTES);
    expect((JSON.parse(entry.Detail) as BusEnvelope).payload).toEqual(fits);
    const over = { customerId: 'x'.repeat(MAX_BUS_ENTRY_BYTES - base + 1), currency: 'EUR' };
    expect(toBusEnvelope(stored(over), source).payloadOmitted).toBeDefined();
  });

  test('given an envelope with both or neither of payload and payloadOmitted, when parsed, then the schema refuses it', () => {
    const envelope = toBusEnvelope(stored({ customerId: 'c', currency: 'EUR' }), source);
    expect(busEnvelopeSchema.safeParse(envelope).success).toBe(true);
    const { payload: _payload, ...neither } = envelope;
    expect(busEnvelopeSchema.safeParse(neither).success).toBe(false);
    const both = { ...envelope, payloadOmitted: { reason: 'too-large', payloadBytes: 1 } };
    expect(busEnvelopeSchema.safeParse(both).success).toBe(false);
    // A field added within version 1 is accepted (and left out of what the schema returns).
    expect(busEnvelopeSchema.parse({ ...envelope, addedLater: true })).toEqual(envelope);
  });

  test('given a batch with a foreign event and a MODIFY, when enriched, then only the domain event is published', async () => {
    const own = streamRecord(stored({ customerId: 'c', currency: 'EUR' }));
    const foreign = streamRecord(
      stored({ anything: 1 }, { aggregateType: 'invoice', type: 'invoice/raised', version: 2 }),
    );
    const modify = {
      ...streamRecord(stored({ customerId: 'c', currency: 'EUR' })),
      eventName: 'MODIFY' as const,
    };
    const envelopes = await enrich([own, foreign, modify]);
    expect(envelopes.map((e) => [e.type, e.eventId])).toEqual([['order/created', 'e-big']]);
  });

  test('given a record the codec cannot read, when enriched, then the invocation fails (the pipe retries, then dead-letters it)', async () => {
    const unreadable = streamRecord(
      stored({ customerId: 'c', currency: 'EUR' }, { occurredAt: 'yesterday' }),
    );
    await expect(enrich([unreadable])).rejects.toThrow(UnreadableStreamRecordError);
  });
});
