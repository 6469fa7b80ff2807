import { App } from 'aws-cdk-lib';
import { DEFAULT_CORS_ORIGINS } from '../../lambdas/handlers/cors';
import { DEFAULT_THROTTLE, readOptions } from '../../lib/config';

const optionsOf = (context: Record<string, unknown>) => readOptions(new App({ context }));

it('defaults: retained, IAM-authorized, untraced, 100/200 throttling', () => {
  expect(optionsOf({})).toEqual({
    disposable: false,
    openApi: false,
    tracing: false,
    throttle: DEFAULT_THROTTLE,
    corsOrigins: DEFAULT_CORS_ORIGINS,
    snapshotEvery: 100,
  });
  expect(DEFAULT_CORS_ORIGINS).toEqual(['http://localhost:3000', 'http://127.0.0.1:3000']);
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
    corsOrigins: DEFAULT_CORS_ORIGINS,
    snapshotEvery: 100,
  });
});

it.each([
  [{ disposable: 'yes' }, /disposable must be true or false/],
  [{ openApi: 1 }, /openApi must be true or false/],
  [{ throttleRate: '0' }, /throttleRate must be a positive number/],
  [{ throttleBurst: 'lots' }, /throttleBurst must be a positive integer/],
  [{ throttleBurst: '2.5' }, /throttleBurst must be a positive integer/],
  [{ throttleRate: true }, /throttleRate must be a positive number/],
  [{ corsOrigins: 'https://app.example.com/' }, /corsOrigins: .* is not an origin/],
  [{ corsOrigins: 'app.example.com' }, /corsOrigins: .* is not an origin/],
  [{ corsOrigins: '*,https://a.example.com' }, /'\*' cannot be combined/],
  [{ corsOrigins: ' , ' }, /corsOrigins must name at least one origin/],
  [{ corsOrigins: 42 }, /corsOrigins must be a comma-separated list/],
  [{ snapshotEvery: '0' }, /snapshotEvery must be a positive integer/],
  [{ snapshotEvery: '12.5' }, /snapshotEvery must be a positive integer/],
])('rejects %j instead of guessing', (context, message) => {
  expect(() => optionsOf(context)).toThrow(message);
});

it('reads -c corsOrigins as a comma-separated list of origins, or * alone', () => {
  expect(
    optionsOf({ corsOrigins: 'https://app.example.com, http://localhost:5173' }).corsOrigins,
  ).toEqual(['https://app.example.com', 'http://localhost:5173']);
  expect(optionsOf({ corsOrigins: '*' }).corsOrigins).toEqual(['*']);
});

it('-c servedProjectionVersions is checked against the deployment at synthesis', () => {
  expect(optionsOf({ servedProjectionVersions: 'customer-summary=1' })).toMatchObject({
    servedProjectionVersions: 'customer-summary=1',
  });
  expect(() => optionsOf({ servedProjectionVersions: 'customer-summary=7' })).toThrow(
    /customer-summary v7 is not in this deployment/,
  );
});
