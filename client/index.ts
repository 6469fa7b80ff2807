/**
 * The Redux client of the deployment's API, for every aggregate it serves (browser and Node
 * 20+; no AWS SDK, no Node built-in).
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
  type ReadModelAnswer,
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
export {
  createLiveClient,
  type LiveClient,
  type LiveClientOptions,
  type LiveSocket,
  type LiveSocketFactory,
} from './live';
export { indexedDbStorage, memoryStorage, type IdbFactory, type OutboxStorage } from './outbox';
export {
  clientReducer,
  confirmAnswer,
  initialClientState,
  optimisticView,
  selectCommandStatus,
  selectConfirmedView,
  selectIsSender,
  selectIsSubscribed,
  selectLastPushedVersion,
  selectLiveConnected,
  selectOnline,
  selectOptimisticView,
  selectOutboxLength,
  selectPendingCommands,
  selectSubscribedIds,
  selectSubscriptionStatus,
  selectView,
  sendCommand,
  subscribeTo,
  unsubscribeFrom,
  viewLoaded,
  type ClientAction,
  type ClientState,
  type CommandConfirmedAction,
  type CommandQueuedAction,
  type CommandRejectedAction,
  type CommandRejection,
  type CommandRetryingAction,
  type CommandStatus,
  type ConfirmedView,
  type ConnectionChangedAction,
  type LiveConnectionAction,
  type LiveState,
  type LiveSubscribeAction,
  type LiveSubscription,
  type LiveSubscriptionError,
  type LiveSubscriptionStatus,
  type LiveSubscriptionStatusAction,
  type LiveUnsubscribeAction,
  type OptimisticView,
  type OutboxEntry,
  type OutboxRestoredAction,
  type PendingOutcome,
  type SendCommandAction,
  type SenderChangedAction,
  type ViewLoadedAction,
  type ViewPushedAction,
} from './state';
export {
  CLIENT_AGGREGATES,
  type ClientAggregate,
  type DeploymentCommand,
  type DeploymentView,
} from './aggregates';
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
export type { ShoppingListCommand, ShoppingListView } from '../lambdas/domain/shopping-list';
export type { OwnedList, OwnerLists } from '../lambdas/domain/shopping-list/projections';
