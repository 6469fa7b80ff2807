/**
 * The order fulfilment workflow, a process manager per order (docs/guide/workflows.md):
 *
 * - `order/submitted`: reserve each SKU of the order (its lines summed per SKU) in the
 *   inventory, and set a timer (RESERVATION_TIMEOUT_MS).
 * - Every reservation accepted: `order/confirm`. Any refused (not enough stock, an unknown SKU):
 *   release those made, and `order/reject` with the SKUs short.
 * - The order could not be confirmed (cancelled meanwhile): release what it holds.
 * - `order/cancelled` or `order/deleted` of a confirmed order: release its reservations.
 * - The timer, while reservations are still being made (a step failed and waits for its retry
 *   or its redrive): release what is held and reject the order as timed out.
 *
 * Pure: what it knows of the outcome of its commands comes in as input, never from a read.
 */
import type { EventAction } from '../../core/events/events';
import { isStaff } from '../../core/identity/authorization';
import type {
  CommandOutcome,
  ProcessCommand,
  ProcessInput,
  ProcessManager,
  ProcessStep,
} from '../../core/workflows/process-manager';
import { AGGREGATE_ID_PATTERN } from '../../core/projections/collections';
import { orderAggregate } from '../order';
import type { OrderState } from '../order/reducer';

/** How long reservations may stay unconfirmed before the order is rejected as timed out. */
export const RESERVATION_TIMEOUT_MS = 15 * 60 * 1000;

export type FulfilmentStatus = 'reserving' | 'confirmed' | 'rejected' | 'cancelled';

export interface FulfilmentState {
  readonly orderId: string;
  readonly status: FulfilmentStatus;
  /** SKU -> units the order needs (its lines at submission, summed per SKU). */
  readonly wanted: Readonly<Record<string, number>>;
  /** SKUs whose reservation is held for the order (accepted, not yet released). */
  readonly reserved: readonly string[];
  /** SKUs whose reservation was refused. */
  readonly short: readonly string[];
}

const reserve = (orderId: string, sku: string, quantity: number): ProcessCommand => ({
  key: `reserve:${sku}`,
  type: 'inventory/reserve',
  aggregateId: sku,
  payload: { orderId, quantity },
});

const release = (orderId: string, sku: string): ProcessCommand => ({
  key: `release:${sku}`,
  type: 'inventory/release',
  aggregateId: sku,
  payload: { orderId },
});

const releaseAll = (state: FulfilmentState) =>
  state.reserved.map((sku) => release(state.orderId, sku));

/** The units per SKU of the order's lines. */
const wantedOf = (order: OrderState): Record<string, number> => {
  const wanted: Record<string, number> = {};
  for (const line of order?.lines ?? []) wanted[line.sku] = (wanted[line.sku] ?? 0) + line.quantity;
  return wanted;
};

const without = (list: readonly string[], item: string) => list.filter((x) => x !== item);

const onEvent = (
  state: FulfilmentState | undefined,
  event: EventAction,
  before: OrderState,
): ProcessStep<FulfilmentState | undefined> => {
  switch (event.type) {
    case 'order/submitted': {
      const orderId = event.meta.aggregateId;
      const wanted = wantedOf(before);
      return {
        state: { orderId, status: 'reserving', wanted, reserved: [], short: [] },
        send: Object.entries(wanted).map(([sku, quantity]) => reserve(orderId, sku, quantity)),
        timer: { name: 'reservation-timeout', afterMs: RESERVATION_TIMEOUT_MS },
      };
    }
    case 'order/cancelled':
    case 'order/deleted':
      // A confirmed order, or one still reserving (its step failed): give the stock back.
      if (!state || (state.status !== 'confirmed' && state.status !== 'reserving'))
        return { state };
      return { state: { ...state, status: 'cancelled' }, send: releaseAll(state) };
    default:
      return { state };
  }
};

const onOutcomes = (
  state: FulfilmentState,
  outcomes: readonly CommandOutcome[],
): ProcessStep<FulfilmentState> => {
  let next = state;
  let confirmRefused = false;
  for (const outcome of outcomes) {
    const { type, aggregateId: sku } = outcome.command;
    if (type === 'inventory/reserve') {
      next = outcome.accepted
        ? { ...next, reserved: [...next.reserved, sku] }
        : { ...next, short: [...next.short, sku] };
    } else if (type === 'inventory/release') {
      // Accepted, or refused because nothing is held: either way it holds nothing now.
      next = { ...next, reserved: without(next.reserved, sku) };
    } else if (type === 'order/confirm') {
      if (outcome.accepted) next = { ...next, status: 'confirmed' };
      else confirmRefused = true;
    }
  }
  if (next.status !== 'reserving') return { state: next };
  if (confirmRefused) {
    // Cancelled while its stock was being reserved: the order keeps nothing.
    return { state: { ...next, status: 'cancelled' }, send: releaseAll(next) };
  }
  const settled = next.reserved.length + next.short.length === Object.keys(next.wanted).length;
  if (!settled) return { state: next };
  if (next.short.length === 0) {
    return {
      state: next,
      send: [{ key: 'confirm', type: 'order/confirm', aggregateId: next.orderId, payload: {} }],
    };
  }
  return {
    state: { ...next, status: 'rejected' },
    send: [
      ...releaseAll(next),
      {
        key: 'reject',
        type: 'order/reject',
        aggregateId: next.orderId,
        payload: { reason: 'not-enough-stock', skusShort: [...next.short].sort() },
      },
    ],
  };
};

const onTimer = (state: FulfilmentState | undefined): ProcessStep<FulfilmentState | undefined> => {
  if (!state || state.status !== 'reserving') return { state };
  const notReserved = Object.keys(state.wanted).filter((sku) => !state.reserved.includes(sku));
  return {
    state: { ...state, status: 'rejected' },
    send: [
      ...releaseAll(state),
      {
        key: 'reject',
        type: 'order/reject',
        aggregateId: state.orderId,
        payload: { reason: 'timed-out', skusShort: notReserved.sort() },
      },
    ],
  };
};

export const reactToFulfilment = (
  state: FulfilmentState | undefined,
  input: ProcessInput<OrderState>,
): ProcessStep<FulfilmentState | undefined> => {
  switch (input.kind) {
    case 'event':
      return onEvent(state, input.event, input.before);
    case 'outcomes':
      return state ? onOutcomes(state, input.outcomes) : { state };
    case 'timer':
      return onTimer(state);
    default: {
      const unhandled: never = input;
      throw new Error(`Unhandled input ${(unhandled as ProcessInput).kind}`);
    }
  }
};

export const fulfilmentProcess: ProcessManager<FulfilmentState | undefined, OrderState> = {
  name: 'order-fulfilment',
  version: 1,
  source: orderAggregate,
  eventTypes: ['order/submitted', 'order/cancelled', 'order/deleted'],
  processKey: (event) => event.meta.aggregateId,
  react: reactToFulfilment,
  // Staff follow a fulfilment; the customer follows the order itself.
  canRead: (principal) => isStaff(principal),
  keyPattern: AGGREGATE_ID_PATTERN,
};
