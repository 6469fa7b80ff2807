/** The order fulfilment workflow: orders reserve stock (issue 22). */
export {
  fulfilmentProcess,
  reactToFulfilment,
  RESERVATION_TIMEOUT_MS,
  type FulfilmentState,
  type FulfilmentStatus,
} from './process';
