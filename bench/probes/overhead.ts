/**
 * Where the coupled profile's time goes between its visible latency and its floor (issue 12
 * item 6; docs/benchmark.md, "Framework overhead"). One DynamoDB Local, one coupled handler, one
 * client sending commands one at a time (an order's life, as in the bench), taking turns with:
 *
 * - `http`: through the local gateway, as `npm run bench` measures the coupled profile (node:http
 *   client with a keep-alive agent, like the SDK's);
 * - `http-fetch`: the same with Node's fetch as the client (the bench's client until now);
 * - `direct`: the same handler function called in-process with a payload 2.0 event (no HTTP);
 * - `http-info`: like `http`, with the handler logging at INFO (the bench logs at ERROR);
 * - `floor`: the bench's coupled floor (plain SDK: snapshot GetItem beside a Query of the newest
 *   events, then TransactWrite of the event and the view item Update);
 * - `floor-check`: the same with the ConditionCheck on version - 1 that a writer which has not
 *   read the aggregate needs (docs/decisions/honest-appends.md).
 *
 * The gateways verify an admin's token on every request, as `npm run bench`'s do (its check is
 * in the gateway span; the direct call gets the claims a gateway would pass on), and the report
 * ends with what one check costs alone (./token-cost.ts).
 *
 * Each command is cut into spans, measured with performance.now(): the client and loopback
 * transport (total minus the server's time), the gateway (the server's time outside the
 * handler), the handler's own code (outside DynamoDB calls), the SDK (each `send` minus its
 * HTTP exchange) and DynamoDB (the HTTP exchanges with DynamoDB Local: the database, its JVM and
 * the loopback).
 *
 * Run: node --import tsx bench/probes/overhead.ts [commands per runner] [runners] > /dev/null
 * (INFO lines go to stdout; the report goes to stderr.) With PROBE_CPU_PROFILE=<file>, a CPU
 * profile of the measured rounds is written there (read it with bench/probes/cpu-summary.ts).
 */
import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Session } from 'node:inspector';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createJwtVerifier } from '../../lambdas/core/identity/jwt-verifier';
import { coupledHandlerFromEnv } from '../../lambdas/handlers/wiring';
import { startProbeDynamoDb } from './probe-dynamodb';
import { flattenClaims, startGateway } from '../../local/emulators/gateway';
import { startIdentityProvider } from '../../local/emulators/identity-provider';
import { lambdaContext } from '../../local/emulators/lambda-context';
import { ensureTables, localFunctionEnv } from '../../local/emulators/tables';
import { ApiClient } from '../http';
import { BENCH_USER, fixedToken } from '../identity';
import { OrderSession } from '../orders';
import { FLOOR_VIEW, FloorRunner } from '../runners';
import { percentile, rotate } from '../stats';
import { measureTokenVerification } from './token-cost';
import { directEvent } from '../direct-event';

const n = Number(process.argv[2] ?? 300);
/** Only these runners (comma-separated names), e.g. `http` when profiling. */
const only = process.argv[3]?.split(',');
/** When set, a CPU profile of the measured rounds only (not start-up or warm-up) goes there. */
const profileFile = process.env.PROBE_CPU_PROFILE;

const inspector = profileFile ? new Session() : undefined;
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) =>
    inspector!.post(method, params ?? {}, (error, result) =>
      error ? reject(error) : resolve(result),
    ),
  );
const warmup = Math.min(100, Math.ceil(n / 3));
if (!Number.isInteger(n) || n < 1) {
  console.error('usage: node --import tsx bench/probes/overhead.ts [commands per runner]');
  process.exit(2);
}

/** Time spent in the current command's DynamoDB HTTP exchanges and SDK sends. */
const spans = { net: 0, send: 0, server: 0, handler: 0 };
const reset = () => Object.assign(spans, { net: 0, send: 0, server: 0, handler: 0 });

// Every DynamoDB client of this process sends through these prototypes (handler and floor).
const handle = NodeHttpHandler.prototype.handle;
NodeHttpHandler.prototype.handle = async function (this: NodeHttpHandler, ...args) {
  const started = performance.now();
  try {
    return await handle.apply(this, args);
  } finally {
    spans.net += performance.now() - started;
  }
};
const send = DynamoDBDocumentClient.prototype.send;
DynamoDBDocumentClient.prototype.send = async function (
  this: DynamoDBDocumentClient,
  ...args: unknown[]
) {
  const started = performance.now();
  try {
    return await (send as (...a: unknown[]) => Promise<unknown>).apply(this, args);
  } finally {
    spans.send += performance.now() - started;
  }
} as typeof send;

const timedHandler =
  (handler: (event: APIGatewayProxyEventV2, context?: Context) => Promise<unknown>) =>
  async (event: APIGatewayProxyEventV2, context?: Context) => {
    const started = performance.now();
    try {
      return await handler(event, context);
    } finally {
      spans.handler += performance.now() - started;
    }
  };

type Span = 'total' | 'client' | 'gateway' | 'handler' | 'sdk' | 'dynamodb' | 'cpu';
const SPANS: readonly Span[] = ['total', 'client', 'gateway', 'handler', 'sdk', 'dynamodb', 'cpu'];

const main = async () => {
  const { local, client, doc } = await startProbeDynamoDb();
  const stop: (() => Promise<unknown>)[] = [() => local.stop(), async () => client.destroy()];
  try {
    // Signed in as the bench is: an admin's token, checked by every gateway.
    const idp = await startIdentityProvider({ port: 0 });
    stop.push(() => idp.close());
    const verifyToken = createJwtVerifier({
      issuer: idp.issuer,
      audience: idp.audience,
      jwks: idp.jwks,
    });
    const token = idp.tokenFor(BENCH_USER);
    const claims = flattenClaims(await verifyToken(token));
    const tokens = fixedToken(token);
    const stack = { eventTable: 'ov-coupled-events', projectionsTable: 'ov-coupled-projections' };
    const floorTables = { eventTable: 'ov-floor-events', projectionsTable: 'ov-floor-projections' };
    await ensureTables(client, stack, { stream: false });
    await ensureTables(client, floorTables, { stream: false });
    const env = localFunctionEnv(stack, local.endpoint);
    const handlerAt = (logLevel: 'ERROR' | 'INFO') =>
      timedHandler(
        coupledHandlerFromEnv(env, { logger: new Logger({ serviceName: 'coupled', logLevel }) }),
      );
    const [quiet, verbose] = [handlerAt('ERROR'), handlerAt('INFO')];
    const gateways = await Promise.all(
      [quiet, verbose].map((handler) =>
        startGateway({
          host: '127.0.0.1',
          port: 0,
          verifyToken,
          targetFor: () => ({ functionName: 'coupled-api', handler: handler as never }),
        }),
      ),
    );
    for (const gateway of gateways) {
      stop.push(() => gateway.close());
      // The server's time per request: from the request to the last byte written.
      gateway.server.prependListener('request', (_: IncomingMessage, res: ServerResponse) => {
        const started = performance.now();
        res.once('finish', () => (spans.server += performance.now() - started));
      });
    }
    const [api, apiInfo] = gateways.map((g) => new ApiClient(g.url, { tokens }));
    const apiFetch = new ApiClient(gateways[0]!.url, { tokens, transport: 'fetch' });
    stop.push(async () => [api, apiInfo].forEach((c) => c!.close()));

    type Run = (
      aggregateId: string,
      command: ReturnType<OrderSession['next']>['command'],
    ) => Promise<void>;
    const overHttp =
      (apiClient: ApiClient): Run =>
      async (aggregateId, command) => {
        const answer = await apiClient!.request('POST', '/commands', { ...command, aggregateId });
        if (answer.status !== 200)
          throw new Error(`http: ${answer.status} ${JSON.stringify(answer.body)}`);
      };
    const floorOf = (checkPrevious: boolean): Run => {
      const floor = new FloorRunner('floor', 'f', 'floor-coupled', doc, floorTables, FLOOR_VIEW, {
        checkPrevious,
      });
      return async (aggregateId, command) => {
        const outcome = await floor.execute(aggregateId, command, { visible: true });
        if (!outcome.ok) throw new Error(`floor: ${outcome.code}`);
      };
    };
    const all: { name: string; run: Run; kind: 'http' | 'direct' | 'floor' }[] = [
      { name: 'http', run: overHttp(api!), kind: 'http' },
      { name: 'http-fetch', run: overHttp(apiFetch), kind: 'http' },
      {
        name: 'direct',
        kind: 'direct',
        run: async (aggregateId, command) => {
          const body = JSON.stringify({ ...command, aggregateId });
          const answer = (await quiet(directEvent(body, claims), lambdaContext('coupled-api'))) as {
            statusCode: number;
          };
          if (answer.statusCode !== 200) throw new Error(`direct: ${answer.statusCode}`);
        },
      },
      { name: 'http-info', run: overHttp(apiInfo!), kind: 'http' },
      { name: 'floor', run: floorOf(false), kind: 'floor' },
      { name: 'floor-check', run: floorOf(true), kind: 'floor' },
    ];
    const runners = all.filter((r) => only === undefined || only.includes(r.name));
    const runId = `ov${Date.now().toString(36)}`;
    const sessions = runners.map((r) => new OrderSession(`${runId}-${r.name}`, 10));
    const samples = runners.map(() => Object.fromEntries(SPANS.map((s) => [s, [] as number[]])));
    for (let round = 0; round < warmup + n; round++) {
      if (round === warmup && inspector) {
        inspector.connect();
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: 200 });
        await post('Profiler.start');
      }
      for (const index of rotate(
        runners.map((_, i) => i),
        round,
      )) {
        const runner = runners[index]!;
        const { aggregateId, command } = sessions[index]!.next();
        reset();
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        await runner.run(aggregateId, command);
        const total = performance.now() - started;
        const cpu = process.cpuUsage(cpuBefore);
        if (round < warmup) continue;
        const s = samples[index]!;
        const outside = runner.kind === 'floor' ? total : spans.handler;
        s.total!.push(total);
        s.client!.push(runner.kind === 'http' ? total - spans.server : 0);
        s.gateway!.push(runner.kind === 'http' ? spans.server - spans.handler : 0);
        s.handler!.push(runner.kind === 'floor' ? total - spans.send : outside - spans.send);
        s.sdk!.push(spans.send - spans.net);
        s.dynamodb!.push(spans.net);
        s.cpu!.push((cpu.user + cpu.system) / 1000);
      }
    }
    if (inspector) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(profileFile!, JSON.stringify(profile));
      inspector.disconnect();
    }
    const p50 = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const lines = [
      `coupled command path, ${n} commands per runner after ${warmup} unrecorded, one client, runners taking turns`,
      `span (ms)            ${runners.map((r) => r.name.padStart(14)).join('')}`,
    ];
    for (const span of SPANS) {
      for (const [label, f] of [
        ['p50', p50],
        ['mean', mean],
      ] as const) {
        lines.push(
          `${`${span} ${label}`.padEnd(21)}${samples.map((s) => f(s[span]!).toFixed(2).padStart(14)).join('')}`,
        );
      }
    }
    const floorIndex = runners.findIndex((r) => r.name === 'floor');
    const floorP50 = floorIndex < 0 ? NaN : p50(samples[floorIndex]!.total!);
    lines.push(
      `total p50 / floor p50 ${runners.map((_, i) => (p50(samples[i]!.total!) / floorP50).toFixed(2).padStart(14)).join('')}`,
    );
    const check = (await measureTokenVerification()).perCallUs;
    lines.push(
      `token check alone (part of the gateway span of the http runners): p50 ${(check.p50 / 1000).toFixed(3)} ms, mean ${(check.mean / 1000).toFixed(3)} ms`,
    );
    process.stderr.write(`${lines.join('\n')}\n`);
  } finally {
    for (const step of stop.reverse()) await step().catch(() => undefined);
  }
};

void main();
