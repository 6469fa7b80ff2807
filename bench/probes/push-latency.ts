/**
 * Push latency alone (issue 23, item 2): the bench's local target (its three stacks, each in its
 * own process), then per profile the ack and visible p50 of `commands` commands (the bench's
 * HttpRunner: visible is the coupled answer itself, or the decoupled row seen by the observer),
 * then the bench's push sweep (bench/push-latency.ts) with small settings. Figures to compare:
 * push p50 against the same profile's ack (coupled) or visible (decoupled) p50, and the fan-out's
 * last p50 against the single-subscriber push.
 * Run: node --import tsx bench/probes/push-latency.ts [commands] [fanoutSubscribers] [fanoutRounds]
 */
import { runPushLatency } from '../push-latency';
import { summarize } from '../stats';
import { Cleanup, startLocalTarget } from '../targets';

const commands = Number(process.argv[2] ?? 20);
const subscribers = Number(process.argv[3] ?? 50);
const rounds = Number(process.argv[4] ?? 5);

const p50 = (xs: readonly number[]) => summarize([...xs])?.p50?.toFixed(1) ?? '-';

const main = async () => {
  const cleanup = new Cleanup();
  try {
    const target = await startLocalTarget(cleanup);
    const runId = `pp${Date.now().toString(36)}`;
    console.log(`profile          ack p50  visible p50  observed p50   (n=${commands})`);
    for (const profile of target.profiles) {
      const ack: number[] = [];
      const visible: number[] = [];
      const observed: number[] = [];
      const id = `${runId}-ack-${profile.tag}`;
      await profile.execute(
        id,
        { type: 'order/create', payload: { customerId: 'probe', currency: 'EUR' } },
        { visible: true, observe: true },
      );
      for (let i = 0; i < commands; i++) {
        const outcome = await profile.execute(
          id,
          {
            type: 'order/addLine',
            payload: { lineId: `l${i}`, sku: 'SKU-1', quantity: 1, unitPrice: 990 },
          },
          { visible: true, observe: true },
        );
        if (!outcome.ok) continue;
        ack.push(outcome.ackMs);
        visible.push(outcome.visibleMs ?? outcome.ackMs);
        observed.push(outcome.observedMs ?? outcome.visibleMs ?? outcome.ackMs);
      }
      console.log(
        `${profile.name.padEnd(16)} ${p50(ack).padStart(7)}  ${p50(visible).padStart(11)}  ${p50(observed).padStart(12)}`,
      );
    }
    const figures = await runPushLatency(
      target.profiles,
      target.websockets ?? {},
      { commands, warmup: 3, fanout: { subscribers, rounds } },
      runId,
      () => undefined,
      target.followers,
    );
    const fixed = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(1)).padStart(8);
    console.log(
      'profile          push p50  push p95  ack p50  visible p50  push-visible  fan-out last p50 (subscribers)  last/push',
    );
    for (const [name, f] of Object.entries(figures)) {
      const push = f.latency?.p50;
      const visible = f.writer?.visible?.p50;
      const last = f.fanout.last?.p50;
      console.log(
        `${name.padEnd(16)} ${fixed(push)}  ${fixed(f.latency?.p95)} ${fixed(f.writer?.ack?.p50)}  ${fixed(visible)}     ${fixed(push !== undefined && visible !== undefined ? push - visible : undefined)}  ${fixed(last)} (${f.fanout.subscribers}, errors ${f.fanout.errors}, push errors ${f.errors})  ${push && last ? (last / push).toFixed(2) : '-'}`,
      );
    }
  } finally {
    await cleanup.run();
  }
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
