/**
 * Stock for the demo app's SKUs, so an order submitted in the demo is confirmed by the
 * fulfilment workflow (docs/guide/workflows.md) rather than rejected for a SKU nobody stocked.
 * Each receipt has a fixed commandId: with `--data-dir`, a restart replays it, adding nothing.
 */
import type { LocalRuntime } from '../../local/emulators/runtime';

export const DEMO_SKUS = ['SKU-1', 'SKU-2', 'SKU-3', 'SKU-4', 'SKU-5'] as const;
export const DEMO_UNITS = 100;

export const seedDemoStock = async (
  runtime: Pick<LocalRuntime, 'decoupledUrl' | 'coupledUrl' | 'identity'>,
): Promise<void> => {
  const token = runtime.identity.tokenFor('admin');
  const urls = [runtime.decoupledUrl, runtime.coupledUrl].filter((u) => u !== undefined);
  for (const url of urls) {
    for (const sku of DEMO_SKUS) {
      const response = await fetch(`${url}/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          type: 'inventory/receive',
          aggregateId: sku,
          payload: { quantity: DEMO_UNITS },
          commandId: `demo-stock-${sku}`,
        }),
      });
      if (!response.ok) {
        throw new Error(
          `Seeding ${sku} at ${url} answered ${response.status}: ${await response.text()}`,
        );
      }
    }
  }
};
