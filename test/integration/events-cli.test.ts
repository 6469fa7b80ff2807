/**
 * `npm run events`: prints the local event bus's log (what each stack's bus delivered), and with
 * `--follow` the events as they arrive, from a runtime serving both stacks over real HTTP.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busEnvelopeSchema, busSourceOf } from '../../lambdas/core/events/bus-envelope';
import type { BusEvent } from '../../local/emulators/event-bus';
import { parseEventsCli, USAGE, UsageError } from '../../local/tools/events';
import { type Run, runProcess, waitForOutput } from '../support/processes';
import { authHeaders, useLocalRuntime } from '../support/runtime';

const dir = mkdtempSync(join(tmpdir(), 'events-cli-'));
const eventLogFile = join(dir, 'events.jsonl');
const runtime = useLocalRuntime(`evcli${process.pid}`, { eventLogFile });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const received: BusEvent[] = [];
beforeAll(() => {
  runtime.current.bus.subscribe((event) => received.push(event));
});

const eventsCli = (args: string[]): Run =>
  runProcess(process.execPath, ['--import', 'tsx', 'local/tools/events.ts', ...args]);

/** Creates an order on a stack and waits until the bus delivered its event. */
const createOrder = async (stack: 'decoupled' | 'coupled'): Promise<string> => {
  const id = `cli-${stack}-${randomUUID().slice(0, 8)}`;
  const url = stack === 'decoupled' ? runtime.current.decoupledUrl : runtime.current.coupledUrl;
  const response = await fetch(`${url}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders(runtime.current, 'bob') },
    body: JSON.stringify({ type: 'order/create', aggregateId: id, payload: { currency: 'EUR' } }),
  });
  expect(response.status).toBeLessThan(300);
  await response.body?.cancel();
  for (let attempt = 0; attempt < 400; attempt++) {
    if (received.some((event) => event.detail.aggregateId === id)) {
      await runtime.current.bus.flush();
      return id;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${id}: no event on the bus after 20 s`);
};

/** stdout's lines, parsed. */
const linesOf = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

test('given events of both stacks on the bus, when npm run events runs, then it prints each delivered event once, as EventBridge delivers it', async () => {
  const ids = [await createOrder('decoupled'), await createOrder('coupled')];
  const run = eventsCli(['--file', eventLogFile]);
  expect(await run.exited).toBe(0);
  expect(run.stderr).toBe('');
  const printed = linesOf(run.stdout) as unknown as BusEvent[];
  const ours = printed.filter((event) => ids.includes(event.detail.aggregateId));
  expect(
    ours.map((event) => [event.source, event['detail-type'], event.detail.aggregateId]),
  ).toEqual([
    [busSourceOf('decoupled'), 'order/created', ids[0]],
    [busSourceOf('coupled'), 'order/created', ids[1]],
  ]);
  expect(printed.map((event) => event.detail.eventId)).toEqual(
    received.map((event) => event.detail.eventId),
  );
});

test('given --detail, when npm run events runs, then each line is an envelope of the published schema', async () => {
  const run = eventsCli(['--file', eventLogFile, '--detail']);
  expect(await run.exited).toBe(0);
  const envelopes = linesOf(run.stdout);
  expect(envelopes.length).toBe(received.length);
  for (const envelope of envelopes) {
    expect(busEnvelopeSchema.parse(envelope)).toMatchObject({ actor: 'bob', envelopeVersion: 1 });
  }
});

test('given --follow, when a command makes an event, then it is printed as it arrives, and SIGTERM ends it with 0', async () => {
  const run = eventsCli(['--file', eventLogFile, '--follow', '--detail']);
  try {
    // What the log held when it started...
    await waitForOutput(run, received.at(-1)!.detail.eventId, 20_000);
    // ...then what arrives after.
    const id = await createOrder('coupled');
    await waitForOutput(run, `"aggregateId":"${id}"`, 20_000);
  } finally {
    run.child.kill('SIGTERM');
  }
  expect(await run.exited).toBe(0);
  const ids = linesOf(run.stdout).map((envelope) => envelope.eventId);
  expect(new Set(ids).size).toBe(ids.length);
});

test('given no event log, when npm run events runs without --follow, then it exits 1 saying to start npm start', async () => {
  const run = eventsCli(['--file', join(dir, 'none.jsonl')]);
  expect(await run.exited).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(
    /^error: no event log at .*none\.jsonl: start the local runtime with npm start/,
  );
});

test('given an unknown flag, when npm run events runs, then it exits 2; --help asks for nothing', async () => {
  const run = eventsCli(['--tail']);
  expect(await run.exited).toBe(2);
  expect(run.stderr).toContain("error: Unknown option '--tail'");
  expect(() => parseEventsCli(['extra'])).toThrow(UsageError);
  expect(parseEventsCli(['--help'])).toEqual({ help: true });
  expect(parseEventsCli(['-f'])).toMatchObject({ help: false, options: { follow: true } });
  expect(USAGE).toContain('--follow');
});
