/**
 * The local gateway on its own, over real HTTP, with handlers that answer in each shape API
 * Gateway accepts from a payload 2.0 integration: the event it builds, and how it maps results.
 */
import { connect } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import {
  MAX_INVOKE_PAYLOAD_BYTES,
  type RunningGateway,
  startGateway,
} from '../../local/emulators/gateway';

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
    routeKey: 'GET /{collection}/{id}/history',
    rawPath: '/orders/order%2042/history',
    rawQueryString: 'version=3&tag=a&tag=b',
    cookies: ['session=abc', 'theme=dark'],
    pathParameters: { collection: 'orders', id: 'order 42' },
    // Repeated query parameters are joined with commas, as API Gateway does.
    queryStringParameters: { version: '3', tag: 'a,b' },
    isBase64Encoded: false,
    requestContext: {
      http: { method: 'GET', path: '/orders/order%2042/history' },
      routeKey: 'GET /{collection}/{id}/history',
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

/** A raw HTTP/1.1 exchange: what fetch would refuse to send (bad targets, duplicate headers). */
const raw = (text: string) =>
  new Promise<{ status: number; text: string }>((resolveRaw, reject) => {
    const port = Number(new URL(gateway.url).port);
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    socket.on('end', () =>
      resolveRaw({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(out)?.[1] ?? 0), text: out }),
    );
    socket.on('error', reject);
  });
const rawGet = (target: string, headers: string[] = []) =>
  raw(
    [`GET ${target} HTTP/1.1`, 'Host: local', ...headers, 'Connection: close', '', ''].join('\r\n'),
  );

describe('hostile request targets: an answer, never a crash', () => {
  test('an absolute-form target whose host WHATWG URL rejects is a 400, and the gateway keeps serving', async () => {
    answer = () => ({ statusCode: 204 });
    const bad = await rawGet('http://%zz/orders/x');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('{"message":"Bad Request"}');
    expect(events).toHaveLength(0);
    // A valid absolute-form target is served like its path.
    expect((await rawGet('http://local/orders/x')).status).toBe(204);
    expect((await fetch(`${gateway.url}/orders/x`)).status).toBe(204);
  });

  test('a malformed percent-escape in a path parameter is a 400, not a 500', async () => {
    const response = await fetch(`${gateway.url}/orders/%E0%A4%A`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ message: 'Bad Request' });
    expect(events).toHaveLength(0);
  });
});

describe('API Gateway HTTP API, payload format 2.0, as AWS documents it', () => {
  beforeEach(() => {
    answer = () => ({ statusCode: 204 });
  });

  test('"Duplicate query strings are combined with commas": own keys only, no prototype keys', async () => {
    await fetch(`${gateway.url}/orders?toString=x&constructor=y&constructor=z`);
    expect(events[0]!.queryStringParameters).toEqual({ toString: 'x', constructor: 'y,z' });
  });

  test('"Duplicate headers are combined with commas", content-type and user-agent too; every cookie header goes to cookies', async () => {
    const response = await raw(
      [
        'POST /commands HTTP/1.1',
        'Host: local',
        'X-Custom: a',
        'X-Custom: b',
        'Content-Type: text/plain',
        'Content-Type: application/json',
        'Cookie: a=1; b=2',
        'Cookie: c=3',
        'Content-Length: 2',
        'Connection: close',
        '',
        '{}',
      ].join('\r\n'),
    );
    expect(response.status).toBe(204);
    const [event] = events;
    expect(event!.headers['x-custom']).toBe('a,b');
    expect(event!.headers['content-type']).toBe('text/plain,application/json');
    expect(event!.cookies).toEqual(['a=1', 'b=2', 'c=3']);
    expect(event!.headers.cookie).toBeUndefined();
  });

  test('routes match the path exactly: a trailing slash or an empty segment is 404, not routed', async () => {
    for (const path of ['/orders/', '/orders/x/', '//orders', '/orders//events', '/commands/']) {
      const response = await rawGet(path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
    }
    expect(events).toHaveLength(0);
  });

  test("Lambda's 6 MB synchronous invoke limit counts the whole event, base64 included: 413 before the handler", async () => {
    const post = (contentType: string, bytes: number) =>
      fetch(`${gateway.url}/commands`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: 'x'.repeat(bytes),
      });
    // 4.8 MB of text fits; the same bytes as a binary type grow by a third in base64 and do not.
    expect((await post('application/json', 4_800_000)).status).toBe(204);
    const binary = await post('application/octet-stream', 4_800_000);
    expect(binary.status).toBe(413);
    expect(await binary.json()).toEqual({ message: 'Request Too Long' });
    const text = await post('text/plain', MAX_INVOKE_PAYLOAD_BYTES);
    expect(text.status).toBe(413);
    expect(events).toHaveLength(1);
  });

  test('bodies are text only for text/*, application/json, application/xml and application/javascript; anything else is base64', async () => {
    const cases: [string | undefined, boolean][] = [
      ['text/plain; charset=utf-8', false],
      ['application/json', false],
      ['application/xml', false],
      ['application/javascript', false],
      ['application/x-www-form-urlencoded', true],
      ['application/vnd.api+json', true],
      ['application/jsonx', true],
      ['application/octet-stream', true],
      [undefined, true],
    ];
    for (const [contentType, base64] of cases) {
      events = [];
      await raw(
        [
          'POST /commands HTTP/1.1',
          'Host: local',
          ...(contentType ? [`Content-Type: ${contentType}`] : []),
          'Content-Length: 3',
          'Connection: close',
          '',
          'a=b',
        ].join('\r\n'),
      );
      expect({ contentType, isBase64Encoded: events[0]!.isBase64Encoded }).toEqual({
        contentType,
        isBase64Encoded: base64,
      });
      expect(events[0]!.body).toBe(base64 ? Buffer.from('a=b').toString('base64') : 'a=b');
    }
  });

  test('"each cookie becomes a set-cookie header", next to a set-cookie the headers carry', async () => {
    answer = () => ({
      statusCode: 200,
      headers: { 'Set-Cookie': 'h=1; Path=/' },
      cookies: ['c=2', 'd=3'],
      body: 'ok',
    });
    const response = await fetch(`${gateway.url}/orders/x`);
    expect(response.headers.getSetCookie()).toEqual(['h=1; Path=/', 'c=2', 'd=3']);
  });
});
