/**
 * The demo app's own slice (web/demo-state.ts): the activity list it keeps across reloads, and
 * the aggregates the server lost. Pure reducer, fed the client's actions.
 */
import type { UnknownAction } from 'redux';
import {
  ACTIVITY_LIMIT,
  aggregateGone,
  type DemoState,
  demoReducer,
  initialDemoState,
  issueFor,
  lastRejection,
  restoreActivity,
} from '../../web/demo-state';

const queued = (commandId: string, aggregateId = 'order-1', type = 'order/addLine') =>
  ({
    type: 'command/queued',
    payload: {
      commandId,
      seq: 1,
      aggregateId,
      type,
      payload: {},
      issuedAt: '2026-01-01T00:00:00.000Z',
      attempts: 0,
    },
  }) as UnknownAction;

const rejected = (commandId: string, code: string, details: Record<string, unknown> = {}) =>
  ({
    type: 'command/rejected',
    payload: {
      commandId,
      aggregateId: 'order-1',
      status: code === 'NOT_FOUND' ? 404 : 400,
      code,
      message: code === 'NOT_FOUND' ? 'Order order-1 does not exist' : 'Invalid payload',
      details,
      conflict: false,
    },
  }) as UnknownAction;

const run = (actions: UnknownAction[], from: DemoState = initialDemoState) =>
  actions.reduce(demoReducer, from);

describe('the demo activity', () => {
  test('given a queued command, when it is rejected for validation, then its field messages are kept', () => {
    const state = run([
      queued('c1'),
      rejected('c1', 'VALIDATION_FAILED', {
        issues: [{ path: 'payload.quantity', message: 'must be at most 10000' }],
      }),
    ]);
    expect(state.activity[0]).toMatchObject({ commandId: 'c1', state: 'rejected' });
    const rejection = lastRejection(state.activity, 'order-1');
    expect(issueFor(rejection, 'quantity')).toBe('must be at most 10000');
    expect(issueFor(rejection, 'sku')).toBeUndefined();
  });

  test('given a rejection, when a later command of the aggregate is confirmed, then it is no longer the last answer', () => {
    const state = run([
      queued('c1'),
      rejected('c1', 'VALIDATION_FAILED'),
      queued('c2'),
      {
        type: 'command/confirmed',
        payload: {
          commandId: 'c2',
          aggregateId: 'order-1',
          version: 2,
          events: [],
          replayed: false,
        },
      },
    ]);
    expect(lastRejection(state.activity, 'order-1')).toBeUndefined();
    expect(state.activity.map((e) => e.state)).toEqual(['confirmed', 'rejected']);
  });

  test(`given more than ${ACTIVITY_LIMIT} commands, then only the newest ${ACTIVITY_LIMIT} are kept, newest first`, () => {
    const ids = Array.from({ length: ACTIVITY_LIMIT + 5 }, (_, i) => `c${i}`);
    const state = run(ids.map((id) => queued(id)));
    expect(state.activity).toHaveLength(ACTIVITY_LIMIT);
    expect(state.activity[0]!.commandId).toBe(`c${ACTIVITY_LIMIT + 4}`);
  });

  test('given pending commands restored from a reload, when the outbox no longer has one, then it shows as settled elsewhere', () => {
    const saved = restoreActivity(
      JSON.parse(JSON.stringify(run([queued('c1'), queued('c2')]).activity)),
    );
    const state = run([{ type: 'outbox/restored', payload: { entries: [{ commandId: 'c2' }] } }], {
      ...initialDemoState,
      activity: saved,
    });
    expect(state.activity.map((e) => [e.commandId, e.state])).toEqual([
      ['c2', 'pending'],
      ['c1', 'elsewhere'],
    ]);
  });

  test('given stored junk, when restored, then nothing unreadable is kept', () => {
    expect(restoreActivity({ not: 'a list' })).toEqual([]);
    expect(restoreActivity([null, { commandId: 'c1' }, 3])).toEqual([]);
  });
});

describe('aggregates the server lost', () => {
  test('given a command for an aggregate the server does not have, when it is rejected NOT_FOUND, then the aggregate is gone', () => {
    const state = run([queued('c1'), rejected('c1', 'NOT_FOUND')]);
    expect(state.gone['order-1']).toBe('Order order-1 does not exist');
  });

  test('given a validation rejection, then the aggregate is not gone', () => {
    expect(run([queued('c1'), rejected('c1', 'VALIDATION_FAILED')]).gone).toEqual({});
  });

  test('given a gone aggregate, when the server shows it again, then it is no longer gone', () => {
    const gone = run([aggregateGone('order-1', 'it has no events any more')]);
    expect(gone.gone['order-1']).toBeDefined();
    const deletedView = run(
      [{ type: 'view/loaded', payload: { id: 'order-1', version: 3, view: null } }],
      gone,
    );
    expect(deletedView.gone['order-1']).toBeDefined();
    const back = run(
      [{ type: 'view/pushed', payload: { id: 'order-1', version: 1, view: { id: 'order-1' } } }],
      gone,
    );
    expect(back.gone).toEqual({});
  });
});
