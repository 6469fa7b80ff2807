/**
 * One Powertools child logger per invocation, reused across invocations instead of built anew.
 * A child is a whole Logger: its constructor reads the environment again and builds a new
 * Console, which made it the largest part of the handler's own time (docs/benchmark.md,
 * "Framework overhead"). An invocation takes a free child (or makes one when every child is busy:
 * concurrent requests in the local gateway) and gives it back when it has answered, with its
 * keys cleared. No two running invocations ever share a child, so their keys never mix.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

export interface InvocationLoggers {
  /** A child for this invocation: the parent's level now, this context (if any), no keys. */
  acquire(context?: Context): Logger;
  /** Gives the child back once the invocation has answered; it must not be used after. */
  release(log: Logger, context?: Context): void;
}

export const createInvocationLoggers = (parent: Logger): InvocationLoggers => {
  // `addContext` cannot be undone: children that carried a Lambda context serve only
  // invocations that bring their own (which overwrites every field of the previous one).
  const withContext: Logger[] = [];
  const withoutContext: Logger[] = [];
  return {
    acquire(context) {
      const log = (context ? withContext : withoutContext).pop() ?? parent.createChild();
      // A child takes its parent's level when it is made; follow later changes too.
      if (log.level !== parent.level) log.setLogLevel(parent.getLevelName());
      if (context) log.addContext(context);
      return log;
    },
    release(log, context) {
      log.resetKeys();
      (context ? withContext : withoutContext).push(log);
    },
  };
};
