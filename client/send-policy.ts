/**
 * The command client's decisions other than retrying (client/retry-policy.ts), as pure
 * functions, each rule one test (test/unit/client-send-policy.test.ts); the middleware
 * (client/client.ts) does the I/O around them:
 *
 * - what to send next: the head of each aggregate's outbox, once its record is written
 *   (durable), one send in flight per aggregate;
 * - what the outbox is after reading storage: storage is the truth, plus the commands this
 *   client is still writing;
 * - what a settled answer means: the action every tab applies, the outcome a dispatch gets,
 *   and whether the aggregate must be re-read (a confirmation that does not follow what we
 *   know);
 * - what a failed send says about the connection.
 */
import {
  ApiError,
  type CommandAnswer,
  type CommandRequest,
  NetworkError,
  SignInRequiredError,
} from './api';
import { aggregateOfCommand, aggregateOfType, type ClientAggregate } from './aggregates';
import {
  type CommandConfirmedAction,
  type CommandRejectedAction,
  type CommandRejection,
  type CommandUnknownAction,
  type ConfirmedView,
  confirmAnswer,
  type OutboxEntry,
} from './state';

// ---- what to send next -------------------------------------------------------------------------

/** Command ids whose outbox record is written: only these may be sent. */
export type Durable = ReadonlySet<string>;

/** The command to send next for an aggregate: the head of its outbox, if it is durable. */
export const nextToSend = (
  outbox: readonly OutboxEntry[],
  aggregateId: string,
  durable: Durable,
): OutboxEntry | undefined => {
  const head = outbox.find((e) => e.aggregateId === aggregateId);
  return head && durable.has(head.commandId) ? head : undefined;
};

/**
 * The aggregates whose send loop should start (in outbox order): a head to send (written) and
 * no loop of theirs running. A written command behind one still being written waits for it: a
 * loop started for it would find nothing to send, end, and be started again, in a loop of
 * microtasks that never lets the write complete.
 */
export const aggregatesToStart = (
  outbox: readonly OutboxEntry[],
  durable: Durable,
  running: ReadonlySet<string> | ReadonlyMap<string, unknown>,
): string[] =>
  [...new Set(outbox.map((e) => e.aggregateId))].filter(
    (id) => !running.has(id) && nextToSend(outbox, id, durable) !== undefined,
  );

/** The request of a send (every send of a command carries its commandId). */
export const requestOf = (entry: OutboxEntry): CommandRequest => ({
  type: entry.type,
  aggregateId: entry.aggregateId,
  payload: entry.payload,
  commandId: entry.commandId,
  ...(entry.expectedVersion !== undefined && { expectedVersion: entry.expectedVersion }),
  // The API client sends it only with this user's token.
  ...(entry.user !== undefined && { user: entry.user }),
});

/** A dispatch order that only grows, across restarts and tabs (µs since epoch, or one more). */
export const nextSeq = (lastSeq: number, nowMs: number): number =>
  Math.max(nowMs * 1000, lastSeq + 1);

// ---- restoring from storage --------------------------------------------------------------------

/**
 * The stored commands of the user signed in (`subject`; `undefined`: nobody known, so the
 * commands queued without a user). Another user's stay in storage, unseen and unsent, until
 * they sign in again or sign out.
 */
export const entriesOfUser = (
  stored: readonly OutboxEntry[],
  subject: string | undefined,
): OutboxEntry[] => stored.filter((e) => e.user === subject);

/**
 * The outbox after reading storage: storage is the truth for what is pending (another tab may
 * have settled or added some); the commands whose record this client is still writing (not
 * durable, not stored yet) are kept.
 */
export const mergeRestored = (
  stored: readonly OutboxEntry[],
  local: readonly OutboxEntry[],
  durable: Durable,
): OutboxEntry[] => {
  const storedIds = new Set(stored.map((e) => e.commandId));
  const writing = local.filter((e) => !durable.has(e.commandId) && !storedIds.has(e.commandId));
  return [...stored, ...writing];
};

// ---- what a settled answer means ---------------------------------------------------------------

export type SettledAction = CommandConfirmedAction | CommandRejectedAction | CommandUnknownAction;

/** The server's answer to a send. */
export const confirmationOf = (
  entry: OutboxEntry,
  answer: CommandAnswer,
): CommandConfirmedAction => ({
  type: 'command/confirmed',
  payload: {
    commandId: entry.commandId,
    aggregateId: entry.aggregateId,
    version: answer.version,
    events: answer.events,
    ...(answer.view !== undefined && { view: answer.view }),
    replayed: answer.replayed,
  },
});

/** A final error; a conflict is a 409 on a command sent with `expectedVersion`. */
export const rejectionOf = (entry: OutboxEntry, error: ApiError): CommandRejectedAction => ({
  type: 'command/rejected',
  payload: {
    commandId: entry.commandId,
    aggregateId: entry.aggregateId,
    status: error.status,
    code: error.code,
    message: error.message,
    details: error.details,
    conflict:
      error.status === 409 &&
      error.code === 'VERSION_CONFLICT' &&
      entry.expectedVersion !== undefined,
  },
});

/** Given up after `maxPendingMs` of resends (client/retry-policy.ts). */
export const unknownOf = (entry: OutboxEntry): CommandUnknownAction => ({
  type: 'command/unknown',
  payload: { commandId: entry.commandId, aggregateId: entry.aggregateId },
});

/** A command whose outbox record could not be written is never sent: it is rejected here. */
export const notStoredOf = (entry: OutboxEntry, error: unknown): CommandRejectedAction => ({
  type: 'command/rejected',
  payload: {
    commandId: entry.commandId,
    aggregateId: entry.aggregateId,
    status: 0,
    code: 'INTERNAL',
    message: `The outbox could not store the command: ${String(error)}`,
    details: {},
    conflict: false,
  },
});

export type CommandOutcome =
  | {
      readonly state: 'confirmed';
      readonly commandId: string;
      readonly aggregateId: string;
      readonly version: number;
      readonly replayed: boolean;
    }
  | ({
      readonly state: 'rejected';
      readonly commandId: string;
      readonly aggregateId: string;
    } & CommandRejection)
  | {
      /** Resent for `maxPendingMs` with no final answer: it may or may not have been applied. */
      readonly state: 'unknown';
      readonly commandId: string;
      readonly aggregateId: string;
    };

/** What the dispatch's promise settles with. */
export const outcomeOf = (action: SettledAction): CommandOutcome => {
  switch (action.type) {
    case 'command/confirmed': {
      const { commandId, aggregateId, version, replayed } = action.payload;
      return { state: 'confirmed', commandId, aggregateId, version, replayed };
    }
    case 'command/rejected':
      return { state: 'rejected', ...action.payload };
    case 'command/unknown':
      return { state: 'unknown', ...action.payload };
  }
};

/**
 * The aggregate to re-read (from its collection's history, at the confirmed version) after a
 * confirmation whose events do not follow what is known (the aggregate was never read here, or
 * changed elsewhere): they are not folded onto a wrong base. `undefined`: nothing to re-read.
 * The events name their aggregate; a replay without events, the command's type does.
 */
export const rereadAfterConfirmation = (
  known: ConfirmedView | undefined,
  answer: CommandConfirmedAction['payload'],
  commandType: string | undefined,
): ClientAggregate | undefined => {
  if (confirmAnswer(known, answer) !== undefined) return undefined;
  const first = answer.events[0];
  return (first && aggregateOfType(first.aggregateType)) ?? aggregateOfCommand(commandType ?? '');
};

// ---- what a failed send says about the connection ----------------------------------------------

/**
 * No answer means offline; an answer (a 5xx too) means online. Anything else (a signing hook
 * that failed, say) says nothing: `undefined`.
 */
export const onlineAfterFailure = (error: unknown): boolean | undefined =>
  error instanceof NetworkError
    ? false
    : error instanceof ApiError
      ? true
      : error instanceof SignInRequiredError && error.reason === 'refused'
        ? true
        : undefined;
