/**
 * The local gateway on its own, over real HTTP, with handlers that answer in each shape API
 * Gateway accepts from a payload 2.0 integration: the event it builds, and how it maps results.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { type RunningGateway, startGateway } from '../../local/gateway';

let gateway: RunningGateway;
let events: APIGatewayProxyEventV2[] = [];
let answer: (event: APIGatewayProxyEventV2) => APIGatewayProxyResultV2 = () => ({
  statusCode: 204,
});

beforeAll(async () => {
  gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    targetFor: (route) => ({
      functionName: `fn-${route.decoupled}`,
      handler: async (event, context) => {
        events.push(event);
        expect(context.functionName).toBe(`fn-${route.decoupled}`);
        if (event.rawPath === '/orders/boom') throw new Error('handler failure');
        return answer(event);
      },
    }),
  });
});
afterAll(() => gateway.close());
beforeEach(() => {
  events = [];
});

test('builds the payload 2.0 event: route key, path parameters, query, cookies, headers, body', async () => {
  const response = await fetch(`${gateway.url}/orders/order%2042/history?version=3&tag=a&tag=b`, {
    headers: { cookie: 'session=abc; theme=dark', 'x-correlation-id': 'gw-1' },
  });
  expect(response.status).toBe(204);
  const [event] = events;
  expect(event).toMatchObject({
    version: '2.0',
    routeKey: 'GET /orders/{id}/history',
    rawPath: '/orders/order%2042/history',
    rawQueryString: 'version=3&tag=a&tag=b',
    cookies: ['session=abc', 'theme=dark'],
    pathParameters: { id: 'order 42' },
    // Repeated query parameters are joined with commas, as API Gateway does.
    queryStringParameters: { version: '3', tag: 'a,b' },
    isBase64Encoded: false,
    requestContext: {
      http: { method: 'GET', path: '/orders/order%2042/history' },
      routeKey: 'GET /orders/{id}/history',
      stage: '$default',
    },
  });
  expect(event!.headers['x-correlation-id']).toBe('gw-1');
  expect(event!.headers.cookie).toBeUndefined();
  expect(event!.requestContext.time).toMatch(
    /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/,
  );

  await fetch(`${gateway.url}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from([0xff, 0x00, 0x7f]),
  });
  expect(events[1]).toMatchObject({ body: '/wB/', isBase64Encoded: true });
  await fetch(`${gateway.url}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: '{"a":"é"}',
  });
  expect(events[2]).toMatchObject({ body: '{"a":"é"}', isBase64Encoded: false });
});

test('maps structured results: status, headers, cookies, base64 bodies', async () => {
  answer = () => ({
    statusCode: 201,
    headers: { 'X-Custom': 'yes' },
    cookies: ['a=1; Path=/', 'b=2'],
    body: Buffer.from('binary!').toString('base64'),
    isBase64Encoded: true,
  });
  const response = await fetch(`${gateway.url}/orders/x`);
  expect(response.status).toBe(201);
  expect(response.headers.get('x-custom')).toBe('yes');
  expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2']);
  expect(await response.text()).toBe('binary!');
});

test('a result without statusCode is a 200 JSON answer, as API Gateway infers it', async () => {
  answer = () => ({ hello: 'world' }) as unknown as APIGatewayProxyResultV2;
  const object = await fetch(`${gateway.url}/orders/x`);
  expect(object.status).toBe(200);
  expect(object.headers.get('content-type')).toBe('application/json');
  expect(await object.json()).toEqual({ hello: 'world' });

  answer = () => 'plain string';
  const text = await fetch(`${gateway.url}/orders/x`);
  expect(text.status).toBe(200);
  expect(await text.text()).toBe('plain string');
});

test('a throwing handler is a 500 Internal Server Error, as from Lambda', async () => {
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const response = await fetch(`${gateway.url}/orders/boom`);
  expect(response.status).toBe(500);
  expect(await response.json()).toEqual({ message: 'Internal Server Error' });
  expect(spy).toHaveBeenCalled();
  spy.mockRestore();
});
