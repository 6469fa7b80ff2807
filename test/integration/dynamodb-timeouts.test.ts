/**
 * A DynamoDB that accepts a connection and never answers (a socket broken while a Lambda
 * instance was frozen, a stuck DynamoDB Local): the clients of the functions, the floors and the
 * local stream poller give up after DYNAMODB_TIMEOUTS instead of waiting minutes, or for ever
 * (docs/decisions/dynamodb-call-timeouts.md).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import { DYNAMODB_TIMEOUTS } from '../../lambdas/core/shared/dynamodb-limits';
import { documentClient } from '../../lambdas/handlers/document-client';
import { ENV } from '../../lambdas/handlers/environment';

let server: Server;
let endpoint: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  // Accepts every connection, reads what is sent, answers nothing.
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((done) => server.close(done));
});

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const getItem = new GetItemCommand({ TableName: 't', Key: { id: { S: 'x' } } });

test('a call that is never answered fails with a TimeoutError after the socket timeout', async () => {
  // The timeouts as set, the idle one shortened so the test does not wait 10 s.
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials,
    maxAttempts: 1,
    requestHandler: { ...DYNAMODB_TIMEOUTS, socketTimeout: 300 },
  });
  const started = performance.now();
  try {
    await expect(client.send(getItem)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(performance.now() - started).toBeLessThan(5_000);
  } finally {
    client.destroy();
  }
});

test('the functions’ document client is built with those timeouts', async () => {
  const doc = documentClient({ [ENV.dynamoDbEndpoint]: endpoint, AWS_REGION: 'local' });
  const handler = doc.config.requestHandler as NodeHttpHandler;
  // The handler settles its options on its first request (aborted once read).
  const abort = new AbortController();
  const call = doc
    .send(new GetCommand({ TableName: 't', Key: { id: 'x' } }), { abortSignal: abort.signal })
    .catch((error: Error) => error);
  await new Promise((done) => setTimeout(done, 200));
  try {
    expect(handler.httpHandlerConfigs()).toMatchObject(DYNAMODB_TIMEOUTS);
  } finally {
    abort.abort();
    expect(await call).toMatchObject({ name: 'AbortError' });
    doc.destroy();
  }
});
