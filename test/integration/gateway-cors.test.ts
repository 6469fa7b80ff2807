/**
 * CORS in the local gateway, over real HTTP, as API Gateway's `corsPreflight` answers it:
 * preflights answered by the gateway itself, and the allow/expose headers on every answer to an
 * allowed origin (handler results, errors, 404s, gateway errors), none for other origins.
 */
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { type RunningGateway, startGateway } from '../../local/emulators/gateway';

const APP = 'http://127.0.0.1:3000';
let gateway: RunningGateway;
let open: RunningGateway;
let calls = 0;

const start = (allowOrigins?: string[]) =>
  startGateway({
    host: '127.0.0.1',
    port: 0,
    ...(allowOrigins && { cors: { allowOrigins } }),
    targetFor: (route) => ({
      functionName: `fn-${route.decoupled}`,
      handler: async (event): Promise<APIGatewayProxyResultV2> => {
        calls++;
        if (event.rawPath === '/orders/boom') throw new Error('handler failure');
        if (event.rawPath === '/orders/rule') {
          return {
            statusCode: 422,
            headers: { 'content-type': 'application/json', 'x-correlation-id': 'c-1' },
            body: JSON.stringify({ error: { code: 'RULE', message: 'no', details: {} } }),
          };
        }
        return {
          statusCode: 200,
          headers: { 'x-correlation-id': 'c-1', 'x-command-replayed': 'false' },
          body: '{}',
        };
      },
    }),
  });

beforeAll(async () => {
  // The throwing handler is logged by the gateway; keep the test output quiet.
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  gateway = await start();
  open = await start(['*']);
});
afterAll(async () => {
  await gateway.close();
  await open.close();
});
beforeEach(() => {
  calls = 0;
});

const preflight = (url: string, origin: string, method = 'POST') =>
  fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'content-type,x-correlation-id',
    },
  });

test('a preflight from the demo app is answered 204 by the gateway, without calling a function', async () => {
  const response = await preflight(`${gateway.url}/commands`, APP);
  expect(response.status).toBe(204);
  expect(response.headers.get('access-control-allow-origin')).toBe(APP);
  expect(response.headers.get('access-control-allow-methods')).toBe('POST,GET');
  expect(response.headers.get('access-control-allow-headers')?.split(',')).toEqual(
    expect.arrayContaining([
      'content-type',
      'x-correlation-id',
      'authorization',
      'x-amz-date',
      'x-amz-security-token',
      'x-amz-content-sha256',
    ]),
  );
  expect(response.headers.get('access-control-max-age')).toBe('600');
  expect(response.headers.get('vary')).toMatch(/origin/i);
  expect(calls).toBe(0);
});

test('a preflight is answered on any path, as API Gateway does (no route needed)', async () => {
  const response = await preflight(`${gateway.url}/no/such/route`, 'http://localhost:3000');
  expect(response.status).toBe(204);
  expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
});

test('a preflight from another origin gets no CORS headers (the browser then refuses)', async () => {
  const response = await preflight(`${gateway.url}/commands`, 'https://evil.example');
  expect(response.status).toBe(204);
  expect(response.headers.get('access-control-allow-origin')).toBeNull();
  expect(response.headers.get('access-control-allow-methods')).toBeNull();
});

test.each([
  ['a handler answer', '/orders/o-1', 200],
  ['a rule violation', '/orders/rule', 422],
  ['a function that throws', '/orders/boom', 500],
  // Four segments: no route has as many (`/nope` would be a collection's list).
  ['an unknown route', '/no/route/has/this', 404],
])('%s carries allow-origin and the exposed headers', async (_what, path, status) => {
  const response = await fetch(`${gateway.url}${path}`, { headers: { origin: APP } });
  expect(response.status).toBe(status);
  expect(response.headers.get('access-control-allow-origin')).toBe(APP);
  expect(response.headers.get('access-control-expose-headers')).toBe(
    'x-correlation-id,x-command-replayed,x-command-retries',
  );
});

test('an answer without Origin, or to another origin, has no CORS headers', async () => {
  const cases: Record<string, string>[] = [{}, { origin: 'https://evil.example' }];
  for (const headers of cases) {
    const response = await fetch(`${gateway.url}/orders/o-1`, { headers });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-expose-headers')).toBeNull();
  }
});

test('an OPTIONS that is not a preflight is routed like any method (404 here)', async () => {
  const response = await fetch(`${gateway.url}/commands`, {
    method: 'OPTIONS',
    headers: { origin: APP },
  });
  expect(response.status).toBe(404);
  expect(response.headers.get('access-control-allow-origin')).toBe(APP);
});

test('allowOrigins ["*"] allows any page with "*"', async () => {
  const response = await preflight(`${open.url}/commands`, 'https://any.example');
  expect(response.headers.get('access-control-allow-origin')).toBe('*');
  const answer = await fetch(`${open.url}/orders/o-1`, {
    headers: { origin: 'https://any.example' },
  });
  expect(answer.headers.get('access-control-allow-origin')).toBe('*');
});
