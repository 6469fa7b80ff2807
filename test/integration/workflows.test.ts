/**
 * The order fulfilment workflow through both stacks of the local runtime, on DynamoDB Local:
 * real HTTP, the very workflows handler the cloud runs on each stack's event stream
 * (lambdas/domain/fulfilment/process.ts, lambdas/core/workflows/process-runner.ts).
 */
import { randomUUID } from 'node:crypto';
import { authHeaders, useLocalRuntime } from '../support/runtime';

const runtime = useLocalRuntime(`wf${process.pid}`);
// 50 orders racing (200 commands, then their workflows) take long on a loaded 2-core machine.
jest.setTimeout(180_000);

type User = 'alice' | 'admin';
type Stack = 'decoupled' | 'coupled';
const STACKS: readonly Stack[] = ['decoupled', 'coupled'];

const urlOf = (stack: Stack) =>
  stack === 'decoupled' ? runtime.current.decoupledUrl! : runtime.current.coupledUrl!;

/**
 * A command, resent with its commandId while the stack answers 503 (COMMAND_DEADLINE, THROTTLED),
 * as a client does: 50 orders at once on a loaded machine may pass the 5 s deadline.
 */
const send = async (stack: Stack, user: User, command: Record<string, unknown>) => {
  const body = JSON.stringify({ commandId: randomUUID(), ...command });
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${urlOf(stack)}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders(runtime.current, user) },
      body,
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (response.status === 503 && attempt < 5) continue;
    if (response.status >= 300) throw new Error(`${response.status} ${JSON.stringify(answer)}`);
    return { body: answer, correlationId: response.headers.get('x-correlation-id') };
  }
};

const read = async (stack: Stack, path: string, user: User | 'support' = 'admin') => {
  const response = await fetch(`${urlOf(stack)}${path}`, {
    headers: authHeaders(runtime.current, user),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
};

/** The row once `done` holds (the decoupled stack's views follow the stream), read as `user`. */
const eventually = async (
  stack: Stack,
  path: string,
  done: (row: Record<string, any>) => boolean, // eslint-disable-line @typescript-eslint/no-explicit-any
  what: string,
  user?: User | 'support',
) => {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { status, body } = await read(stack, path, user);
    if (status === 200 && done(body)) return body;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const receive = (stack: Stack, sku: string, quantity: number) =>
  send(stack, 'admin', { type: 'inventory/receive', aggregateId: sku, payload: { quantity } });

/** An order of alice's with one line per SKU, submitted; its id and the submit's correlation id. */
const submitOrder = async (stack: Stack, lines: Record<string, number>) => {
  const id = `o-${randomUUID().slice(0, 8)}`;
  await send(stack, 'alice', {
    type: 'order/create',
    aggregateId: id,
    payload: { currency: 'EUR' },
  });
  let n = 0;
  for (const [sku, quantity] of Object.entries(lines)) {
    n += 1;
    await send(stack, 'alice', {
      type: 'order/addLine',
      aggregateId: id,
      payload: { lineId: `l${n}`, sku, quantity, unitPrice: 100 },
    });
  }
  const { correlationId } = await send(stack, 'alice', {
    type: 'order/submit',
    aggregateId: id,
    payload: {},
  });
  return { id, correlationId };
};

const settled = (row: { status?: string }) =>
  row.status === 'confirmed' || row.status === 'rejected';

describe.each(STACKS)('the fulfilment workflow on the %s stack', (stack) => {
  const sku = (name: string) => `${stack.slice(0, 3)}-${name}-${process.pid}`;

  test('given enough stock, when an order is submitted, then it is confirmed and the stock reserved', async () => {
    const [a, b] = [sku('a1'), sku('b1')];
    await receive(stack, a, 10);
    await receive(stack, b, 5);
    const { id } = await submitOrder(stack, { [a]: 3, [b]: 2 });

    const order = await eventually(stack, `/orders/${id}`, settled, 'the order to settle');
    expect(order.status).toBe('confirmed');
    const stockA = await eventually(
      stack,
      `/inventory/${a}`,
      (r) => r.reserved === 3,
      'A reserved',
    );
    expect(stockA).toMatchObject({
      onHand: 10,
      reserved: 3,
      available: 7,
      reservations: { [id]: 3 },
    });
    const stockB = await eventually(
      stack,
      `/inventory/${b}`,
      (r) => r.reserved === 2,
      'B reserved',
    );
    expect(stockB).toMatchObject({ onHand: 5, available: 3 });
  });

  test('given too little stock of one SKU, when an order is submitted, then it is rejected and nothing stays reserved', async () => {
    const [a, b] = [sku('a2'), sku('b2')];
    await receive(stack, a, 10);
    await receive(stack, b, 1);
    const { id } = await submitOrder(stack, { [a]: 3, [b]: 2 });

    const order = await eventually(stack, `/orders/${id}`, settled, 'the order to settle');
    expect(order).toMatchObject({
      status: 'rejected',
      rejectReason: 'not-enough-stock',
      skusShort: [b],
    });
    // A was reserved, then released: its log says so, and its row holds nothing for the order.
    const stockA = await eventually(
      stack,
      `/inventory/${a}`,
      (r) => r.version === 3,
      'A reserved and released',
    );
    expect(stockA).toMatchObject({ onHand: 10, reserved: 0, available: 10, reservations: {} });
    const stockB = await read(stack, `/inventory/${b}`);
    expect(stockB.body).toMatchObject({ reserved: 0, available: 1 });
  });

  test('given 10 units, when 50 orders of one unit race for them, then exactly 10 are confirmed and none oversold', async () => {
    const c = sku('race');
    await receive(stack, c, 10);
    const orders = await Promise.all(
      Array.from({ length: 50 }, async () => (await submitOrder(stack, { [c]: 1 })).id),
    );
    const rows = await Promise.all(
      orders.map((id) => eventually(stack, `/orders/${id}`, settled, `order ${id} to settle`)),
    );
    const confirmed = rows.filter((r) => r.status === 'confirmed');
    expect(confirmed).toHaveLength(10);
    expect(rows.filter((r) => r.status === 'rejected')).toHaveLength(40);
    const stock = await eventually(
      stack,
      `/inventory/${c}`,
      (r) => r.reserved === 10,
      'C reserved',
    );
    expect(stock).toMatchObject({ onHand: 10, reserved: 10, available: 0 });
    expect(Object.keys(stock.reservations).sort()).toEqual(confirmed.map((r) => r.id).sort());
  });

  test('given a confirmed order, when its customer cancels it, then its reservations are released', async () => {
    const a = sku('a4');
    await receive(stack, a, 4);
    const { id } = await submitOrder(stack, { [a]: 4 });
    await eventually(stack, `/orders/${id}`, (r) => r.status === 'confirmed', 'confirmed');

    await send(stack, 'alice', { type: 'order/cancel', aggregateId: id, payload: {} });
    const stock = await eventually(stack, `/inventory/${a}`, (r) => r.available === 4, 'released');
    expect(stock).toMatchObject({ reserved: 0, reservations: {} });
  });

  test('every command of the workflow carries the triggering event as causation and the click’s correlation id', async () => {
    const a = sku('a5');
    await receive(stack, a, 2);
    const { id, correlationId } = await submitOrder(stack, { [a]: 1 });
    await eventually(stack, `/orders/${id}`, (r) => r.status === 'confirmed', 'confirmed');

    const orderEvents = (await read(stack, `/orders/${id}/events`)).body.events as any[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    const submitted = orderEvents.find((e) => e.type === 'order/submitted');
    const confirmed = orderEvents.find((e) => e.type === 'order/confirmed');
    const stockEvents = (await read(stack, `/inventory/${a}/events`)).body.events as any[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    const reserved = stockEvents.find((e) => e.type === 'inventory/reserved');
    expect(submitted.correlationId).toBe(correlationId);
    expect(reserved).toMatchObject({
      causationId: submitted.eventId,
      correlationId,
      actor: 'process:order-fulfilment',
    });
    expect(confirmed).toMatchObject({ causationId: submitted.eventId, correlationId });
  });

  test('a process is readable by staff with its journal, as of any step, and hidden from customers', async () => {
    const a = sku('a6');
    await receive(stack, a, 3);
    const { id } = await submitOrder(stack, { [a]: 2 });
    await eventually(stack, `/orders/${id}`, (r) => r.status === 'confirmed', 'confirmed');

    const path = `/processes/order-fulfilment/${id}`;
    // The order shows confirmed once the confirm commits (on the coupled stack, with its row);
    // the process records that outcome just after, in its own write.
    await eventually(stack, path, (r) => r.pending?.length === 0, 'the process settled', 'support');
    const { status, body } = await read(stack, path, 'support');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      process: 'order-fulfilment',
      key: id,
      state: { status: 'confirmed', reserved: [a], wanted: { [a]: 2 } },
      pending: [],
    });
    // Submitted -> reserve; reserved -> confirm; confirmed -> nothing more.
    type Step = { input: { kind: string }; sent: { type: string }[] };
    const steps = (body.journal as Step[]).map((step) => [
      step.input.kind,
      step.sent.map((c) => c.type),
    ]);
    expect(steps).toEqual([
      ['event', ['inventory/reserve']],
      ['outcomes', ['order/confirm']],
      ['outcomes', []],
    ]);
    expect(body.journal[0].timer).toMatchObject({ name: 'reservation-timeout' });

    const first = body.journal[0].at as string;
    const then = await read(stack, `${path}?asOf=${encodeURIComponent(first)}`, 'support');
    expect(then.body).toMatchObject({ asOf: first, state: { status: 'reserving', reserved: [] } });
    const before = new Date(Date.parse(first) - 1000).toISOString();
    expect(
      (await read(stack, `${path}?asOf=${encodeURIComponent(before)}`, 'support')).status,
    ).toBe(404);

    // alice owns the order, not its fulfilment: 404, as for a process that does not exist.
    expect((await read(stack, path, 'alice')).status).toBe(404);
    expect((await read(stack, '/processes/order-fulfilment/nobody', 'support')).status).toBe(404);
    expect((await read(stack, '/processes/order-fulfilment/bad%20key', 'support')).status).toBe(
      400,
    );
  });
});
