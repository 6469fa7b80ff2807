/**
 * The demo's own slice, beside the client's: the activity list (each command the user made and
 * how it ended, kept in localStorage so a reload keeps it) and the aggregates the server no
 * longer has (a 404 for one this browser shows, e.g. after `npm start` restarted in memory).
 * Pure: it reads the client's actions (and one of its own).
 */
import type { UnknownAction } from 'redux';
import type { ClientAction } from '../client';

/** At most this many commands are kept (newest first): localStorage is small and shared. */
export const ACTIVITY_LIMIT = 50;

export interface FieldIssue {
  /** As the API names it, e.g. `payload.quantity`. */
  readonly path: string;
  readonly message: string;
}

export interface ActivityEntry {
  readonly commandId: string;
  readonly type: string;
  readonly aggregateId: string;
  /** `elsewhere`: it left the outbox while this page was closed (another tab settled it). */
  readonly state: 'pending' | 'confirmed' | 'rejected' | 'unknown' | 'elsewhere';
  readonly attempts?: number;
  readonly lastError?: string;
  readonly version?: number;
  readonly replayed?: boolean;
  readonly status?: number;
  readonly code?: string;
  readonly message?: string;
  /** A VALIDATION_FAILED answer's `details.issues`: which field, and why. */
  readonly issues?: readonly FieldIssue[];
}

export interface DemoState {
  /** Newest first. */
  readonly activity: readonly ActivityEntry[];
  /** Ids the server answered 404 for while this browser showed them: why, by id. */
  readonly gone: Readonly<Record<string, string>>;
}

export const initialDemoState: DemoState = { activity: [], gone: {} };

/** A GET answered 404 for an aggregate this browser shows, and its events are gone too. */
export interface AggregateGoneAction {
  readonly type: 'demo/gone';
  readonly payload: { readonly id: string; readonly reason: string };
}

export const aggregateGone = (id: string, reason: string): AggregateGoneAction & UnknownAction => ({
  type: 'demo/gone',
  payload: { id, reason },
});

const issuesOf = (details: Record<string, unknown> | undefined): FieldIssue[] | undefined => {
  const issues = details?.issues;
  if (!Array.isArray(issues)) return undefined;
  return issues.filter(
    (i): i is FieldIssue =>
      typeof (i as FieldIssue)?.path === 'string' && typeof (i as FieldIssue)?.message === 'string',
  );
};

const update = (
  activity: readonly ActivityEntry[],
  commandId: string,
  change: (entry: ActivityEntry) => ActivityEntry,
) => {
  const index = activity.findIndex((e) => e.commandId === commandId);
  if (index < 0) return activity;
  const next = [...activity];
  next[index] = change(activity[index]!);
  return next;
};

const reduceActivity = (
  activity: readonly ActivityEntry[],
  action: ClientAction,
): readonly ActivityEntry[] => {
  switch (action.type) {
    case 'command/queued': {
      const { commandId, type, aggregateId } = action.payload;
      if (activity.some((e) => e.commandId === commandId)) return activity;
      const entry: ActivityEntry = { commandId, type, aggregateId, state: 'pending' };
      return [entry, ...activity].slice(0, ACTIVITY_LIMIT);
    }
    case 'command/retrying':
      return update(activity, action.payload.commandId, (e) => ({
        ...e,
        attempts: action.payload.attempts,
        lastError: action.payload.error,
      }));
    case 'command/confirmed':
      return update(activity, action.payload.commandId, (e) => ({
        commandId: e.commandId,
        type: e.type,
        aggregateId: e.aggregateId,
        state: 'confirmed',
        version: action.payload.version,
        replayed: action.payload.replayed,
      }));
    case 'command/rejected': {
      const { status, code, message, details } = action.payload;
      const issues = issuesOf(details);
      return update(activity, action.payload.commandId, (e) => ({
        commandId: e.commandId,
        type: e.type,
        aggregateId: e.aggregateId,
        state: 'rejected',
        status,
        code,
        message,
        ...(issues && { issues }),
      }));
    }
    case 'command/unknown':
      return update(activity, action.payload.commandId, (e) => ({ ...e, state: 'unknown' }));
    case 'outbox/restored': {
      // Pending here but no longer in the shared outbox: settled by a tab we did not hear from.
      const stored = new Set(action.payload.entries.map((e) => e.commandId));
      const settledElsewhere = activity.some(
        (e) => e.state === 'pending' && !stored.has(e.commandId),
      );
      if (!settledElsewhere) return activity;
      return activity.map((e) =>
        e.state === 'pending' && !stored.has(e.commandId) ? { ...e, state: 'elsewhere' } : e,
      );
    }
    case 'view/loaded':
    case 'view/pushed':
    case 'connection/changed':
    case 'sender/changed':
    case 'live/subscribe':
    case 'live/unsubscribe':
    case 'live/connection':
    case 'live/status':
    case 'client/configured':
    case 'app/outdated':
    case 'identity/changed':
    case 'identity/signInRequired':
    case 'identity/signedOut':
      return activity;
    default:
      return activity;
  }
};

const without = (gone: DemoState['gone'], id: string) => {
  if (!(id in gone)) return gone;
  const next = { ...gone };
  delete next[id];
  return next;
};

const reduceGone = (gone: DemoState['gone'], action: ClientAction | AggregateGoneAction) => {
  switch (action.type) {
    case 'demo/gone':
      return { ...gone, [action.payload.id]: action.payload.reason };
    case 'command/rejected':
      // A command for an aggregate the server does not have (any other 404 is a route's).
      return action.payload.code === 'NOT_FOUND'
        ? { ...gone, [action.payload.aggregateId]: action.payload.message }
        : gone;
    case 'command/confirmed':
      return without(gone, action.payload.aggregateId);
    case 'view/loaded':
    case 'view/pushed':
      // The server has it again (a newer state than when it went missing).
      return action.payload.view ? without(gone, action.payload.id) : gone;
    case 'command/queued':
    case 'command/retrying':
    case 'command/unknown':
    case 'outbox/restored':
    case 'connection/changed':
    case 'sender/changed':
    case 'live/subscribe':
    case 'live/unsubscribe':
    case 'live/connection':
    case 'live/status':
    case 'client/configured':
    case 'app/outdated':
    case 'identity/changed':
    case 'identity/signInRequired':
    case 'identity/signedOut':
      return gone;
    default:
      return gone;
  }
};

export const demoReducer = (
  state: DemoState = initialDemoState,
  action: UnknownAction,
): DemoState => {
  const a = action as unknown as ClientAction | AggregateGoneAction;
  const activity = reduceActivity(state.activity, a as ClientAction);
  const gone = reduceGone(state.gone, a);
  return activity === state.activity && gone === state.gone ? state : { activity, gone };
};

/** The activity as saved: only what the list shows, newest first, bounded. */
export const restoreActivity = (saved: unknown): ActivityEntry[] =>
  Array.isArray(saved)
    ? (saved as ActivityEntry[])
        .filter((e) => typeof e?.commandId === 'string' && typeof e.type === 'string')
        .slice(0, ACTIVITY_LIMIT)
    : [];

/** The last settled command of `aggregateId`, if it was rejected: what the page shows on top. */
export const lastRejection = (
  activity: readonly ActivityEntry[],
  aggregateId: string,
): ActivityEntry | undefined => {
  const last = activity.find((e) => e.aggregateId === aggregateId && e.state !== 'pending');
  return last?.state === 'rejected' ? last : undefined;
};

/** The message for one field (`quantity`) of a rejected command's payload, if it had one. */
export const issueFor = (rejection: ActivityEntry | undefined, field: string) =>
  rejection?.issues?.find((i) => i.path === `payload.${field}`)?.message;
