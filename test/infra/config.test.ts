import { App } from 'aws-cdk-lib';
import { DEFAULT_THROTTLE, readOptions } from '../../lib/config';

const optionsOf = (context: Record<string, unknown>) => readOptions(new App({ context }));

it('defaults: retained, IAM-authorized, untraced, 100/200 throttling', () => {
  expect(optionsOf({})).toEqual({
    disposable: false,
    openApi: false,
    tracing: false,
    throttle: DEFAULT_THROTTLE,
  });
  expect(DEFAULT_THROTTLE).toEqual({ rateLimit: 100, burstLimit: 200 });
});

it('reads CLI strings and real values alike', () => {
  expect(
    optionsOf({
      disposable: 'true',
      openApi: true,
      tracing: 'false',
      throttleRate: '25.5',
      throttleBurst: 50,
    }),
  ).toEqual({
    disposable: true,
    openApi: true,
    tracing: false,
    throttle: { rateLimit: 25.5, burstLimit: 50 },
  });
});

it.each([
  [{ disposable: 'yes' }, /disposable must be true or false/],
  [{ openApi: 1 }, /openApi must be true or false/],
  [{ throttleRate: '0' }, /throttleRate must be a positive number/],
  [{ throttleBurst: 'lots' }, /throttleBurst must be a positive integer/],
  [{ throttleBurst: '2.5' }, /throttleBurst must be a positive integer/],
  [{ throttleRate: true }, /throttleRate must be a positive number/],
])('rejects %j instead of guessing', (context, message) => {
  expect(() => optionsOf(context)).toThrow(message);
});
