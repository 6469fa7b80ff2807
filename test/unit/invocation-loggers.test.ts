/**
 * Child loggers reused from invocation to invocation (lambdas/handlers/invocation-loggers.ts):
 * cheaper than a new child each time, and still one child per running invocation, with no key,
 * context or level carried over from an earlier one.
 */
import type { Context } from 'aws-lambda';
import { withHttpEdge } from '../../lambdas/handlers/http-edge';
import { json } from '../../lambdas/handlers/http';
import { createInvocationLoggers } from '../../lambdas/handlers/invocation-loggers';
import { command } from '../support/http-events';
import { captureLogs, testLogger } from '../support/logs';

const context = (requestId: string) =>
  ({
    awsRequestId: requestId,
    functionName: 'f',
    functionVersion: '1',
    invokedFunctionArn: 'arn:aws:lambda:local:0:function:f',
    memoryLimitInMB: '128',
    getRemainingTimeInMillis: () => 10_000,
  }) as Context;

test('sequential invocations reuse one child; concurrent ones each get their own', () => {
  const parent = testLogger('pool');
  const createChild = jest.spyOn(parent, 'createChild');
  const loggers = createInvocationLoggers(parent);
  for (let i = 0; i < 5; i++) loggers.release(loggers.acquire(context(`r${i}`)), context(`r${i}`));
  expect(createChild).toHaveBeenCalledTimes(1);
  const [a, b] = [loggers.acquire(context('a')), loggers.acquire(context('b'))];
  expect(a).not.toBe(b);
  expect(createChild).toHaveBeenCalledTimes(2);
});

test('an invocation sees none of the keys, context or level of the one before', async () => {
  const parent = testLogger('pool');
  let calls = 0;
  const handler = withHttpEdge({ logger: parent }, async (_event, _id, log) => {
    calls++;
    if (calls === 1) log.appendKeys({ leftover: 'from the first invocation' });
    log.info('hello', { call: calls });
    return json(200, {});
  });
  const { lines } = await captureLogs(async () => {
    await handler(command({}, { 'x-correlation-id': 'first' }), context('req-1'));
    await handler(command({}, { 'x-correlation-id': 'second' }));
    await handler(command({}, { 'x-correlation-id': 'third' }), context('req-3'));
  });
  const hello = lines.filter((l) => l.message === 'hello');
  expect(hello.map((l) => [l.correlationId, l.function_request_id, l.leftover])).toEqual([
    ['first', 'req-1', 'from the first invocation'],
    ['second', undefined, undefined],
    ['third', 'req-3', undefined],
  ]);
  // The parent is SILENT again outside captureLogs: a reused child follows it.
  const silent = await captureLogs(async () => {
    parent.setLogLevel('SILENT');
    await handler(command({}, { 'x-correlation-id': 'fourth' }), context('req-4'));
  });
  expect(silent.lines.filter((l) => l.message === 'hello')).toEqual([]);
});

test('a malformed correlation id still gets an id of its own on the error line and answer', async () => {
  const parent = testLogger('pool');
  const handler = withHttpEdge({ logger: parent }, () => Promise.resolve(json(200, {})));
  const result = await handler(command({}, { 'x-correlation-id': 'bad id!' }));
  expect(result.statusCode).toBe(400);
  expect(result.headers?.['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
});
