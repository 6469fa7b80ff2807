/**
 * What receiving a command over HTTP costs a serving process, against the IPC channel the CPU
 * target's floor is driven over (issue 23 item 6; docs/benchmark.md, "Cost and CPU per command").
 * A child process answers each request with the same small JSON (no other work), served three
 * ways: `node:http` on TCP loopback (as the local gateway is), `node:http` on a Unix socket, and
 * the IPC channel (`process.send`, as ../runner-process.ts). The parent sends a command-sized body
 * with a bearer token, one request at a time on a keep-alive agent, and reads the child's
 * `process.cpuUsage()` over the measured requests.
 *
 * Run: node --import tsx bench/probes/http-vs-ipc.ts [requests, default 5000] [rounds, default 3]
 */
import { fork } from 'node:child_process';
import { createServer, request, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Way = 'tcp' | 'unix' | 'ipc';
const WAYS: readonly Way[] = ['tcp', 'unix', 'ipc'];
const WARM_UP = 1_000;
const ANSWER = JSON.stringify({ ok: true, version: 3, row: 'x'.repeat(600) });

type FromChild =
  { address: { port?: number; path?: string } } | { cpu: number } | { answer: string };

const serve = (way: Way) => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(ANSWER),
      });
      res.end(ANSWER);
    });
  });
  process.on('message', (message: { type: string }) => {
    if (message.type === 'cpu') {
      const used = process.cpuUsage();
      process.send!({ cpu: used.user + used.system });
    } else if (message.type === 'command') process.send!({ answer: ANSWER });
    else if (message.type === 'stop') process.exit(0);
  });
  if (way === 'tcp') {
    server.listen(0, '127.0.0.1', () =>
      process.send!({ address: { port: (server.address() as AddressInfo).port } }),
    );
  } else if (way === 'unix') {
    const path = join(tmpdir(), `http-vs-ipc-${process.pid}.sock`);
    rmSync(path, { force: true });
    server.listen(path, () => process.send!({ address: { path } }));
    process.on('exit', () => rmSync(path, { force: true }));
  } else process.send!({ address: {} });
};

const measure = async (way: Way, requests: number): Promise<number> => {
  const child = fork(__filename, ['--serve', way], { execArgv: ['--import', 'tsx'] });
  const next = () => new Promise<FromChild>((done) => child.once('message', done));
  const { address } = (await next()) as { address: { port?: number; path?: string } };
  const body = JSON.stringify({
    type: 'order/addLine',
    aggregateId: 'order-1',
    payload: { sku: 'sku-1', quantity: 2, unitPrice: 1000 },
    commandId: 'c'.repeat(36),
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const send = () =>
    way === 'ipc'
      ? (child.send({ type: 'command', body }), next())
      : new Promise<void>((done, fail) => {
          const req = request(
            {
              ...(way === 'tcp' ? { host: '127.0.0.1', port: address.port } : {}),
              ...(way === 'unix' ? { socketPath: address.path } : {}),
              agent,
              method: 'POST',
              path: '/commands',
              headers: {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(body),
                authorization: `Bearer ${'x'.repeat(800)}`,
              },
            },
            (res) => {
              res.resume();
              res.on('end', done);
            },
          );
          req.on('error', fail);
          req.end(body);
        });
  const cpu = async () => (child.send({ type: 'cpu' }), ((await next()) as { cpu: number }).cpu);
  for (let i = 0; i < WARM_UP; i++) await send();
  const before = await cpu();
  for (let i = 0; i < requests; i++) await send();
  const after = await cpu();
  child.send({ type: 'stop' });
  agent.destroy();
  await new Promise((done) => child.once('exit', done));
  return (after - before) / requests / 1000;
};

const main = async () => {
  const requests = Number(process.argv[2] ?? 5_000);
  const rounds = Number(process.argv[3] ?? 3);
  console.log(`serving process CPU ms per request, ${requests} requests after ${WARM_UP}:`);
  for (let round = 0; round < rounds; round++) {
    const figures: string[] = [];
    for (const way of WAYS) figures.push(`${way} ${(await measure(way, requests)).toFixed(3)}`);
    console.log(`  round ${round + 1}: ${figures.join(', ')}`);
  }
};

if (process.argv[2] === '--serve') serve(process.argv[3] as Way);
else
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
