/**
 * The API client over real HTTP (a small local server): signed requests (SigV4 through the
 * signing hook, as a Node caller of the deployed stacks would), query strings, error answers,
 * timeouts and refused connections.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { ApiError, createApiClient, NetworkError, type OrderView } from '../../client';

let server: Server;
let base: string;
const seen: Array<{
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  body: string;
}> = [];
let answer: (url: string) => {
  status: number;
  body: string;
  delayMs?: number;
  headers?: Record<string, string>;
};

/** The answers the server is still holding back (`delayMs`). */
const delayed = new Set<ReturnType<typeof setTimeout>>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      const a = answer(req.url ?? '');
      const timer = setTimeout(() => {
        delayed.delete(timer);
        res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
        res.end(a.body);
      }, a.delayMs ?? 0);
      delayed.add(timer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  // An answer still delayed (its client gave up) must not keep the test worker alive.
  for (const timer of delayed) clearTimeout(timer);
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => (seen.length = 0));

test('the signing hook signs each request with SigV4; the signed headers are sent', async () => {
  answer = () => ({
    status: 202,
    body: JSON.stringify({ aggregateId: 'o1', version: 1, events: [] }),
    headers: { 'x-command-replayed': 'true', 'x-command-retries': '2', 'x-correlation-id': 'k1' },
  });
  const signer = new SignatureV4({
    service: 'execute-api',
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    sha256: Sha256,
  });
  const api = createApiClient({
    baseUrl: `${base}/`,
    signRequest: async ({ method, url, headers, body }) => {
      const { hostname, port, pathname, searchParams } = new URL(url);
      const signed = await signer.sign({
        method,
        protocol: 'http:',
        hostname,
        port: Number(port),
        path: pathname,
        query: Object.fromEntries(searchParams),
        headers: { ...headers, host: `${hostname}:${port}` },
        body,
      });
      return signed.headers;
    },
  });
  const result = await api.sendCommand({
    type: 'order/submit',
    aggregateId: 'o1',
    payload: {},
    commandId: 'cmd-1',
  });
  expect(result).toEqual({
    status: 202,
    aggregateId: 'o1',
    version: 1,
    events: [],
    replayed: true,
    retries: 2,
    correlationId: 'k1',
  });
  const request = seen[0]!;
  expect(request.headers.authorization).toMatch(
    /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/,
  );
  expect(request.headers['x-amz-date']).toBeDefined();
  expect(JSON.parse(request.body)).toEqual({
    type: 'order/submit',
    aggregateId: 'o1',
    payload: {},
    commandId: 'cmd-1',
  });
});

test('queries carry their parameters; a coupled answer keeps its row', async () => {
  answer = (url) =>
    url.startsWith('/commands')
      ? {
          status: 200,
          body: JSON.stringify({ aggregateId: 'o1', version: 2, events: [], order: null }),
        }
      : { status: 200, body: JSON.stringify({ id: 'o1' }) };
  const api = createApiClient({ baseUrl: base });
  await api.getView<OrderView>('orders', 'o 1', { minVersion: 3 });
  await api.listViews<OrderView>('orders', { customerId: 'c', status: 'draft', limit: 5 });
  await api.listViews('shopping-lists', { ownerId: 'u 1', limit: 2, cursor: undefined });
  await api.getEvents('orders', 'o1', { cursor: '4' });
  await api.getHistory('orders', 'o1', { at: '2026-01-01T00:00:00Z' });
  await api.getReadModel('owner-lists', 'owner/1');
  expect(seen.map((s) => s.url)).toEqual([
    '/orders/o%201?minVersion=3',
    '/orders?customerId=c&status=draft&limit=5',
    '/shopping-lists?ownerId=u+1&limit=2',
    '/orders/o1/events?cursor=4',
    '/orders/o1/history?at=2026-01-01T00%3A00%3A00Z',
    '/read-models/owner-lists/owner%2F1',
  ]);
  expect(
    await api.sendCommand({ type: 'order/delete', aggregateId: 'o1', payload: {}, commandId: 'c' }),
  ).toMatchObject({ status: 200, view: null });
});

test('an error answer is an ApiError with the catalogue code; no answer in time is a timeout', async () => {
  answer = () => ({
    status: 409,
    body: JSON.stringify({
      error: { code: 'VERSION_CONFLICT', message: 'moved', details: { actualVersion: 4 } },
    }),
    headers: { 'x-correlation-id': 'k2' },
  });
  // A timeout far above what a loaded machine takes to answer: this part is about the error.
  const error = await createApiClient({ baseUrl: base, timeoutMs: 10_000 })
    .getView<OrderView>('orders', 'o1')
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ApiError);
  expect(error).toMatchObject({
    status: 409,
    code: 'VERSION_CONFLICT',
    message: 'moved',
    details: { actualVersion: 4 },
    correlationId: 'k2',
  });

  // No answer within 50 ms (it comes after 2 s): a timeout, however loaded the machine.
  answer = () => ({ status: 200, body: '{}', delayMs: 2_000 });
  const impatient = createApiClient({ baseUrl: base, timeoutMs: 50 });
  await expect(impatient.getView<OrderView>('orders', 'o1')).rejects.toMatchObject({
    name: 'NetworkError',
    kind: 'timeout',
  });
  await expect(
    createApiClient({ baseUrl: 'http://127.0.0.1:1' }).getView<OrderView>('orders', 'o1'),
  ).rejects.toBeInstanceOf(NetworkError);
});
