/**
 * The third aggregate, a SKU's stock (lambdas/domain/inventory), over HTTP on `npm start`'s
 * runtime (both stacks, the handlers AWS runs, DynamoDB Local): registered by one entry in
 * AGGREGATES, PROJECTIONS and COLLECTIONS and nothing else, it is served at `/inventory/{sku}`
 * with its rules, `?minVersion`, events and history, and the other collections know nothing of it.
 */
import { randomUUID } from 'node:crypto';
import { authHeaders, useLocalRuntime } from '../support/runtime';

const local = useLocalRuntime(`inv${process.pid}`);

const json = async (response: Response) => ({
  status: response.status,
  body: (await response.json()) as Record<string, unknown>,
});

describe.each(['decoupled', 'coupled'] as const)('%s stack', (stack) => {
  const url = () =>
    (stack === 'decoupled' ? local.current.decoupledUrl : local.current.coupledUrl)!;
  const send = async (type: string, aggregateId: string, payload: unknown) =>
    json(
      await fetch(`${url()}/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authHeaders(local.current) },
        body: JSON.stringify({ type, aggregateId, payload }),
      }),
    );
  const get = async (path: string) =>
    json(await fetch(`${url()}${path}`, { headers: authHeaders(local.current) }));

  test('receive, reserve, refuse past the available stock, ship and release', async () => {
    const sku = `sku-${stack}-${randomUUID().slice(0, 8)}`;
    const ok = stack === 'decoupled' ? 202 : 200;
    expect((await send('inventory/reserve', sku, { orderId: 'o-1', quantity: 1 })).status).toBe(
      404,
    );
    for (const [type, payload] of [
      ['inventory/receive', { quantity: 10 }],
      ['inventory/reserve', { orderId: 'o-1', quantity: 4 }],
    ] as const) {
      expect((await send(type, sku, payload)).status).toBe(ok);
    }
    const short = await send('inventory/reserve', sku, { orderId: 'o-2', quantity: 7 });
    expect(short).toMatchObject({
      status: 422,
      body: {
        error: {
          code: 'RULE_VIOLATED',
          details: { rule: 'NOT_ENOUGH_STOCK', requested: 7, available: 6 },
        },
      },
    });

    const view = await get(`/inventory/${sku}?minVersion=2`);
    expect(view).toMatchObject({
      status: 200,
      body: { id: sku, onHand: 10, reserved: 4, available: 6, reservations: { 'o-1': 4 } },
    });
    expect((await send('inventory/ship', sku, { orderId: 'o-1' })).status).toBe(ok);
    expect((await send('inventory/reserve', sku, { orderId: 'o-2', quantity: 6 })).status).toBe(ok);
    expect((await send('inventory/release', sku, { orderId: 'o-2' })).status).toBe(ok);
    expect(await get(`/inventory/${sku}?minVersion=5`)).toMatchObject({
      status: 200,
      body: { onHand: 6, reserved: 0, available: 6, reservations: {}, version: 5 },
    });

    const events = await get(`/inventory/${sku}/events`);
    expect((events.body.events as { type: string }[]).map((e) => e.type)).toEqual([
      'inventory/received',
      'inventory/reserved',
      'inventory/shipped',
      'inventory/reserved',
      'inventory/released',
    ]);
    expect(await get(`/inventory/${sku}/history?version=2`)).toMatchObject({
      status: 200,
      body: { version: 2, state: { onHand: 10, reserved: 4, available: 6 } },
    });
    // Another collection's routes know nothing of a SKU, and its own know nothing of theirs.
    expect((await get(`/orders/${sku}`)).status).toBe(404);
    expect((await get(`/shopping-lists/${sku}`)).status).toBe(404);
  });
});
