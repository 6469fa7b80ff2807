/** The command client's send and settle decisions (client/send-policy.ts): one rule, one sentence each. */
import type { StoredEvent } from '../../lambdas/core/events/events';
import { ApiError, NetworkError } from '../../client/api';
import {
  aggregatesToStart,
  confirmationOf,
  mergeRestored,
  nextSeq,
  nextToSend,
  notStoredOf,
  onlineAfterFailure,
  outcomeOf,
  rejectionOf,
  requestOf,
  rereadAfterConfirmation,
  unknownOf,
} from '../../client/send-policy';
import type { OutboxEntry } from '../../client/state';

const T0 = '2026-12-05T10:00:00.000Z';
const entry = (
  commandId: string,
  aggregateId: string,
  extra: Partial<OutboxEntry> = {},
): OutboxEntry => ({
  commandId,
  seq: Number(commandId.slice(1)),
  aggregateId,
  type: 'order/addLine',
  payload: {} as OutboxEntry['payload'],
  issuedAt: T0,
  attempts: 0,
  ...extra,
});
const event = (version: number, type: string, payload: object): StoredEvent => ({
  aggregateId: 'o1',
  version,
  aggregateType: 'order',
  type,
  payload,
  eventId: `e${version}`,
  occurredAt: T0,
  commandId: `c${version}`,
  commandHash: 'h',
  correlationId: 'k',
  causationId: `c${version}`,
});
const created = event(1, 'order/created', { customerId: 'cu', currency: 'EUR' });
const lineAdded = event(2, 'order/lineAdded', {
  lineId: 'a',
  sku: 'sku',
  quantity: 1,
  unitPrice: 100,
});
const answer = (version: number, events: StoredEvent[], extra: object = {}) => ({
  commandId: 'c9',
  aggregateId: 'o1',
  version,
  events,
  replayed: false,
  ...extra,
});

describe('what to send next', () => {
  const outbox = [entry('c1', 'o1'), entry('c2', 'o2'), entry('c3', 'o1')];

  test('the head of an aggregate’s outbox is sent once its record is written', () => {
    expect(nextToSend(outbox, 'o1', new Set(['c1', 'c3']))).toBe(outbox[0]);
  });

  test('a head whose record is still being written is not sent, nor anything behind it', () => {
    expect(nextToSend(outbox, 'o1', new Set(['c3']))).toBeUndefined();
  });

  test('another aggregate’s commands never hold an aggregate back', () => {
    expect(nextToSend(outbox, 'o2', new Set(['c2']))).toBe(outbox[1]);
  });

  test('an aggregate with nothing pending sends nothing', () => {
    expect(nextToSend(outbox, 'o3', new Set(['c1', 'c2', 'c3']))).toBeUndefined();
  });

  test('each aggregate with a written command starts one send loop, in outbox order', () => {
    expect(aggregatesToStart(outbox, new Set(['c1', 'c2', 'c3']), new Set())).toEqual(['o1', 'o2']);
  });

  test('an aggregate whose loop is running starts no other: one send in flight per aggregate', () => {
    expect(aggregatesToStart(outbox, new Set(['c1', 'c2', 'c3']), new Map([['o1', 0]]))).toEqual([
      'o2',
    ]);
  });

  test('an aggregate whose commands are all still being written starts no loop', () => {
    expect(aggregatesToStart(outbox, new Set(['c2']), new Set())).toEqual(['o2']);
  });

  test('a written command behind one still being written waits for it: no loop starts', () => {
    expect(aggregatesToStart(outbox, new Set(['c2', 'c3']), new Set())).toEqual(['o2']);
  });

  test('a send carries the commandId, and expectedVersion only when the command has one', () => {
    expect(requestOf(entry('c1', 'o1'))).toEqual({
      type: 'order/addLine',
      aggregateId: 'o1',
      payload: {},
      commandId: 'c1',
    });
    expect(requestOf(entry('c1', 'o1', { expectedVersion: 3 }))).toMatchObject({
      expectedVersion: 3,
    });
  });

  test('the dispatch order follows the clock in µs, and grows by one when the clock has not', () => {
    expect(nextSeq(0, 1000)).toBe(1_000_000);
    expect(nextSeq(1_000_000, 1000)).toBe(1_000_001);
    expect(nextSeq(2_000_000, 1000)).toBe(2_000_001);
  });
});

describe('the outbox after reading storage', () => {
  test('a command settled elsewhere (written here, gone from storage) leaves', () => {
    expect(mergeRestored([], [entry('c1', 'o1')], new Set(['c1']))).toEqual([]);
  });

  test('a command another tab queued joins', () => {
    const theirs = entry('c2', 'o1');
    expect(mergeRestored([theirs], [], new Set())).toEqual([theirs]);
  });

  test('a command this client is still writing (not stored yet) is kept', () => {
    const writing = entry('c3', 'o1');
    expect(mergeRestored([entry('c1', 'o1')], [writing], new Set(['c1']))).toEqual([
      entry('c1', 'o1'),
      writing,
    ]);
  });

  test('the stored record wins over the copy in memory', () => {
    const stored = entry('c1', 'o1', { attempts: 2 });
    expect(mergeRestored([stored], [entry('c1', 'o1')], new Set())).toEqual([stored]);
  });
});

describe('what a settled answer means', () => {
  test('a confirmation carries the answer’s events, and the row only when the answer has one', () => {
    const decoupled = { status: 202, aggregateId: 'o1', retries: 0, replayed: false };
    expect(
      confirmationOf(entry('c1', 'o1'), { ...decoupled, version: 1, events: [created] }).payload,
    ).toEqual({
      commandId: 'c1',
      aggregateId: 'o1',
      version: 1,
      events: [created],
      replayed: false,
    });
    expect(
      confirmationOf(entry('c1', 'o1'), { ...decoupled, version: 1, events: [], view: null })
        .payload,
    ).toMatchObject({ view: null });
  });

  test('a 409 VERSION_CONFLICT is a conflict only for a command sent with expectedVersion', () => {
    const conflict = new ApiError(409, 'VERSION_CONFLICT', 'changed');
    expect(rejectionOf(entry('c1', 'o1', { expectedVersion: 2 }), conflict).payload).toMatchObject({
      status: 409,
      code: 'VERSION_CONFLICT',
      conflict: true,
    });
    expect(rejectionOf(entry('c1', 'o1'), conflict).payload.conflict).toBe(false);
    expect(
      rejectionOf(
        entry('c1', 'o1', { expectedVersion: 2 }),
        new ApiError(422, 'RULE_VIOLATED', 'no'),
      ).payload.conflict,
    ).toBe(false);
  });

  test('a command whose record could not be written is rejected, never sent', () => {
    expect(notStoredOf(entry('c1', 'o1'), new Error('quota')).payload).toEqual({
      commandId: 'c1',
      aggregateId: 'o1',
      status: 0,
      code: 'INTERNAL',
      message: 'The outbox could not store the command: Error: quota',
      details: {},
      conflict: false,
    });
  });

  test('the dispatch settles with the outcome of the action every tab applies', () => {
    const confirmed = confirmationOf(entry('c1', 'o1'), {
      status: 202,
      aggregateId: 'o1',
      version: 4,
      events: [],
      replayed: true,
      retries: 0,
    });
    expect(outcomeOf(confirmed)).toEqual({
      state: 'confirmed',
      commandId: 'c1',
      aggregateId: 'o1',
      version: 4,
      replayed: true,
    });
    expect(outcomeOf(rejectionOf(entry('c1', 'o1'), new ApiError(404, 'NOT_FOUND', 'no')))).toEqual(
      {
        state: 'rejected',
        commandId: 'c1',
        aggregateId: 'o1',
        status: 404,
        code: 'NOT_FOUND',
        message: 'no',
        details: {},
        conflict: false,
      },
    );
    expect(outcomeOf(unknownOf(entry('c1', 'o1')))).toEqual({
      state: 'unknown',
      commandId: 'c1',
      aggregateId: 'o1',
    });
  });

  test('events that follow what is known are folded: nothing to re-read', () => {
    const known = { version: 1, view: null };
    expect(rereadAfterConfirmation(known, answer(2, [lineAdded]), undefined)).toBeUndefined();
  });

  test('a row in the answer (coupled) is taken as is: nothing to re-read', () => {
    expect(
      rereadAfterConfirmation(undefined, answer(2, [lineAdded], { view: null }), undefined),
    ).toBeUndefined();
  });

  test('an answer at or below what is known changes nothing: nothing to re-read', () => {
    expect(
      rereadAfterConfirmation({ version: 5, view: null }, answer(2, [lineAdded]), undefined),
    ).toBeUndefined();
  });

  test('events after a gap are not folded: the aggregate they name is re-read', () => {
    expect(rereadAfterConfirmation(undefined, answer(2, [lineAdded]), undefined)).toMatchObject({
      collection: 'orders',
    });
  });

  test('a replay without events above what is known re-reads the aggregate its command names', () => {
    expect(rereadAfterConfirmation(undefined, answer(3, []), 'shoppingList/rename')).toMatchObject({
      collection: 'shopping-lists',
    });
  });
});

describe('what a failed send says about the connection', () => {
  test('no answer means offline', () => {
    expect(onlineAfterFailure(new NetworkError('network', 'down'))).toBe(false);
  });

  test('any answer, a 5xx too, means online', () => {
    expect(onlineAfterFailure(new ApiError(503, 'GATEWAY_ERROR', 'busy'))).toBe(true);
  });

  test('another failure (a signing hook, say) says nothing', () => {
    expect(onlineAfterFailure(new Error('no credentials'))).toBeUndefined();
  });
});
