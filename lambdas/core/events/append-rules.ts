import type { StoredEvent } from './events';

/**
 * Maximum events one command may append: DynamoDB transactions take at most 100 items, and an
 * append also carries the previous version's ConditionCheck, the command's idempotency marker
 * and (coupled profile) the read-model row.
 */
export const MAX_EVENTS_PER_APPEND = 97;

/**
 * Checks what every adapter requires of an append (one aggregate, consecutive versions) and
 * returns the first event, or undefined when there is nothing to append. A violation is a bug
 * in the caller, not a user error, so it throws a plain Error.
 */
export const assertAppendable = (events: readonly StoredEvent[]): StoredEvent | undefined => {
  const first = events[0];
  if (!first) return undefined;
  if (events.length > MAX_EVENTS_PER_APPEND) {
    throw new Error(`At most ${MAX_EVENTS_PER_APPEND} events per append, got ${events.length}`);
  }
  events.forEach((event, index) => {
    if (event.aggregateId !== first.aggregateId || event.version !== first.version + index) {
      throw new Error('An append takes consecutive versions of one aggregate');
    }
  });
  return first;
};
