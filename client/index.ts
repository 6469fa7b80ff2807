/**
 * The Redux client of the orders API (browser and Node 20+; no AWS SDK, no Node built-in).
 * Node-only extras (a JSON file outbox) are in `client/node`.
 */
export {
  ApiError,
  createApiClient,
  NetworkError,
  toApiError,
  type ApiClient,
  type ApiClientOptions,
  type ApiErrorCode,
  type ClientCommand,
  type CommandAnswer,
  type CommandRequest,
  type EventPage,
  type HistoryAnswer,
  type HistoryQuery,
  type ListOrdersQuery,
  type OrderPage,
  type OutgoingRequest,
  type SignRequest,
} from './api';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
export {
  createCommandClient,
  type CommandClient,
  type CommandClientOptions,
  type CommandDispatch,
  type CommandOutcome,
  type CommandPromise,
} from './client';
export { indexedDbStorage, memoryStorage, type IdbFactory, type OutboxStorage } from './outbox';
export {
  clientReducer,
  confirmAnswer,
  initialClientState,
  optimisticOrder,
  orderLoaded,
  selectCommandStatus,
  selectConfirmedOrder,
  selectIsSender,
  selectOnline,
  selectOptimisticOrder,
  selectOrder,
  selectOutboxLength,
  selectPendingCommands,
  sendCommand,
  type ClientAction,
  type ClientState,
  type CommandConfirmedAction,
  type CommandQueuedAction,
  type CommandRejectedAction,
  type CommandRejection,
  type CommandRetryingAction,
  type CommandStatus,
  type ConfirmedOrder,
  type ConnectionChangedAction,
  type OptimisticOrder,
  type OrderLoadedAction,
  type OutboxEntry,
  type OutboxRestoredAction,
  type PendingOutcome,
  type SendCommandAction,
  type SenderChangedAction,
} from './state';
export {
  broadcastChannel,
  memoryLock,
  noLock,
  webLock,
  type SenderLock,
  type SyncChannel,
  type SyncMessage,
} from './tabs';
export type { OrderCommand, OrderStatus, OrderView } from '../lambdas/domain/order';
